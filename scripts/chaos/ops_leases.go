package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/locks/lockmodel"
)

// createOrKeepSession creates the client's session lease, or keeps it alive
// when it has one.
func (w *worker) createOrKeepSession(ctx context.Context) {
	if w.session != 0 {
		w.keepaliveLease(ctx, w.session)
		return
	}
	invoked := time.Now()
	in := lockmodel.Input{Kind: lockmodel.KindCreateLease, TTL: LeaseTTL}
	out, _ := w.call(ctx, in, http.MethodPost, "/v1/leases", wire.LeaseRequest{TTL: ttlString()}, w.key(), 0,
		func(ans answer, out *lockmodel.Output) {
			var l wire.Lease
			if out.Status == lockmodel.StatusOK && ans.decode(&l) == nil {
				out.Lease = lockmodel.LeaseID(l.LeaseID)
			}
		})
	if out.Status == lockmodel.StatusOK && out.Lease != 0 {
		w.session, w.sessionProven = out.Lease, invoked
	}
}

// keepalive keeps the session or the lease of one hold alive.
func (w *worker) keepalive(ctx context.Context) {
	var leases []lockmodel.LeaseID
	if w.session != 0 {
		leases = append(leases, w.session)
	}
	for _, h := range w.holds {
		if h.own {
			leases = append(leases, h.lease)
		}
	}
	if len(leases) == 0 {
		w.createOrKeepSession(ctx)
		return
	}
	w.keepaliveLease(ctx, leases[w.rng.IntN(len(leases))])
}

func (w *worker) keepaliveLease(ctx context.Context, id lockmodel.LeaseID) {
	if w.buggy {
		w.read(ctx) // the broken client lets its leases lapse
		return
	}
	invoked := time.Now()
	in := lockmodel.Input{Kind: lockmodel.KindKeepAlive, Lease: id}
	out, _ := w.call(ctx, in, http.MethodPost, fmt.Sprintf("/v1/leases/%d/keepalive", id), nil, "", 0, nil)
	switch out.Status {
	case lockmodel.StatusOK:
		w.proven(id, invoked)
	case lockmodel.StatusNotFound:
		w.dropLease(id)
	}
}

// proven notes that lease id was alive at t.
func (w *worker) proven(id lockmodel.LeaseID, t time.Time) {
	if id == w.session {
		w.sessionProven = t
	}
	for _, h := range w.holds {
		if h.lease == id {
			h.proven = t
		}
	}
}

// dropLease forgets lease id and everything held with it.
func (w *worker) dropLease(id lockmodel.LeaseID) {
	if w.buggy {
		return // the broken client believes it still holds
	}
	if id == w.session {
		w.session = 0
	}
	for name, h := range w.holds {
		if h.lease == id {
			delete(w.holds, name)
		}
	}
	for name, l := range w.leads {
		if l.lease == id {
			delete(w.leads, name)
		}
	}
}

// revokeSession revokes the session lease (and so its locks and elections).
func (w *worker) revokeSession(ctx context.Context) {
	if w.session == 0 {
		w.createOrKeepSession(ctx)
		return
	}
	w.revoke(ctx, w.session)
}

func (w *worker) revoke(ctx context.Context, id lockmodel.LeaseID) {
	in := lockmodel.Input{Kind: lockmodel.KindRevoke, Lease: id}
	// Whatever the answer, the client stops relying on the lease.
	w.dropLease(id)
	w.call(ctx, in, http.MethodDelete, fmt.Sprintf("/v1/leases/%d", id), nil, w.key(), 0, nil)
}

// trusted reports whether a correct client may still rely on a hold proven
// at t.
func trusted(t time.Time) bool {
	return time.Since(t) < time.Duration(float64(LeaseTTL)*HoldTrustFraction)
}
