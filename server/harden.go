package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/raftlock/raftlock/client/wire"
)

// Hardened HTTP (issue 10). The client listener's http.Server bounds the
// time of every phase of a connection (ReadHeaderTimeout, ClientReadTimeout,
// ClientWriteTimeout, ClientIdleTimeout) and the header bytes
// (HeaderBytesMax). The guard middleware below does the rest per request:
// the body cap, the rate limit and the caps on waiting requests.
//
// Why a write deadline per request rather than no WriteTimeout: most
// requests answer within ForwardTimeout, and a client that stops reading
// must not hold a goroutine and a connection forever, so the server's
// ClientWriteTimeout covers them. The requests that wait (blocking GETs,
// acquires and campaigns with a wait, event streams) are known from their
// route and parameters before their handler runs, so the guard moves their
// deadline with http.ResponseController: a waiting request gets its wait plus
// WaitWriteMargin, and an event stream, which has no end, gets
// StreamWriteTimeout for each write, so a stream stays open as long as its
// client reads it and is cut once a write stalls that long.

// guard holds the per-client state of the client listener's protection.
type guard struct {
	// rate is nil when the rate limit is off.
	rate  *rateLimiter
	waits *waitLimiter
	// now is the clock of the rate limit (tests inject a fake one).
	now func() time.Time
}

// newGuard builds the guard of lim; now nil means time.Now.
func newGuard(lim HTTPLimits, now func() time.Time) *guard {
	if now == nil {
		now = time.Now
	}
	g := &guard{waits: newWaitLimiter(WaitsPerClientMax, WaitsMax), now: now}
	if lim.RateLimit > 0 {
		g.rate = newRateLimiter(lim.RateLimit, lim.rateBurst(), RateKeysMax)
	}
	return g
}

// protect guards every request of the client listener, in this order: the
// rate limit of its client (429 with the Retry-After of the next token),
// the body cap (413 for a declared length over BodyBytesMax before a byte
// of it is read; any other body is cut at BodyBytesMax), and, for a request
// that waits, a slot of the wait caps (429) and a write deadline that fits
// its wait. A request another member forwarded went through its guard
// there; the peer listener does not guard it again (its remote address is
// that member, and its slots are counted where the client is connected).
func (n *Node) protect(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if _, fwd := forwardedBy(r.Context()); fwd {
			return next(c)
		}
		key := clientKey(r)
		if ok, err := n.rateLimit(c, key); !ok {
			return err
		}
		if r.ContentLength > BodyBytesMax {
			return fmt.Errorf("%w: body is %d bytes, max %d", ErrTooLarge, r.ContentLength, BodyBytesMax)
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(c.Response(), r.Body, BodyBytesMax)
		}
		w, err := classify(c)
		if err != nil {
			return err
		}
		if w.kind == waitNone {
			return next(c)
		}
		release, err := n.guard.waits.acquire(key)
		if err != nil {
			n.log.Debug("waiting request refused", zap.String("path", c.Path()), zap.String("remote", r.RemoteAddr), zap.Error(err))
			return err
		}
		defer release()
		extendWrite(c, w)
		return next(c)
	}
}

// rateLimit takes a token of key's bucket. Out of tokens, it answers 429
// itself, with the Retry-After of the next token, and returns false and
// the error (nil once the answer is written) protect returns. Health
// checks are not limited: a load balancer polling them must not take a
// node out of service.
func (n *Node) rateLimit(c echo.Context, key string) (bool, error) {
	if n.guard.rate == nil {
		return true, nil
	}
	switch c.Path() {
	case PathLivez, PathReadyz, PathHealthLeader:
		return true, nil
	}
	ok, after := n.guard.rate.allow(key, n.guard.now())
	if ok {
		return true, nil
	}
	err := fmt.Errorf("%w: client is over its rate limit of %v requests/s (burst %d); retry in %v",
		ErrTooManyRequests, n.cfg.RateLimit, n.cfg.rateBurst(), after)
	n.log.Debug("request over the rate limit", zap.String("path", c.Path()), zap.String("remote", c.Request().RemoteAddr))
	secs := max(1, int(math.Ceil(after.Seconds())))
	c.Response().Header().Set(wire.HeaderRetryAfter, strconv.Itoa(secs))
	return false, c.JSON(http.StatusTooManyRequests, wire.Error{Error: wire.ErrorDetail{Code: wire.CodeTooManyRequests, Message: err.Error()}})
}

