package lockmodel

// This file holds the deterministic half of the model: what one operation with
// a known answer does to one state, and what an operation of unknown outcome
// does when it takes effect. Lease expiry, the nondeterministic half, is in
// model.go.

// one wraps a single next state.
func one(s *state) []*state { return []*state{s} }

// step returns the states an operation with a known answer may lead to from s
// without any lease expiring first; none when the answer is impossible in s.
func step(opts Options, s *state, in Input, out Output) []*state {
	if out.Status == StatusRejected {
		return one(s)
	}
	switch in.Kind {
	case KindCreateLease:
		return stepCreate(s, out)
	case KindKeepAlive:
		return stepKeepAlive(s, in, out)
	case KindRevoke:
		return stepRevoke(s, in, out)
	case KindAcquire, KindCampaign:
		return stepAcquire(s, in, out)
	case KindRelease, KindResign:
		return stepRelease(s, in, out)
	case KindFence, KindProclaim:
		return stepFence(opts, s, in, out)
	case KindRead, KindLeader:
		return stepRead(s, in, out)
	}
	return nil
}

func stepCreate(s *state, out Output) []*state {
	if out.Status != StatusOK {
		return nil
	}
	if out.Lease == 0 {
		return one(s) // the client did not record the id: nothing to check
	}
	if _, known := s.lease(out.Lease); known {
		return nil // a lease id is an index: never handed out twice
	}
	t := s.clone()
	if !t.observe(uint64(out.Lease)) {
		return nil
	}
	t.setLease(out.Lease, false)
	return one(t)
}

func stepKeepAlive(s *state, in Input, out Output) []*state {
	l, known := s.lease(in.Lease)
	switch out.Status {
	case StatusOK:
		if known && l.dead {
			return nil
		}
		if known {
			return one(s)
		}
		t := s.clone()
		t.setLease(in.Lease, false)
		return one(t)
	case StatusNotFound:
		if known && !l.dead {
			return nil // expiry first is the other branch model.go tries
		}
		if known {
			return one(s)
		}
		t := s.clone()
		t.setLease(in.Lease, true)
		return one(t)
	}
	return nil
}

func stepRevoke(s *state, in Input, out Output) []*state {
	l, known := s.lease(in.Lease)
	switch out.Status {
	case StatusOK:
		if known && l.dead {
			return nil
		}
		t := s.clone()
		t.kill(in.Lease)
		return one(t)
	case StatusNotFound:
		return stepKeepAlive(s, in, out)
	}
	return nil
}

func stepAcquire(s *state, in Input, out Output) []*state {
	o, i := s.object(keyOf(in))
	switch out.Status {
	case StatusOK:
		if !o.held {
			return grant(s, in, out)
		}
		// A retry by the holding lease: the current grant, no new token.
		if in.Lease == 0 || o.h.lease != in.Lease {
			return nil
		}
		if out.Token == 0 {
			return one(s)
		}
		t := s.clone()
		if !t.pinToken(i, out.Token) {
			return nil
		}
		return one(t)
	case StatusLockHeld:
		// The lock table looks the lease up first: lock_held proves it alive.
		if !o.held || (in.Lease != 0 && !s.mayBeAlive(in.Lease)) {
			return nil
		}
		t := s.clone()
		if in.Lease != 0 {
			t.setLease(in.Lease, false)
		}
		if out.Token != 0 && !t.pinToken(i, out.Token) {
			return nil
		}
		if out.Lease != 0 && !t.pinLease(i, out.Lease) {
			return nil
		}
		return one(t)
	case StatusNotFound:
		if in.Lease == 0 {
			return one(s) // the lease it created expired while it waited
		}
		return stepKeepAlive(s, in, out)
	}
	return nil
}

// grant linearizes a successful acquire or campaign of a free object.
func grant(s *state, in Input, out Output) []*state {
	t := s.clone()
	h := holder{lease: in.Lease, owner: in.Owner, value: in.Value}
	if in.Lease != 0 {
		if out.Lease != 0 && out.Lease != in.Lease {
			return nil
		}
		if !t.mayBeAlive(in.Lease) {
			return nil
		}
		t.setLease(in.Lease, false)
	} else {
		// The lease is created by the granting entry for this object alone.
		h.lease, h.ownLease = out.Lease, true
		if out.Lease != 0 {
			if _, known := t.lease(out.Lease); known {
				return nil
			}
			t.setLease(out.Lease, false)
		}
	}
	if !observeGrant(t, &h, out) {
		return nil
	}
	t.setObject(object{key: keyOf(in), held: true, h: h})
	return one(t)
}

