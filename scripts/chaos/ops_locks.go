package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/locks/lockmodel"
)

// waitFor returns a random wait for an acquire or campaign, or zero.
func (w *worker) waitFor() time.Duration {
	if w.rng.IntN(2) == 0 {
		return 0
	}
	return time.Duration(1+w.rng.IntN(int(WaitMax/(100*time.Millisecond)))) * 100 * time.Millisecond
}

// acquire asks for a lock with the session lease or a lease of its own.
func (w *worker) acquire(ctx context.Context) {
	name := w.pick(w.locks)
	if _, ok := w.holds[name]; ok {
		w.fencedWrite(ctx)
		return
	}
	lease := lockmodel.LeaseID(0)
	if w.session != 0 && w.rng.IntN(2) == 0 {
		lease = w.session
	}
	wait := w.waitFor()
	owner := fmt.Sprintf("c%d", w.id)
	body := wire.AcquireRequest{LeaseID: uint64(lease), Owner: owner, Wait: wire.Duration(wait)}
	in := lockmodel.Input{Kind: lockmodel.KindAcquire, Name: name, Lease: lease, Owner: owner, Wait: wait > 0}
	if lease == 0 {
		body.TTL, in.TTL = ttlString(), LeaseTTL
	}
	invoked := time.Now()
	out, _ := w.call(ctx, in, http.MethodPost, "/v1/locks/"+name+"/acquire", body, w.key(), wait,
		func(ans answer, out *lockmodel.Output) {
			holderFields(ans, out)
			var a wire.Acquired
			if out.Status == lockmodel.StatusOK && ans.decode(&a) == nil {
				out.Token, out.Lease = lockmodel.Token(a.Token), lockmodel.LeaseID(a.LeaseID)
			}
		})
	w.remember(out.Token)
	switch {
	case out.Status == lockmodel.StatusOK:
		w.holds[name] = &hold{token: out.Token, lease: out.Lease, own: lease == 0, proven: invoked}
		w.proven(out.Lease, invoked)
	case out.Status == lockmodel.StatusUnknown && lease != 0:
		// The session may hold the lock now without the client knowing
		// its token: give the session up rather than block the lock.
		w.revoke(ctx, lease)
	}
}

// release releases a held lock, or sends a stale token.
func (w *worker) release(ctx context.Context) {
	name := w.pick(w.locks)
	token := w.staleToken()
	h, held := w.holds[name]
	if held {
		if w.buggy {
			w.fencedWrite(ctx) // the broken client never lets go
			return
		}
		token = h.token
		delete(w.holds, name)
	}
	in := lockmodel.Input{Kind: lockmodel.KindRelease, Name: name, Token: token}
	w.call(ctx, in, http.MethodPost, "/v1/locks/"+name+"/release", wire.ReleaseRequest{Token: uint64(token)}, w.key(), 0, nil)
}

// read is a linearizable read of a lock.
func (w *worker) read(ctx context.Context) {
	name := w.pick(w.locks)
	in := lockmodel.Input{Kind: lockmodel.KindRead, Name: name}
	out, _ := w.call(ctx, in, http.MethodGet, "/v1/locks/"+name, nil, "", 0,
		func(ans answer, out *lockmodel.Output) {
			var li wire.LockInfo
			if out.Status != lockmodel.StatusOK {
				return
			}
			if ans.decode(&li) != nil {
				out.Status = lockmodel.StatusUnknown
				return
			}
			if li.Held && li.Holder != nil {
				out.Held = true
				out.Token, out.Lease, out.Owner = lockmodel.Token(li.Holder.Token), lockmodel.LeaseID(li.Holder.LeaseID), li.Holder.Owner
			}
		})
	w.remember(out.Token)
}

// fence asks the service whether a token is valid for a lock.
func (w *worker) fence(ctx context.Context) {
	name := w.pick(w.locks)
	token := w.staleToken()
	if h, ok := w.holds[name]; ok {
		token = h.token
	}
	in := lockmodel.Input{Kind: lockmodel.KindFence, Name: name, Token: token}
	path := "/v1/locks/" + name + "/fence?token=" + url.QueryEscape(fmt.Sprint(uint64(token)))
	w.call(ctx, in, http.MethodGet, path, nil, "", 0, nil)
}

// fencedWrite writes to the fenced resource with the token of a lock the
// client holds and still trusts; the broken client writes whatever it
// believes, without fencing.
func (w *worker) fencedWrite(ctx context.Context) {
	for _, name := range w.locks {
		h, ok := w.holds[name]
		if !ok {
			continue
		}
		if w.buggy {
			w.store.write(w.id, name, h.token, false)
			return
		}
		if trusted(h.proven) {
			w.store.write(w.id, name, h.token, true)
			return
		}
	}
	w.acquireOrRead(ctx)
}

// acquireOrRead is the fallback of an operation whose precondition failed.
func (w *worker) acquireOrRead(ctx context.Context) {
	if w.rng.IntN(2) == 0 {
		w.read(ctx)
		return
	}
	name := w.pick(w.locks)
	if _, ok := w.holds[name]; ok {
		w.read(ctx)
		return
	}
	w.acquire(ctx)
}