// clientKey names the client of r for the rate limit and the wait caps: its
// bearer token when it sends an Authorization header (hashed: the key stays
// in memory and must not be a secret), else its remote IP, an IPv6 client
// by its /64, which one host commonly owns whole.
func clientKey(r *http.Request) string {
	if auth := r.Header.Get(echo.HeaderAuthorization); auth != "" {
		sum := sha256.Sum256([]byte(auth))
		return "token:" + hex.EncodeToString(sum[:16])
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return "ip:" + host
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		p, err := addr.Prefix(64)
		assertf(err == nil, "prefix 64 of %v: %v", addr, err)
		return "ip:" + p.String()
	}
	return "ip:" + addr.String()
}

// waitKind says how a request holds its connection.
type waitKind int

const (
	// waitNone answers at once.
	waitNone waitKind = iota
	// waitBlocking answers within its wait.
	waitBlocking
	// waitStream answers until the client or the node goes away.
	waitStream
)

// waitClass is how long a request may hold its connection.
type waitClass struct {
	kind waitKind
	// wait is the longest a waitBlocking request waits.
	wait time.Duration
}

// classify tells a waiting request from one that answers at once, by the
// same parameters its handler reads: an event stream by its route, a
// blocking GET by ?index= (and ?wait= unless 0), an acquire or campaign by
// the wait of its body, which it reads here and puts back. Parameters the
// handler will refuse classify as not waiting: the handler answers 400 at
// once. Only a body over BodyBytesMax is an error here.
func classify(c echo.Context) (waitClass, error) {
	r := c.Request()
	switch {
	case r.Method == http.MethodGet && c.Path() == PathElectionObserve:
		return waitClass{kind: waitStream}, nil
	case r.Method == http.MethodGet && c.QueryParams().Has("index"):
		wait := BlockWaitDefault
		if s := c.QueryParam("wait"); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || validateWait("wait", d) != nil {
				return waitClass{}, nil
			}
			wait = d
		}
		return blockingFor(wait), nil
	case r.Method == http.MethodPost && (c.Path() == PathLockAcquire || c.Path() == PathElectionCampaign):
		wait, err := peekWait(r)
		return blockingFor(wait), err
	}
	return waitClass{}, nil
}

// blockingFor classifies a request that waits up to wait.
func blockingFor(wait time.Duration) waitClass {
	if wait <= 0 || wait > WaitMax {
		return waitClass{}
	}
	return waitClass{kind: waitBlocking, wait: wait}
}

// peekWait reads r's body (already capped at BodyBytesMax), puts it back for
// the handler, and returns its "wait" field; 0 when it has none or does not
// parse (the handler refuses that).
func peekWait(r *http.Request) (time.Duration, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return 0, nil
	}
	b, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return 0, fmt.Errorf("%w: body is over %d bytes, max %d", ErrTooLarge, mbe.Limit, BodyBytesMax)
	}
	if err != nil {
		return 0, invalidArgf("read body: %v", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	var body struct {
		Wait wire.Duration `json:"wait"`
	}
	if json.Unmarshal(b, &body) != nil {
		return 0, nil
	}
	return body.Wait.D(), nil
}

// extendWrite moves the write deadline of a waiting request past its wait;
// an event stream gets StreamWriteTimeout anew before each write.
func extendWrite(c echo.Context, w waitClass) {
	res := c.Response()
	switch w.kind {
	case waitBlocking:
		// An error: the connection is closed; the handler's write says so.
		if err := setWriteDeadline(http.NewResponseController(res.Writer), time.Now().Add(w.wait+WaitWriteMargin)); err != nil {
			return
		}
	case waitStream:
		res.Writer = &streamWriter{ResponseWriter: res.Writer, rc: http.NewResponseController(res.Writer)}
	}
}

// setWriteDeadline sets the write deadline of the connection (the stream,
// in HTTP/2). A writer that has none (a test recorder) needs none; any
// other error means the connection is closed, which its next write reports.
func setWriteDeadline(rc *http.ResponseController, t time.Time) error {
	if err := rc.SetWriteDeadline(t); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("set write deadline: %w", err)
	}
	return nil
}

// streamWriter is the writer of an event stream: every write and flush
// must finish within StreamWriteTimeout of its start, so a client that
// stops reading is cut while one that reads keeps its stream.
type streamWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func (s *streamWriter) extend() error {
	return setWriteDeadline(s.rc, time.Now().Add(StreamWriteTimeout))
}

// Write writes b with a fresh deadline.
func (s *streamWriter) Write(b []byte) (int, error) {
	if err := s.extend(); err != nil {
		return 0, err
	}
	return s.ResponseWriter.Write(b)
}

// FlushError flushes with a fresh deadline (http.ResponseController and
// echo's Response.Flush find it).
func (s *streamWriter) FlushError() error {
	if err := s.extend(); err != nil {
		return err
	}
	return s.rc.Flush()
}

// Unwrap gives http.ResponseController the writer underneath.
func (s *streamWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