// observeGrant records the token a grant produced. The id of a lease the
// acquire created is not ordered: the acquire's entry created it, which for a
// waiting acquire comes before the granting entry and before indices other
// operations may have shown in between (Check orders it in real time).
func observeGrant(t *state, h *holder, out Output) bool {
	if out.Token == 0 {
		h.tokenLo, h.tokenHi = t.observeUnknown(), unknownTokenHi
		return true
	}
	h.token = out.Token
	return t.observe(uint64(out.Token))
}

// stepRelease handles release of a lock and resign of an election: both
// succeed iff the token is the current holder's; otherwise release answers
// not_holder and resign not_leader (the lock table's rule; DESIGN.md §5 lists
// only resign's 200).
func stepRelease(s *state, in Input, out Output) []*state {
	o, i := s.object(keyOf(in))
	refusal := StatusNotHolder
	if in.Kind == KindResign {
		refusal = StatusNotLeader
	}
	switch out.Status {
	case StatusOK:
		if !o.mayMatchToken(in.Token) {
			return nil
		}
		t := s.clone()
		t.pinToken(i, in.Token)
		t.free(i)
		return one(t)
	case refusal:
		if o.surelyMatchesToken(in.Token) {
			return nil
		}
		return one(s)
	}
	return nil
}

// stepFence handles fence of a lock and proclaim of an election: both succeed
// iff the token is the current holder's. Under FenceHolderOrNewer a fence of a
// free lock may also succeed, with a token above every grant of that lock.
func stepFence(opts Options, s *state, in Input, out Output) []*state {
	o, i := s.object(keyOf(in))
	refusal := StatusStaleToken
	if in.Kind == KindProclaim {
		refusal = StatusNotLeader
	}
	newerRule := in.Kind == KindFence && opts.Fence == FenceHolderOrNewer && !o.held
	switch out.Status {
	case StatusOK:
		if newerRule {
			if in.Token <= o.newestLo {
				return nil
			}
			return one(s)
		}
		if !o.mayMatchToken(in.Token) {
			return nil
		}
		t := s.clone()
		t.pinToken(i, in.Token)
		if in.Kind == KindProclaim {
			t.objects[i].h.value = in.Value
		}
		return one(t)
	case refusal:
		if o.surelyMatchesToken(in.Token) {
			return nil
		}
		return one(s) // under the newer rule the server compares with more grants than one lock's
	}
	return nil
}

// stepRead handles linearizable reads of a lock or an election.
func stepRead(s *state, in Input, out Output) []*state {
	o, i := s.object(keyOf(in))
	if out.Status == StatusNotFound || (out.Status == StatusOK && !out.Held) {
		if o.held {
			return nil
		}
		return one(s)
	}
	if out.Status != StatusOK {
		return nil
	}
	if !o.held {
		return nil
	}
	if in.Kind == KindRead && out.Owner != o.h.owner {
		return nil
	}
	if in.Kind == KindLeader && out.Value != o.h.value {
		return nil
	}
	t := s.clone()
	if out.Token != 0 && !t.pinToken(i, out.Token) {
		return nil
	}
	if out.Lease != 0 && !t.pinLease(i, out.Lease) {
		return nil
	}
	return one(t)
}

// effect returns the state after an operation of unknown outcome takes effect
// in s, or nil when it cannot change s. An operation without effect is the
// same as one linearized after everything else, which the checker always
// tries, so only effects need states.
func effect(s *state, in Input) *state {
	o, i := s.object(keyOf(in))
	switch in.Kind {
	case KindRevoke:
		if !s.mayBeAlive(in.Lease) {
			return nil
		}
		t := s.clone()
		t.kill(in.Lease)
		return t
	case KindAcquire, KindCampaign:
		if o.held || (in.Lease != 0 && !s.mayBeAlive(in.Lease)) {
			return nil
		}
		next := grant(s, in, Output{Status: StatusOK})
		assertf(len(next) == 1, "grant of free %s refused", o.key)
		return next[0]
	case KindRelease, KindResign, KindProclaim:
		if !o.mayMatchToken(in.Token) {
			return nil
		}
		t := s.clone()
		t.pinToken(i, in.Token)
		if in.Kind == KindProclaim {
			t.objects[i].h.value = in.Value
		} else {
			t.free(i)
		}
		return t
	}
	return nil
}
