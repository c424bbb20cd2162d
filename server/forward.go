package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
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
	// dialFailedKey carries a *dialFailure the forwarder fills instead of
	// answering when it could not even connect to the leader.
	dialFailedKey
)

// dialFailure records that a forward failed in a way that makes forwarding
// again, to the next leader, safe (forwardSafeToRepeat).
type dialFailure struct{ err error }

// forwardSafeToRepeat reports whether a forward that failed with err may be
// sent again: when the leader could not be dialed or the connection was
// found dead while writing the request (nothing was served), or when the
// request carries an Idempotency-Key (the leader answers a repeat with the
// first outcome). A request that may have been served without one is not.
func forwardSafeToRepeat(r *http.Request, err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && (op.Op == "dial" || op.Op == "write") {
		return true
	}
	return r.Header.Get(wire.HeaderIdempotencyKey) != "" && !errors.Is(err, context.Canceled)
}

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
	if df, ok := r.Context().Value(dialFailedKey).(*dialFailure); ok && forwardSafeToRepeat(r, err) {
		df.err = err // leaderRoute decides: forward again or answer
		return
	}
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
		if _, ok := forwardedBy(r.Context()); ok {
			if st := n.drv.Status(); st.Role != consensus.RoleLeader {
				by, _ := forwardedBy(r.Context())
				return fmt.Errorf("%w: %s forwarded this request here but %s is %s", consensus.ErrNoLeader, by, n.self.Name, st.Role)
			}
			c.Response().Header().Set(wire.HeaderLeader, n.cfg.AdvertiseClientURL)
			return next(c)
		}
		if st := n.drv.Status(); st.Role == consensus.RoleLeader {
			c.Response().Header().Set(wire.HeaderLeader, n.cfg.AdvertiseClientURL)
			return next(c)
		}
		// During an election the request waits for the next leader (up to
		// LeaderWaitElections election timeouts) instead of answering
		// no_leader with a Retry-After of a whole second at once.
		wait, cancel := context.WithTimeout(r.Context(), LeaderWaitElections*n.cfg.ElectionTimeout)
		defer cancel()
		body, err := forwardBody(r)
		if err != nil {
			return err
		}
		for attempt := 0; ; attempt++ {
			st := n.awaitStatus(wait, func(st consensus.Status) bool { return st.Lead != consensus.None })
			if st.Role == consensus.RoleLeader {
				r.Body = body()
				c.Response().Header().Set(wire.HeaderLeader, n.cfg.AdvertiseClientURL)
				return next(c)
			}
			lead, ok := findMemberID(n.memberList(), st.Lead)
			if !ok {
				return fmt.Errorf("%w: %s knows no leader at term %d", consensus.ErrNoLeader, n.self.Name, st.Term)
			}
			target, err := url.Parse(lead.PeerURL + PathForwardPrefix)
			assertf(err == nil, "peer url %q of %s: %v", lead.PeerURL, lead.Name, err)
			n.metrics.forwarded.inc()
			df := &dialFailure{}
			ctx := context.WithValue(context.WithValue(r.Context(), targetKey, target), dialFailedKey, df)
			fr := r.WithContext(ctx)
			fr.Body = body()
			// The client transport resends on a new connection by itself
			// when the pooled one was lost before the request was written.
			fr.GetBody = func() (io.ReadCloser, error) { return body(), nil }
			n.forward.ServeHTTP(c.Response(), fr)
			if df.err == nil {
				return nil
			}
			// The leader's process is gone (its port refuses): nothing was
			// sent, so once another leader is known the request goes there.
			if attempt+1 >= ForwardAttemptsMax || wait.Err() != nil {
				n.forwardError(c.Response(), r, fmt.Errorf("%w: forward to %s: %v", consensus.ErrNoLeader, lead.Name, df.err))
				return nil
			}
			n.awaitStatus(wait, func(now consensus.Status) bool { return now.Lead != st.Lead })
		}
	}
}

// forwardBody reads a forwardable request's body (bounded by BodyBytesMax)
// so it can be sent again, and returns a function giving a fresh reader of it.
func forwardBody(r *http.Request) (func() io.ReadCloser, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return func() io.ReadCloser { return http.NoBody }, nil
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, BodyBytesMax+1))
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return nil, fmt.Errorf("%w: body is over %d bytes, max %d", ErrTooLarge, mbe.Limit, BodyBytesMax)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading the body: %v", ErrInvalidArgument, err)
	}
	if len(data) > BodyBytesMax {
		return nil, fmt.Errorf("%w: body is over %d bytes, max %d", ErrTooLarge, BodyBytesMax, BodyBytesMax)
	}
	return func() io.ReadCloser { return io.NopCloser(bytes.NewReader(data)) }, nil
}

// awaitStatus returns this node's status once done holds for it, or when
// ctx ends; it wakes at every change of leader or role.
func (n *Node) awaitStatus(ctx context.Context, done func(consensus.Status) bool) consensus.Status {
	for {
		ch := n.drv.LeaderChanged()
		st := n.drv.Status()
		if done(st) || ctx.Err() != nil {
			return st
		}
		select {
		case <-ch:
		case <-ctx.Done():
		}
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
