package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/locks/lockmodel"
)

// hold is a lock a client believes it holds.
type hold struct {
	token lockmodel.Token
	lease lockmodel.LeaseID
	// own: the lease was created by the acquire for this lock alone.
	own bool
	// proven is when the request that last proved the lease alive was
	// invoked (a grant, a keepalive).
	proven time.Time
}

// lead is an election a client believes it leads.
type lead struct {
	term  lockmodel.Token
	lease lockmodel.LeaseID
}

// worker is one client: it runs one request at a time through random nodes.
type worker struct {
	id    int
	rng   *rand.Rand
	api   *api
	urls  []string
	hist  *history
	store *fencedStore
	// locks and elecs are the names of the current name epoch: every
	// nameEpoch since start the clients move to fresh names (see
	// NameEpochDefault), forgetting what they held under the old ones.
	locks, elecs   []string
	nlocks, nelecs int
	start          time.Time
	nameEpoch      time.Duration
	epoch          int
	// buggy: this client writes to the fenced resource without fencing
	// and never gives up a hold (--bug=unfenced).
	buggy bool

	seq           int
	session       lockmodel.LeaseID
	sessionProven time.Time
	holds         map[string]*hold
	leads         map[string]lead
	// seen are recent tokens, for requests with stale tokens.
	seen []lockmodel.Token
}

// run issues requests until stop closes (ctx ends only on an interrupt).
func (w *worker) run(ctx context.Context, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		default:
		}
		w.step(ctx)
	}
}

// step runs one random operation. The weights are percentages.
func (w *worker) step(ctx context.Context) {
	w.moveEpoch()
	switch r := w.rng.IntN(100); {
	case r < 6:
		w.createOrKeepSession(ctx)
	case r < 14:
		w.keepalive(ctx)
	case r < 16:
		w.revokeSession(ctx)
	case r < 36:
		w.acquire(ctx)
	case r < 48:
		w.release(ctx)
	case r < 56:
		w.read(ctx)
	case r < 61:
		w.fence(ctx)
	case r < 76:
		w.fencedWrite(ctx)
	case r < 83:
		w.campaign(ctx)
	case r < 87:
		w.proclaim(ctx)
	case r < 91:
		w.resign(ctx)
	default:
		w.leader(ctx)
	}
}

// key returns a fresh request id.
func (w *worker) key() string {
	w.seq++
	return fmt.Sprintf("chaos-c%d-%d", w.id, w.seq)
}

func (w *worker) pick(names []string) string { return names[w.rng.IntN(len(names))] }

// moveEpoch switches to the names of the current epoch when it changed. The
// holds and leaderships under the old names are dropped, not released: the
// locks stay held until their leases end, and nobody uses those names again.
func (w *worker) moveEpoch() {
	e := int(time.Since(w.start) / w.nameEpoch)
	if e == w.epoch {
		return
	}
	w.epoch = e
	w.locks = epochNames("lock", e, w.nlocks)
	w.elecs = epochNames("election", e, w.nelecs)
	clear(w.holds)
	clear(w.leads)
}

// epochNames are the n names of kind in epoch e.
func epochNames(kind string, e, n int) []string {
	names := make([]string, n)
	for k := range names {
		names[k] = fmt.Sprintf("chaos-%s-e%d-%d", kind, e, k)
	}
	return names
}

func (w *worker) remember(t lockmodel.Token) {
	if t == 0 {
		return
	}
	if len(w.seen) >= SeenTokensMax {
		w.seen = w.seen[1:]
	}
	w.seen = append(w.seen, t)
}

// staleToken returns a token seen before, or a small one.
func (w *worker) staleToken() lockmodel.Token {
	if len(w.seen) == 0 {
		return lockmodel.Token(1 + w.rng.IntN(20))
	}
	return w.seen[w.rng.IntN(len(w.seen))]
}

// send sends one logical request under one request id: each attempt goes to
// a random node with its own timeout; no_leader, timeout and no answer are
// retried until OpDeadline. ok is false when no definite answer came.
func (w *worker) send(ctx context.Context, method, path string, body any, key string, wait time.Duration) (answer, bool) {
	deadline := time.Now().Add(OpDeadline + wait)
	for range AttemptsMax {
		url := w.urls[w.rng.IntN(len(w.urls))] + path
		actx, cancel := context.WithTimeout(ctx, min(AttemptTimeout+wait, time.Until(deadline)))
		ans, err := w.api.do(actx, method, url, body, key)
		cancel()
		if err == nil && ans.definite() {
			return ans, true
		}
		if ctx.Err() != nil || errors.Is(err, context.Canceled) {
			return answer{}, false
		}
		pause := RetryDelayMin + time.Duration(w.rng.Int64N(int64(RetryDelayMax-RetryDelayMin)))
		if time.Until(deadline) <= pause {
			return answer{}, false
		}
		timer := time.NewTimer(pause)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return answer{}, false
		}
	}
	return answer{}, false
}

// outcome maps an answer to the model's status.
func outcome(ans answer, ok bool) lockmodel.Status {
	if !ok {
		return lockmodel.StatusUnknown
	}
	return lockmodel.StatusFromCode(ans.code)
}

// call records in, sends the request and records the answer built by fill
// (called for any definite answer, to add the fields of the output).
func (w *worker) call(ctx context.Context, in lockmodel.Input, method, path string, body any, key string, wait time.Duration, fill func(answer, *lockmodel.Output)) (lockmodel.Output, answer) {
	c := w.hist.invoke(w.id, in, key)
	ans, ok := w.send(ctx, method, path, body, key, wait)
	out := lockmodel.Output{Status: outcome(ans, ok)}
	if ok && fill != nil {
		fill(ans, &out)
	}
	if out.Status == lockmodel.StatusOK && ans.ok() && fill != nil && out.Token == 0 && needsToken(in.Kind) {
		out.Status = lockmodel.StatusUnknown // a grant without a token: unreadable answer
	}
	w.hist.ret(c, out)
	return out, ans
}

func needsToken(k lockmodel.Kind) bool {
	return k == lockmodel.KindAcquire || k == lockmodel.KindCampaign
}

// holderFields fills a lock_held refusal's holder.
func holderFields(ans answer, out *lockmodel.Output) {
	if out.Status == lockmodel.StatusLockHeld && ans.holder != nil {
		out.Token = lockmodel.Token(ans.holder.Token)
		out.Lease = lockmodel.LeaseID(ans.holder.LeaseID)
	}
}

// ttlString is the lease ttl as the API wants it.
func ttlString() wire.Duration { return wire.Duration(LeaseTTL) }
