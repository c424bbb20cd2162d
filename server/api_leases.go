package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/locks"
)

// createLease is POST /v1/leases {"ttl"}: 201 with the new lease.
func (n *Node) createLease(c echo.Context) error {
	var req wire.LeaseRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	key, err := requestID(c)
	if err != nil {
		return err
	}
	res, err := n.propose(c.Request().Context(), locks.Command{Kind: locks.KindCreateLease, RequestID: key, TTL: locks.Duration(req.TTL)})
	if err != nil {
		return err
	}
	if res.Err != nil {
		return refusal(res, false)
	}
	return c.JSON(http.StatusCreated, wire.Lease{LeaseID: uint64(res.LeaseID), TTL: wire.Duration(res.TTL)})
}

// keepalive is POST /v1/leases/{id}/keepalive. Only the leader answers it,
// after confirming its leadership with a quorum (ReadIndex: no log write),
// by resetting the lease's deadline in its lease clock. A keepalive in time
// writes nothing: only a quiet lease is checkpointed. A late one (its lease
// was recorded) first commits a clearing checkpoint, so a next leader cannot
// use the old remaining time (locks.LeaseClock, steps 3 and 5).
func (n *Node) keepalive(c echo.Context) error {
	id, err := leaseParam(c)
	if err != nil {
		return err
	}
	if err := bindJSON(c, &struct{}{}); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := n.linearizable(ctx); err != nil {
		return err
	}
	ttl, clearCheckpoint, err := n.fsm.keepalive(id)
	if errors.Is(err, errLeaseExpiring) {
		return n.awaitLeaseGone(ctx, id)
	}
	if err != nil {
		return err
	}
	if clearCheckpoint {
		if err := n.awaitCheckpointRound(ctx); err != nil {
			return err
		}
		cmd := locks.Command{Kind: locks.KindCheckpointLeases, Checkpoints: []locks.Checkpoint{{LeaseID: id}}}
		res, err := n.propose(ctx, cmd)
		if err != nil {
			return err
		}
		if res.Err != nil {
			return refusal(res, false)
		}
	}
	n.metrics.keepalives.inc()
	return c.JSON(http.StatusOK, wire.Lease{LeaseID: uint64(id), TTL: wire.Duration(ttl)})
}

// getLease is GET /v1/leases/{id}: the lease, its remaining time as this
// node knows it (the leader's clock; a follower's stale read shows the
// checkpoint or the ttl) and the locks it holds.
func (n *Node) getLease(c echo.Context) error {
	id, err := leaseParam(c)
	if err != nil {
		return err
	}
	if err := n.readBarrier(c); err != nil {
		return err
	}
	info, rem, ok := n.fsm.lease(id)
	if !ok {
		return notFoundf("lease %d not found", id)
	}
	out := wire.LeaseInfo{
		LeaseID:   uint64(id),
		TTL:       wire.Duration(info.TTL),
		Remaining: wire.Duration(time.Duration(rem).Round(time.Millisecond)),
		Locks:     append([]string{}, info.Locks...),
	}
	c.Response().Header().Set(wire.HeaderIndex, uintString(uint64(info.ModifyIndex)))
	return c.JSON(http.StatusOK, out)
}

// revokeLease is DELETE /v1/leases/{id}: the lease, its locks (each handed
// to its next waiter), its waits and its elections go in one entry.
func (n *Node) revokeLease(c echo.Context) error {
	id, err := leaseParam(c)
	if err != nil {
		return err
	}
	key, err := requestID(c)
	if err != nil {
		return err
	}
	res, err := n.propose(c.Request().Context(), locks.Command{Kind: locks.KindRevokeLease, RequestID: key, LeaseID: id})
	if err != nil {
		return err
	}
	if res.Err != nil {
		return refusal(res, false)
	}
	return c.JSON(http.StatusOK, wire.Revoked{Revoked: true})
}

// readBarrier makes the read that follows linearizable unless the request
// asked for ?stale=true.
func (n *Node) readBarrier(c echo.Context) error {
	if n.fsm == nil {
		return errNoLockTable
	}
	stale, err := staleParam(c)
	if err != nil || stale {
		return err
	}
	return n.linearizable(c.Request().Context())
}

// awaitLeaseGone answers a keepalive of a lease the leader already decided
// to expire: not_found only once its ExpireLease is applied, so no read after
// the answer can still see the lease alive; no_leader (retry) if leadership
// is lost first, since a new leader restarts the lease's clock.
func (n *Node) awaitLeaseGone(ctx context.Context, id locks.LeaseID) error {
	for {
		st := n.drv.Status()
		if _, _, exists := n.fsm.lease(id); !exists {
			return notFoundf("lease %d expired", id)
		}
		if st.Role != consensus.RoleLeader {
			return errNoLeaseClock
		}
		if err := n.drv.WaitApplied(ctx, st.Applied+1); err != nil {
			return err
		}
	}
}
