package locks

import (
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// restorer reads a snapshot into a new table, validating as it goes. Every
// check here guards bytes from disk or the network: it returns an error
// wrapping ErrCorruptSnapshot, never panics.
type restorer struct {
	t   *Table
	dec *codec.Decoder
	hdr snapHeader
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorruptSnapshot}, args...)...)
}

func (rd *restorer) get(what string, v any) error {
	if err := rd.dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return corrupt("%s: truncated: %v", what, err)
		}
		return corrupt("%s: %v", what, err)
	}
	return nil
}

func (rd *restorer) run() error {
	if err := rd.header(); err != nil {
		return err
	}
	if err := rd.leases(); err != nil {
		return err
	}
	for _, election := range [2]bool{false, true} {
		if err := rd.locks(election); err != nil {
			return err
		}
	}
	if err := rd.dedups(); err != nil {
		return err
	}
	if err := rd.aclTokens(); err != nil {
		return err
	}
	var tr snapTrailer
	if err := rd.get("trailer", &tr); err != nil {
		return err
	}
	if tr.Magic != snapshotMagic {
		return corrupt("trailer magic %q, want %q", tr.Magic, snapshotMagic)
	}
	var extra any
	if err := rd.dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return corrupt("data after the trailer")
	}
	return rd.finish()
}

func (rd *restorer) header() error {
	h := &rd.hdr
	if err := rd.get("header", h); err != nil {
		return err
	}
	lim := rd.t.limits
	switch {
	case h.Magic != snapshotMagic:
		return corrupt("magic %q, want %q", h.Magic, snapshotMagic)
	case h.Version < snapshotVersionMin || h.Version > snapshotVersion:
		return corrupt("version %d, want %d..%d", h.Version, snapshotVersionMin, snapshotVersion)
	case h.ACLTokens < 0 || h.ACLTokens > lim.aclTokens:
		return corrupt("%d ACL tokens, max %d", h.ACLTokens, lim.aclTokens)
	case h.Version < 2 && h.ACLTokens != 0:
		return corrupt("version %d snapshot with %d ACL tokens", h.Version, h.ACLTokens)
	case h.Leases < 0 || h.Leases > lim.leases:
		return corrupt("%d leases, max %d", h.Leases, lim.leases)
	case h.Locks < 0 || h.Elections < 0 || h.Locks > lim.locks-h.Elections:
		return corrupt("%d locks and %d elections, max %d", h.Locks, h.Elections, lim.locks)
	case h.Dedup < 0 || h.Dedup > rd.t.dedup.max:
		return corrupt("%d dedup records, max %d", h.Dedup, rd.t.dedup.max)
	case h.NewestTime < 0:
		return corrupt("newest time %d is negative", h.NewestTime)
	case h.ForgottenMax > Token(h.Applied) || h.RemovedIndex > h.Applied:
		return corrupt("forgotten token %d or removed index %d above applied %d", h.ForgottenMax, h.RemovedIndex, h.Applied)
	}
	t := rd.t
	t.applied, t.newestTime, t.forgottenMax, t.removedIndex = h.Applied, h.NewestTime, h.ForgottenMax, h.RemovedIndex
	// The counts are within the limits: size the maps once.
	t.leases = make(map[LeaseID]*lease, h.Leases)
	t.locks = make(map[string]*lock, h.Locks)
	t.elections = make(map[string]*lock, h.Elections)
	return nil
}

func (rd *restorer) leases() error {
	t := rd.t
	var prev LeaseID
	for i := 0; i < rd.hdr.Leases; i++ {
		var sl snapLease
		if err := rd.get("lease", &sl); err != nil {
			return err
		}
		switch {
		case sl.ID <= prev:
			return corrupt("lease %d after lease %d", sl.ID, prev)
		case Index(sl.ID) > t.applied:
			return corrupt("lease %d above applied %d", sl.ID, t.applied)
		case sl.TTL < TTLMin || sl.TTL > TTLMax:
			return corrupt("lease %d: ttl %s outside [%s, %s]", sl.ID, sl.TTL, Duration(TTLMin), Duration(TTLMax))
		case sl.Checkpointed < 0 || sl.Checkpointed > sl.TTL:
			return corrupt("lease %d: checkpointed %s outside [0s, %s]", sl.ID, sl.Checkpointed, sl.TTL)
		case sl.ModifyIndex < Index(sl.ID) || sl.ModifyIndex > t.applied:
			return corrupt("lease %d: modify index %d outside [%d, %d]", sl.ID, sl.ModifyIndex, sl.ID, t.applied)
		case Index(sl.Creator) > t.applied:
			return corrupt("lease %d: creator %d above applied %d", sl.ID, sl.Creator, t.applied)
		}
		prev = sl.ID
		t.leases[sl.ID] = &lease{id: sl.ID, ttl: sl.TTL, grantedAt: sl.GrantedAt, checkpointed: sl.Checkpointed, modifyIndex: sl.ModifyIndex, single: sl.Single, creator: sl.Creator}
	}
	return nil
}

