package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/locks"
)

// Paths of the lock, lease and election API (DESIGN.md §5), in echo's
// syntax. A name with '/' travels escaped as %2F in one segment.
const (
	PathLeases           = "/v1/leases"
	PathLease            = "/v1/leases/:id"
	PathLeaseKeepalive   = "/v1/leases/:id/keepalive"
	PathLocks            = "/v1/locks"
	PathLock             = "/v1/locks/:name"
	PathLockAcquire      = "/v1/locks/:name/acquire"
	PathLockRelease      = "/v1/locks/:name/release"
	PathLockFence        = "/v1/locks/:name/fence"
	PathElection         = "/v1/elections/:name"
	PathElectionCampaign = "/v1/elections/:name/campaign"
	PathElectionProclaim = "/v1/elections/:name/proclaim"
	PathElectionResign   = "/v1/elections/:name/resign"
	PathElectionObserve  = "/v1/elections/:name/observe"
	PathMetrics          = "/metrics"
)

// Route is one method and path the client API serves.
type Route struct {
	Method string
	Path   string
}

// Routes lists every route of the client listener, sorted by path and
// method (the OpenAPI test compares it with openapi.yaml).
func (n *Node) Routes() []Route {
	var out []Route
	for _, r := range n.echo.Routes() {
		if r.Method == echo.RouteNotFound {
			continue
		}
		out = append(out, Route{Method: r.Method, Path: r.Path})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// registerAPI mounts the guard of the client listener (harden.go) and the
// lock, lease and election endpoints. Each endpoint goes through
// leaderRoute: served here on the leader (or with ?stale=true), forwarded
// otherwise.
func (n *Node) registerAPI(e *echo.Echo) {
	// Every route of the client listener, health and metrics included.
	e.Use(n.protect)
	// Access control (acl.go): after the guard, before every handler.
	e.Use(n.aclGuard())
	lead := n.leaderRoute
	n.registerACL(e)
	e.POST(PathLeases, n.createLease, limitBody, lead)
	e.GET(PathLease, n.getLease, lead)
	e.DELETE(PathLease, n.revokeLease, limitBody, lead)
	e.POST(PathLeaseKeepalive, n.keepalive, limitBody, lead)
	e.GET(PathLocks, n.listLocks, lead)
	e.GET(PathLock, n.getLock, lead)
	e.POST(PathLockAcquire, n.acquireLock, limitBody, lead)
	e.POST(PathLockRelease, n.releaseLock, limitBody, lead)
	e.GET(PathLockFence, n.fence, lead)
	e.GET(PathElection, n.getElection, lead)
	e.POST(PathElectionCampaign, n.campaign, limitBody, lead)
	e.POST(PathElectionProclaim, n.proclaim, limitBody, lead)
	e.POST(PathElectionResign, n.resign, limitBody, lead)
	e.GET(PathElectionObserve, n.observe, lead)
}

// refusal turns a lock table refusal into the error the handler returns;
// lock_held carries the holder.
func refusal(res locks.Result, election bool) error {
	if errors.Is(res.Err, locks.ErrLockHeld) && res.Holder.Token != 0 {
		return &heldError{err: res.Err, holder: wireHolder(res.Holder, election)}
	}
	return res.Err
}

// wireHolder is h as the API shows it.
func wireHolder(h locks.Holder, election bool) *wire.Holder {
	wh := &wire.Holder{LeaseID: uint64(h.LeaseID), Owner: h.Owner, Token: uint64(h.Token), AcquiredAt: time.Unix(0, h.AcquiredAt).UTC()}
	if election {
		wh.Value = h.Value
	}
	return wh
}

// writeJSON writes v with status outside echo (the forwarder's errors).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	assertf(err == nil, "marshal %T: %v", v, err)
	w.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	w.Header().Set(echo.HeaderContentLength, strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n')) // the client may be gone; nothing to do about it
}
