package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/locks"
)

// acquire proposes an acquire (of a lock, or a campaign) and, when it was
// queued, waits for the grant (DESIGN.md §4). It returns the grant's holder.
//
// The proposal runs detached from the client, so its outcome is known even
// when the client leaves meanwhile; then, and when the wait runs out, the
// node proposes CancelWait. If the grant won that race, a client still
// there gets it; a client gone gets nothing, and a lease created for this
// request alone is released with the grant (see abandonGrant), so nobody is
// left holding a lock nobody knows of.
//
// A request that may wait always carries a request id: the client's
// Idempotency-Key, else one of the node's own (internalRequestID). The lock
// table turns the record of a queued acquire into its grant, so the wait can
// tell "granted, and lost since" (the lease expired or was revoked after the
// grant) from "withdrawn before any grant"; the lock table is the only
// witness of the first once the lease is gone.
func (n *Node) acquire(ctx context.Context, cmd locks.Command, wait time.Duration) (locks.Holder, error) {
	if n.fsm == nil {
		return locks.Holder{}, errNoLockTable
	}
	a := &acquireCall{cmd: cmd, keyed: cmd.RequestID != ""}
	if wait > 0 {
		release, err := n.hub.subscribe()
		if err != nil {
			return locks.Holder{}, err
		}
		defer release()
		if !a.keyed {
			a.cmd.RequestID = internalRequestID()
		}
	}
	pctx, cancel := n.followUpContext(context.WithoutCancel(ctx))
	res, err := n.propose(pctx, a.cmd)
	cancel()
	if err != nil {
		return locks.Holder{}, err
	}
	if res.Err != nil {
		return locks.Holder{}, refusal(res, cmd.Election)
	}
	if !res.Queued {
		if ctx.Err() != nil {
			n.abandonGrant(a, res.Holder)
			return locks.Holder{}, ctx.Err()
		}
		return res.Holder, nil
	}
	return n.awaitGrant(ctx, a, res.LeaseID, wait)
}