func (rd *restorer) locks(election bool) error {
	t := rd.t
	count, kind := rd.hdr.Locks, objectKind(election)
	if election {
		count = rd.hdr.Elections
	}
	ns := t.namespace(election)
	var prev string
	var sl snapLock
	for i := 0; i < count; i++ {
		sl = snapLock{Waiters: sl.Waiters[:0]}
		if err := rd.get(kind.String(), &sl); err != nil {
			return err
		}
		if i > 0 && sl.Name <= prev {
			return corrupt("%s %q after %q", kind, sl.Name, prev)
		}
		prev = sl.Name
		lk, err := rd.lock(kind, &sl)
		if err != nil {
			return err
		}
		ns[sl.Name] = lk
	}
	return nil
}

// lock validates one lock or election record and links it to its leases.
func (rd *restorer) lock(kind ObjectKind, sl *snapLock) (*lock, error) {
	t := rd.t
	election := kind == ObjectElection
	if err := ValidateName(sl.Name); err != nil {
		return nil, corrupt("%s: %v", kind, err)
	}
	h := sl.holder()
	if err := validHolder(kind, h.Owner, h.Value); err != nil {
		return nil, corrupt("%s %q holder: %v", kind, sl.Name, err)
	}
	switch {
	case h.Token == 0 || Token(t.applied) < h.Token:
		return nil, corrupt("%s %q: token %d outside [1, %d]", kind, sl.Name, h.Token, t.applied)
	case sl.ModifyIndex < Index(h.Token) || sl.ModifyIndex > t.applied:
		return nil, corrupt("%s %q: modify index %d outside [%d, %d]", kind, sl.Name, sl.ModifyIndex, h.Token, t.applied)
	case len(sl.Waiters) > WaitersPerLockMax:
		return nil, corrupt("%s %q: %d waiters, max %d", kind, sl.Name, len(sl.Waiters), WaitersPerLockMax)
	case t.waiters > t.limits.waiters-len(sl.Waiters):
		return nil, corrupt("more than %d waiters", t.limits.waiters)
	}
	if err := rd.link(h.LeaseID, holding{name: sl.Name, election: election}); err != nil {
		return nil, err
	}
	lk := &lock{holder: h, modifyIndex: sl.ModifyIndex}
	if len(sl.Waiters) > 0 {
		lk.waiters = make([]waiter, 0, len(sl.Waiters))
	}
	for i, w := range sl.Waiters {
		if err := validHolder(kind, w.Owner, w.Value); err != nil {
			return nil, corrupt("%s %q waiter %d: %v", kind, sl.Name, i, err)
		}
		if w.EnqueuedAt == 0 || w.EnqueuedAt > t.applied || (i > 0 && w.EnqueuedAt <= sl.Waiters[i-1].EnqueuedAt) {
			return nil, corrupt("%s %q waiter %d: enqueued at %d, out of order", kind, sl.Name, i, w.EnqueuedAt)
		}
		if w.LeaseID == h.LeaseID || lk.waiterIndex(w.LeaseID) >= 0 {
			return nil, corrupt("%s %q waiter %d: lease %d already holds or waits", kind, sl.Name, i, w.LeaseID)
		}
		if err := rd.link(w.LeaseID, holding{name: sl.Name, election: election, waiting: true}); err != nil {
			return nil, err
		}
		lk.waiters = append(lk.waiters, waiter{lease: w.LeaseID, owner: w.Owner, value: w.Value, enqueuedAt: w.EnqueuedAt})
	}
	t.waiters += len(lk.waiters)
	return lk, nil
}

