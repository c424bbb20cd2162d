package server

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/locks"
)

// acquireLock is POST /v1/locks/{name}/acquire {"lease_id"?, "ttl"?,
// "owner"?, "wait"?}: 200 with the grant; 409 lock_held with the holder when
// it is held (after the wait, with one).
func (n *Node) acquireLock(c echo.Context) error {
	name, err := nameParam(c)
	if err != nil {
		return err
	}
	var req wire.AcquireRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	cmd, err := acquireCommand(c, name, req)
	if err != nil {
		return err
	}
	h, err := n.acquire(c.Request().Context(), cmd, req.Wait.D())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.Acquired{Name: name, Token: uint64(h.Token), LeaseID: uint64(h.LeaseID), Owner: h.Owner})
}

// acquireCommand builds the command of an acquire request and checks it.
func acquireCommand(c echo.Context, name string, req wire.AcquireRequest) (locks.Command, error) {
	key, err := requestID(c)
	if err != nil {
		return locks.Command{}, err
	}
	cmd := locks.Command{Kind: locks.KindAcquire, RequestID: key, Name: name, LeaseID: locks.LeaseID(req.LeaseID),
		TTL: locks.Duration(req.TTL), Owner: req.Owner, Wait: req.Wait > 0}
	return cmd, checkAcquire(cmd, req.Wait)
}

// checkAcquire validates an acquire or campaign before it is proposed.
func checkAcquire(cmd locks.Command, wait wire.Duration) error {
	if err := validateWait("wait", wait.D()); err != nil {
		return err
	}
	return locks.ValidateCommand(cmd)
}

// releaseLock is POST /v1/locks/{name}/release {"token"}: 200, or 409
// not_holder when token does not hold the lock.
func (n *Node) releaseLock(c echo.Context) error {
	name, err := nameParam(c)
	if err != nil {
		return err
	}
	var req wire.ReleaseRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	key, err := requestID(c)
	if err != nil {
		return err
	}
	res, err := n.propose(c.Request().Context(), locks.Command{Kind: locks.KindRelease, RequestID: key, Name: name, Token: locks.Token(req.Token)})
	if err != nil {
		return err
	}
	if res.Err != nil {
		return refusal(res, false)
	}
	return c.JSON(http.StatusOK, wire.Released{Released: true})
}

// getLock is GET /v1/locks/{name}[?index=&wait=][&stale=true].
func (n *Node) getLock(c echo.Context) error {
	name, err := nameParam(c)
	if err != nil {
		return err
	}
	q, err := parseReadQuery(c)
	if err != nil {
		return err
	}
	if err := n.readBarrier(c); err != nil {
		return err
	}
	return n.blocking(c, q, objectKey(name, false), func() (uint64, any) {
		li := lockInfo(n.fsm.table.Lock(name))
		return li.Index, li
	})
}

// lockInfo is a lock as the API shows it.
func lockInfo(li locks.LockInfo) wire.LockInfo {
	out := wire.LockInfo{Name: li.Name, Held: li.Held, Waiters: len(li.Waiters), Index: uint64(li.ModifyIndex)}
	if li.Held {
		out.Holder = wireHolder(li.Holder, false)
	}
	return out
}

// listLocks is GET /v1/locks[?prefix=]: the held locks in name order, at
// most locks.ListMax.
func (n *Node) listLocks(c echo.Context) error {
	prefix := c.QueryParam("prefix")
	if len(prefix) > ListPrefixBytesMax {
		return invalidArgf("prefix is %d bytes, max %d", len(prefix), ListPrefixBytesMax)
	}
	if err := n.readBarrier(c); err != nil {
		return err
	}
	out := wire.LockList{Locks: []wire.LockInfo{}}
	var index locks.Index
	n.fsm.read(func(t *locks.Table) {
		infos, _ := t.ListLocksWhere(prefix, "", locks.ListMax, readFilter(c.Request().Context()))
		for _, li := range infos {
			out.Locks = append(out.Locks, lockInfo(li))
		}
		index = t.Applied()
	})
	c.Response().Header().Set(wire.HeaderIndex, uintString(uint64(index)))
	return c.JSON(http.StatusOK, out)
}

// fence is GET /v1/locks/{name}/fence?token=N: 200 valid when N is the
// holder's token (or newer than every grant of a free lock), else 409
// stale_token.
func (n *Node) fence(c echo.Context) error {
	name, err := nameParam(c)
	if err != nil {
		return err
	}
	raw := c.QueryParam("token")
	token, err := strconv.ParseUint(raw, 10, 64)
	if err != nil || token == 0 {
		return invalidArgf("token %q is not a number in [1, 2^64)", raw)
	}
	if err := n.readBarrier(c); err != nil {
		return err
	}
	n.fsm.read(func(t *locks.Table) { err = t.Fence(name, locks.Token(token)) })
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.Fence{Valid: true})
}