// followUpContext bounds a proposal that must outlive its client's request
// (its outcome decides what to cancel or release): FollowUpTimeout, and
// ShutdownFollowUpTimeout into a shutdown at most.
func (n *Node) followUpContext(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(parent, FollowUpTimeout)
	stop := context.AfterFunc(n.followUps, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

// acquireCall is one acquire or campaign request being served.
type acquireCall struct {
	// cmd is the command proposed; its RequestID is set whenever the
	// request may wait.
	cmd locks.Command
	// keyed: the client sent an Idempotency-Key, so a retry may come back
	// for the answer (a grant is kept for it, the place in the queue too).
	keyed bool
}

// internalRequestIDPrefix starts the request ids a node gives waiting
// requests that came without an Idempotency-Key. It has a space, which a
// client's key cannot (validateRequestID), so the two never collide.
const internalRequestIDPrefix = "raftlock wait "

// internalRequestID returns a fresh request id for a keyless waiting
// request: 128 random bits (crypto/rand.Text).
func internalRequestID() string {
	return internalRequestIDPrefix + rand.Text()
}

// awaitGrant waits until lease is granted a's lock, the wait runs out, the
// client leaves, or this node stops leading (no_leader: a retry with the
// same Idempotency-Key finds the same place in the queue on the new leader).
func (n *Node) awaitGrant(ctx context.Context, a *acquireCall, lease locks.LeaseID, wait time.Duration) (locks.Holder, error) {
	cmd := &a.cmd
	grants, unregister := n.hub.awaitGrant(grantKey{name: cmd.Name, election: cmd.Election, lease: lease})
	defer unregister()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	leaderCh := n.drv.LeaderChanged()
	for {
		changed, done := n.hub.watch(objectKey(cmd.Name, cmd.Election))
		var info locks.LockInfo
		var rec locks.Result
		var recorded bool
		n.fsm.read(func(t *locks.Table) {
			info = n.fsm.info(cmd.Name, cmd.Election)
			rec, recorded = t.RequestResult(cmd.RequestID)
		})
		if info.Held && info.Holder.LeaseID == lease {
			done()
			return info.Holder, nil
		}
		if recorded && rec.Err == nil && !rec.Queued && rec.Holder.LeaseID == lease {
			// Granted, and lost since (the lease expired or was revoked):
			// the acquire took effect, so its answer is the grant.
			done()
			return rec.Holder, nil
		}
		if !waitsOn(info, lease) {
			// Withdrawn before any grant (the lease expired or was revoked,
			// or an earlier attempt of this request cancelled it):
			// CancelWait says which.
			done()
			return n.endWait(a, lease, false)
		}
		select {
		case h := <-grants:
			done()
			return h, nil
		case <-changed:
		case <-timer.C:
			done()
			return n.endWait(a, lease, false)
		case <-ctx.Done():
			done()
			if n.clientCtx.Err() != nil {
				return locks.Holder{}, n.waitShutdown(a, lease)
			}
			_, err := n.endWait(a, lease, true)
			if err == nil {
				err = ctx.Err()
			}
			return locks.Holder{}, err
		case <-leaderCh:
			leaderCh = n.drv.LeaderChanged()
			if st := n.drv.Status(); st.Role != consensus.RoleLeader {
				done()
				return locks.Holder{}, fmt.Errorf("%w: %s stopped leading while %s %q waited; retry with the same %s", consensus.ErrNoLeader, n.self.Name, kindName(cmd.Election), cmd.Name, wire.HeaderIdempotencyKey)
			}
		}
		done()
	}
}

// waitShutdown ends a wait because the node is shutting down: the answer is
// no_leader, so the client retries elsewhere. A request with an
// Idempotency-Key keeps its place in the queue (its retry on the next leader
// finds it, as after a leader change); one without is withdrawn, since
// nobody can resume it.
func (n *Node) waitShutdown(a *acquireCall, lease locks.LeaseID) error {
	if !a.keyed {
		if _, err := n.endWait(a, lease, true); err != nil && !errors.Is(err, locks.ErrLockHeld) {
			n.log.Debug("wait not withdrawn at shutdown", zap.String("lock", a.cmd.Name), zap.Error(err))
		}
	}
	return fmt.Errorf("%w: %s is shutting down while %s %q waited; retry with the same %s", consensus.ErrNoLeader, n.self.Name, kindName(a.cmd.Election), a.cmd.Name, wire.HeaderIdempotencyKey)
}

// waitsOn reports whether lease is in info's queue.
func waitsOn(info locks.LockInfo, lease locks.LeaseID) bool {
	for _, w := range info.Waiters {
		if w.LeaseID == lease {
			return true
		}
	}
	return false
}

// endWait proposes CancelWait for lease's wait on a's lock. When the grant
// won the race it returns the grant, unless the client is gone: then a
// lease created for this request is released with it.
func (n *Node) endWait(a *acquireCall, lease locks.LeaseID, clientGone bool) (locks.Holder, error) {
	cmd := &a.cmd
	ctx, cancel := n.followUpContext(context.Background())
	defer cancel()
	cw := locks.Command{Kind: locks.KindCancelWait, RequestID: followUpID(cmd.RequestID, "cancel"), Name: cmd.Name, LeaseID: lease, Election: cmd.Election}
	res, err := n.propose(ctx, cw)
	if err != nil {
		return locks.Holder{}, err
	}
	if res.Err != nil {
		return locks.Holder{}, fmt.Errorf("%s %q: lease %d no longer waits (expired or revoked): %w", kindName(cmd.Election), cmd.Name, lease, res.Err)
	}
	if res.Granted {
		if clientGone {
			n.abandonGrant(a, res.Holder)
		}
		return res.Holder, nil
	}
	var holder locks.Holder
	n.fsm.read(func(*locks.Table) { holder = n.fsm.info(cmd.Name, cmd.Election).Holder })
	err = fmt.Errorf("%w: %s %q is still held after the wait", locks.ErrLockHeld, kindName(cmd.Election), cmd.Name)
	if holder.Token == 0 {
		return locks.Holder{}, err
	}
	return locks.Holder{}, &heldError{err: err, holder: wireHolder(holder, cmd.Election)}
}

// abandonGrant releases a grant whose client went away, when its lease was
// created for this request alone and the request carried no Idempotency-Key.
// A lease the client named is the client's to keep or lose. With a key, the
// client's retry (on any node) gets this grant as the first answer, so it
// must stay: if nobody comes back, its lease, which has no keepalives,
// expires within its ttl and frees the lock.
func (n *Node) abandonGrant(a *acquireCall, h locks.Holder) {
	cmd := &a.cmd
	if cmd.LeaseID != 0 || a.keyed {
		return
	}
	ctx, cancel := n.followUpContext(context.Background())
	defer cancel()
	kind := locks.KindRelease
	if cmd.Election {
		kind = locks.KindResign
	}
	_, err := n.propose(ctx, locks.Command{Kind: kind, RequestID: followUpID(cmd.RequestID, "release"), Name: cmd.Name, Token: h.Token})
	if err != nil {
		// The lease was created for this request and has no keepalives:
		// it expires within its ttl and frees the lock then.
		n.log.Warn("release of an abandoned grant failed", zap.String("lock", cmd.Name), zap.Uint64("token", uint64(h.Token)), zap.Error(err))
	}
}

func kindName(election bool) string {
	if election {
		return "election"
	}
	return "lock"
}

// blocking serves a read that may block (?index=&wait=, like Consul's
// blocking queries): it answers once the object's index exceeds q.index or
// q.wait passes. read returns the object's index and body; it runs under
// the table's lock.
func (n *Node) blocking(c echo.Context, q blockingQuery, key string, read func() (uint64, any)) error {
	ctx := c.Request().Context()
	respond := func(index uint64, body any) error {
		c.Response().Header().Set(wire.HeaderIndex, uintString(index))
		return c.JSON(200, body)
	}
	if !q.block || q.wait == 0 {
		var idx uint64
		var body any
		n.fsm.read(func(*locks.Table) { idx, body = read() })
		return respond(idx, body)
	}
	release, err := n.hub.subscribe()
	if err != nil {
		return err
	}
	defer release()
	timer := time.NewTimer(q.wait)
	defer timer.Stop()
	for {
		changed, done := n.hub.watch(key)
		var idx uint64
		var body any
		n.fsm.read(func(*locks.Table) { idx, body = read() })
		if idx > q.index {
			done()
			return respond(idx, body)
		}
		select {
		case <-changed:
			done()
		case <-timer.C:
			done()
			return respond(idx, body)
		case <-ctx.Done():
			done()
			return ctx.Err()
		}
	}
}

func uintString(v uint64) string { return strconv.FormatUint(v, 10) }
