package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/consensus"
)

// Forwarding (DESIGN.md §5: any node accepts any request). A follower sends
// a request that needs the leader, unchanged (method, path, query, body,
// headers with the Idempotency-Key), to the leader's peer listener under
// PathForwardPrefix; the leader serves it with the same client API and
// stamps X-Raftlock-Leader with its advertised client URL, which the
// follower passes back. Forwarding travels node to node on the peer
// listener, so it needs no client URL of another member and is protected by
// peer mutual TLS when that is configured. A forwarded request is never
// forwarded again: a node that receives one and is not the leader answers
// no_leader, so two nodes never ping-pong.
const (
	// PathForwardPrefix is the path prefix of forwarded client requests on
	// the peer listener.
	PathForwardPrefix = "/raftlock/v1/forward"
	// HeaderForwardedBy names the member that forwarded a request.
	HeaderForwardedBy = "X-Raftlock-Forwarded-By"
)

type ctxKey int

const (
	// forwardedKey marks a request that arrived forwarded on the peer
	// listener; its value is the forwarding member's name.
	forwardedKey ctxKey = iota
	// targetKey carries the *url.URL a request is forwarded to.
	targetKey
)

// forwardedBy returns the member that forwarded the request, or "".
func forwardedBy(ctx context.Context) (string, bool) {
	by, ok := ctx.Value(forwardedKey).(string)
	return by, ok
}

// peerHandler serves the peer listener: forwarded client requests go to the
// client API, everything else to the Raft transport.
func (n *Node) peerHandler() http.Handler {
	raft := n.trans.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == PathMember {
			n.serveMember(w, r)
			return
		}
		rest, ok := strings.CutPrefix(r.URL.Path, PathForwardPrefix)
		if !ok || !strings.HasPrefix(rest, "/") {
			raft.ServeHTTP(w, r)
			return
		}
		// Like the client listener's requests, a forwarded one ends when the
		// node shuts down (its waits and streams would hold Run up).
		ctx, cancel := context.WithCancel(context.WithValue(r.Context(), forwardedKey, r.Header.Get(HeaderForwardedBy)))
		defer cancel()
		stop := context.AfterFunc(n.clientCtx, cancel)
		defer stop()
		r2 := r.Clone(ctx)
		r2.URL.Path = rest
		r2.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, PathForwardPrefix)
		n.api.ServeHTTP(w, r2)
	})
}

// newForwarder builds the reverse proxy to the leader's peer listener: h2c,
// or h2 over mutual TLS with the peer client certificate. It flushes at once
// so event streams and long polls pass through unbuffered.
func (n *Node) newForwarder(clientTLS *tls.Config) (*httputil.ReverseProxy, *http.Transport) {
	var protos http.Protocols
	tr := &http.Transport{Protocols: &protos, MaxIdleConnsPerHost: ForwardIdleConnsMax}
	if clientTLS == nil {
		protos.SetUnencryptedHTTP2(true)
	} else {
		protos.SetHTTP2(true)
		tr.TLSClientConfig = clientTLS.Clone()
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			target, ok := pr.In.Context().Value(targetKey).(*url.URL)
			assertf(ok, "forwarded request without a target")
			pr.SetURL(target)
			pr.Out.Header.Set(HeaderForwardedBy, n.self.Name)
		},
		Transport:     tr,
		FlushInterval: -1,
		ErrorHandler:  n.forwardError,
		ErrorLog:      zap.NewStdLog(n.log.Named("forward").WithOptions(zap.IncreaseLevel(zap.WarnLevel))),
	}
	return rp, tr
}

// forwardError answers a request the leader could not be asked: the body
// was too large, the client left, or the leader is unreachable (no_leader:
// the request may be retried; it did not reach the leader, or if it did,
// its Idempotency-Key makes the retry safe).
func (n *Node) forwardError(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		err = fmt.Errorf("%w: body is over %d bytes, max %d", ErrTooLarge, mbe.Limit, BodyBytesMax)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		err = fmt.Errorf("forward to the leader: %w", context.DeadlineExceeded)
	default:
		err = fmt.Errorf("%w: forward to the leader: %v", consensus.ErrNoLeader, err)
	}
	n.log.Debug("forward failed", zap.String("path", r.URL.Path), zap.Error(err))
	status, code := errorStatus(err)
	if status == http.StatusServiceUnavailable {
		w.Header().Set(wire.HeaderRetryAfter, fmt.Sprint(RetryAfterSeconds))
	}
	writeJSON(w, status, wire.Error{Error: wire.ErrorDetail{Code: code, Message: err.Error()}})
}

// leaderRoute serves a request on the leader: here when this node leads (or
// for a GET with ?stale=true), else forwarded to the leader, else no_leader.
func (n *Node) leaderRoute(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method == http.MethodGet {
			stale, err := staleParam(c)
			if err != nil {
				return err
			}
			if stale {
				return next(c)
			}
		}
		st := n.drv.Status()
		if st.Role == consensus.RoleLeader {
			c.Response().Header().Set(wire.HeaderLeader, n.cfg.AdvertiseClientURL)
			return next(c)
		}
		if by, ok := forwardedBy(r.Context()); ok {
			return fmt.Errorf("%w: %s forwarded this request here but %s is %s", consensus.ErrNoLeader, by, n.self.Name, st.Role)
		}
		lead, ok := findMemberID(n.memberList(), st.Lead)
		if !ok {
			return fmt.Errorf("%w: %s knows no leader at term %d", consensus.ErrNoLeader, n.self.Name, st.Term)
		}
		target, err := url.Parse(lead.PeerURL + PathForwardPrefix)
		assertf(err == nil, "peer url %q of %s: %v", lead.PeerURL, lead.Name, err)
		n.metrics.forwarded.inc()
		n.forward.ServeHTTP(c.Response(), r.WithContext(context.WithValue(r.Context(), targetKey, target)))
		return nil
	}
}

func findMemberID(members []Member, id consensus.NodeID) (Member, bool) {
	for _, m := range members {
		if m.ID == id && id != consensus.None {
			return m, true
		}
	}
	return Member{}, false
}

// shutdownAnswers turns the errors of requests cut short by this node's
// shutdown (their context cancelled) into no_leader: the client retries on
// another node, where the request (with its Idempotency-Key) is safe to
// repeat. A client that went away itself gets the timeout nobody reads.
func (n *Node) shutdownAnswers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err != nil && errors.Is(err, context.Canceled) && n.clientCtx.Err() != nil {
			return fmt.Errorf("%w: %s is shutting down: %v", consensus.ErrNoLeader, n.self.Name, err)
		}
		return err
	}
}