func validHolder(kind ObjectKind, owner, value string) error {
	if n := len(owner); n > OwnerBytesMax {
		return fmt.Errorf("owner is %d bytes, max %d", n, OwnerBytesMax)
	}
	if n := len(value); n > ValueBytesMax {
		return fmt.Errorf("value is %d bytes, max %d", n, ValueBytesMax)
	}
	if kind == ObjectLock && value != "" {
		return fmt.Errorf("a lock holder has a value")
	}
	return nil
}

// link records that lease id holds or waits for o.
func (rd *restorer) link(id LeaseID, o holding) error {
	ls := rd.t.leases[id]
	if ls == nil {
		return corrupt("%s %q names absent lease %d", objectKind(o.election), o.name, id)
	}
	if len(ls.objs) >= ObjectsPerLeaseMax {
		return corrupt("lease %d: more than %d locks and elections", id, ObjectsPerLeaseMax)
	}
	if ls.single && len(ls.objs) > 0 {
		return corrupt("single lease %d holds or waits for more than one object", id)
	}
	ls.objs = append(ls.objs, o)
	return nil
}

func (rd *restorer) dedups() error {
	t := rd.t
	var prev Index
	for i := 0; i < rd.hdr.Dedup; i++ {
		var sd snapDedup
		if err := rd.get("dedup record", &sd); err != nil {
			return err
		}
		res, ok := sd.Result.result()
		switch {
		case sd.ID == "" || len(sd.ID) > RequestIDBytesMax:
			return corrupt("dedup record %d: request id of %d bytes, want 1..%d", i, len(sd.ID), RequestIDBytesMax)
		case sd.Index <= prev || sd.Index > t.applied:
			return corrupt("dedup record %q: index %d after %d, applied %d", sd.ID, sd.Index, prev, t.applied)
		case sd.Time < 0:
			return corrupt("dedup record %q: negative time %d", sd.ID, sd.Time)
		case !ok:
			return corrupt("dedup record %q: result code %q", sd.ID, sd.Result.Code)
		}
		if _, dup := t.dedup.get(sd.ID); dup {
			return corrupt("dedup record %q twice", sd.ID)
		}
		prev = sd.Index
		t.dedup.add(sd.ID, dedupRecord{index: sd.Index, time: sd.Time, fingerprint: sd.Fingerprint, result: res})
	}
	return nil
}

// aclTokens reads the ACL token records, validating each as a
// create_acl_token command is.
func (rd *restorer) aclTokens() error {
	t := rd.t
	var prev AccessorID
	for i := 0; i < rd.hdr.ACLTokens; i++ {
		var st snapACLToken
		if err := rd.get("ACL token", &st); err != nil {
			return err
		}
		switch {
		case st.Accessor <= prev || Index(st.Accessor) > t.applied:
			return corrupt("ACL token %d after %d, applied %d", st.Accessor, prev, t.applied)
		case st.ExpiresAt < 0:
			return corrupt("ACL token %d: negative expiry %d", st.Accessor, st.ExpiresAt)
		}
		c := Command{Kind: KindCreateACLToken, ACLName: st.Name, ACLRules: st.Rules, SecretHash: st.SecretHash}
		if err := validateACLToken(&c); err != nil {
			return corrupt("ACL token %d: %v", st.Accessor, err)
		}
		if prevID, dup := t.aclByHash[string(st.SecretHash)]; dup {
			return corrupt("ACL token %d has the secret hash of token %d", st.Accessor, prevID)
		}
		prev = st.Accessor
		t.addACLToken(&ACLToken{Accessor: st.Accessor, Name: st.Name, SecretHash: st.SecretHash, Rules: st.Rules, CreatedAt: st.CreatedAt, ExpiresAt: st.ExpiresAt})
	}
	return nil
}

// finish checks what only the whole table shows: every lease created by an
// acquire holds or waits for exactly one object.
func (rd *restorer) finish() error {
	for id, ls := range rd.t.leases {
		if ls.single && len(ls.objs) != 1 {
			return corrupt("single lease %d holds or waits for %d objects", id, len(ls.objs))
		}
	}
	if invariantsEnabled {
		if err := rd.t.checkInvariants(); err != nil {
			return corrupt("%v", err)
		}
	}
	return nil
}
