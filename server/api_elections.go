package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/locks"
)

// campaign is POST /v1/elections/{name}/campaign {"lease_id"?, "ttl"?,
// "value", "wait"?}: 200 with the term when elected; 409 lock_held with the
// leader when another leads (after the wait, with one).
func (n *Node) campaign(c echo.Context) error {
	name, err := nameParam(c)
	if err != nil {
		return err
	}
	var req wire.CampaignRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	key, err := requestID(c)
	if err != nil {
		return err
	}
	cmd := locks.Command{Kind: locks.KindAcquire, Election: true, RequestID: key, Name: name, LeaseID: locks.LeaseID(req.LeaseID),
		TTL: locks.Duration(req.TTL), Value: req.Value, Wait: req.Wait > 0}
	if err := checkAcquire(cmd, req.Wait); err != nil {
		return err
	}
	h, err := n.acquire(c.Request().Context(), cmd, req.Wait.D())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.Elected{Name: name, Value: h.Value, Term: uint64(h.Token), LeaseID: uint64(h.LeaseID)})
}

// proclaim is POST /v1/elections/{name}/proclaim {"term", "value"}: 200, or
// 409 not_leader when term does not lead.
func (n *Node) proclaim(c echo.Context) error {
	name, err := nameParam(c)
	if err != nil {
		return err
	}
	var req wire.ProclaimRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	key, err := requestID(c)
	if err != nil {
		return err
	}
	res, err := n.propose(c.Request().Context(), locks.Command{Kind: locks.KindProclaim, RequestID: key, Name: name, Token: locks.Token(req.Term), Value: req.Value})
	if err != nil {
		return err
	}
	if res.Err != nil {
		return refusal(res, true)
	}
	return c.JSON(http.StatusOK, wire.Elected{Name: name, Value: res.Holder.Value, Term: uint64(res.Token), LeaseID: uint64(res.LeaseID)})
}

// resign is POST /v1/elections/{name}/resign {"term"}: 200, or 409
// not_leader.
func (n *Node) resign(c echo.Context) error {
	name, err := nameParam(c)
	if err != nil {
		return err
	}
	var req wire.ResignRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	key, err := requestID(c)
	if err != nil {
		return err
	}
	res, err := n.propose(c.Request().Context(), locks.Command{Kind: locks.KindResign, RequestID: key, Name: name, Token: locks.Token(req.Term)})
	if err != nil {
		return err
	}
	if res.Err != nil {
		return refusal(res, true)
	}
	return c.JSON(http.StatusOK, wire.Resigned{Resigned: true})
}

// getElection is GET /v1/elections/{name}[?index=&wait=][&stale=true].
func (n *Node) getElection(c echo.Context) error {
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
	return n.blocking(c, q, objectKey(name, true), func() (uint64, any) {
		ei := electionInfo(n.fsm.table.Election(name))
		return ei.Index, ei
	})
}

// electionInfo is an election as the API shows it.
func electionInfo(li locks.LockInfo) wire.ElectionInfo {
	out := wire.ElectionInfo{Name: li.Name, Index: uint64(li.ModifyIndex)}
	if li.Held {
		out.Leader = &wire.Leader{Value: li.Holder.Value, Term: uint64(li.Holder.Token), LeaseID: uint64(li.Holder.LeaseID)}
	}
	return out
}

// observe is GET /v1/elections/{name}/observe: a text/event-stream of the
// election, its current state first, then one event per change of leader or
// value, with a comment line every ObserveKeepaliveInterval while idle. It
// wakes on change (the hub), never polls.
func (n *Node) observe(c echo.Context) error {
	name, err := nameParam(c)
	if err != nil {
		return err
	}
	if err := n.readBarrier(c); err != nil {
		return err
	}
	release, err := n.hub.subscribe()
	if err != nil {
		return err
	}
	defer release()
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set(echo.HeaderCacheControl, "no-cache")
	w.WriteHeader(http.StatusOK)
	w.Flush()
	ctx := c.Request().Context()
	keepalive := time.NewTicker(ObserveKeepaliveInterval)
	defer keepalive.Stop()
	var last *wire.ElectionInfo
	for {
		changed, done := n.hub.watch(objectKey(name, true))
		var ei wire.ElectionInfo
		n.fsm.read(func(t *locks.Table) { ei = electionInfo(t.Election(name)) })
		if last == nil || !sameLeader(*last, ei) {
			if err := writeEvent(w, ei); err != nil {
				done()
				return nil // the client is gone
			}
			last = &ei
		}
		select {
		case <-changed:
		case <-keepalive.C:
			if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil {
				done()
				return nil
			}
			w.Flush()
		case <-ctx.Done():
			done()
			return nil
		}
		done()
	}
}

// sameLeader reports whether two states of an election show the same
// leader with the same value (a change of only the index is no event).
func sameLeader(a, b wire.ElectionInfo) bool {
	if a.Leader == nil || b.Leader == nil {
		return a.Leader == nil && b.Leader == nil
	}
	return *a.Leader == *b.Leader
}

func writeEvent(w *echo.Response, ei wire.ElectionInfo) error {
	b, err := json.Marshal(ei)
	assertf(err == nil, "marshal election: %v", err)
	if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
		return err
	}
	w.Flush()
	return nil
}
