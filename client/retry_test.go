// These tests prove the Client's transport rules against the fake with
// injected faults: Retry-After is honoured, a dead endpoint is skipped, the
// leader named in X-Raftlock-Leader is preferred, every retry of one call
// carries the same Idempotency-Key so a lost answer is never a second grant,
// 4xx and 500 answers are never retried, and backoff is capped with jitter.
package client

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

// faultHook answers the first n requests whose path contains sub with fault;
// the others reach the fake. It records the time of every matching request.
type faultHook struct {
	mu    sync.Mutex
	n     int
	sub   string
	fault func(n *fakeNode, w http.ResponseWriter, r *http.Request)
	times []time.Time
}

func (h *faultHook) install(node *fakeNode) {
	node.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, h.sub) {
			return false
		}
		h.mu.Lock()
		h.times = append(h.times, time.Now())
		hit := h.n > 0
		h.n--
		h.mu.Unlock()
		if !hit {
			return false
		}
		h.fault(node, w, r)
		return true
	})
}

func (h *faultHook) seen() []time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Time(nil), h.times...)
}

// answer503 answers no_leader, with Retry-After when after is set.
func answer503(after string) func(*fakeNode, http.ResponseWriter, *http.Request) {
	return func(_ *fakeNode, w http.ResponseWriter, _ *http.Request) {
		if after != "" {
			w.Header().Set(wire.HeaderRetryAfter, after)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":{"code":"no_leader","message":"no leader"}}`))
	}
}

// applyThenDrop lets the fake apply the request, then drops the connection
// before the answer leaves: the client cannot know it was applied.
func applyThenDrop(n *fakeNode, w http.ResponseWriter, r *http.Request) {
	n.mux.ServeHTTP(httptest.NewRecorder(), r)
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		n.t.Errorf("Hijack() = %v", err)
		return
	}
	_ = conn.Close() // the point is to drop it
}

// applyThen504 lets the fake apply the request, then answers timeout.
func applyThen504(n *fakeNode, w http.ResponseWriter, r *http.Request) {
	n.mux.ServeHTTP(httptest.NewRecorder(), r)
	writeAnswer(w, fail(http.StatusGatewayTimeout, wire.CodeTimeout, "gave up"))
}

func TestRetryAfterHonoured(t *testing.T) {
	ctx := testContext(t)
	node := startFake(t)
	h := &faultHook{n: 1, sub: "/v1/cluster", fault: answer503("1")}
	h.install(node)
	c := fastRetries(newTestClient(t, []string{node.URL()}))
	if _, err := c.Cluster(ctx); err != nil {
		t.Fatalf("Cluster() = %v; want success after one 503", err)
	}
	seen := h.seen()
	if len(seen) != 2 {
		t.Fatalf("Cluster() sent %d requests; want 2", len(seen))
	}
	if gap := seen[1].Sub(seen[0]); gap < time.Second {
		t.Errorf("retry came %v after the 503 with Retry-After: 1; want >= 1s", gap)
	}
}

func TestDeadEndpointSkipped(t *testing.T) {
	ctx := testContext(t)
	node := startFake(t)
	dead := deadURL(t)
	c := fastRetries(newTestClient(t, []string{dead, node.URL()}))
	if _, err := c.Cluster(ctx); err != nil {
		t.Fatalf("Cluster() with a dead first endpoint = %v; want success", err)
	}
	if got := c.Endpoints()[0]; got != node.URL() {
		t.Errorf("preferred endpoint after failover = %s; want %s", got, node.URL())
	}
	before := len(node.requests())
	if _, err := c.Cluster(ctx); err != nil {
		t.Fatalf("Cluster() = %v", err)
	}
	if got := len(node.requests()) - before; got != 1 {
		t.Errorf("second call reached the live endpoint %d times; want 1 (no detour)", got)
	}
}

// deadURL returns the URL of a port nothing listens on.
func deadURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestLeaderHeaderPreferred(t *testing.T) {
	for _, tc := range []struct {
		name      string
		configure func(nodes []*fakeNode) []string
	}{
		{"leader among endpoints", func(n []*fakeNode) []string { return []string{n[0].URL(), n[1].URL()} }},
		{"leader learned from header", func(n []*fakeNode) []string { return []string{n[0].URL()} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			nodes := startFakeCluster(t, 2)
			nodes[0].setLeader(nodes[1].URL())
			c := newTestClient(t, tc.configure(nodes))
			if _, err := c.CreateLease(ctx, time.Second); err != nil {
				t.Fatalf("CreateLease() = %v", err)
			}
			for i := 0; i < 3; i++ {
				if _, err := c.Lock(ctx, "x"); err != nil {
					t.Fatalf("Lock(%q) = %v", "x", err)
				}
			}
			if got := len(nodes[0].requests()); got != 1 {
				t.Errorf("follower got %d requests; want 1 (then the leader is preferred)", got)
			}
			if got := len(nodes[1].requests()); got != 3 {
				t.Errorf("leader got %d requests; want 3", got)
			}
		})
	}
}

var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestIdempotencyKeyAcrossRetries(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault func(*fakeNode, http.ResponseWriter, *http.Request)
		n     int
	}{
		{"503 before apply", answer503(""), 2},
		{"answer lost after apply", applyThenDrop, 2},
		{"504 after apply", applyThen504, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			node := startFake(t)
			c := fastRetries(newTestClient(t, []string{node.URL()}))
			l, err := c.CreateLease(ctx, 10*time.Second)
			if err != nil {
				t.Fatalf("CreateLease() = %v", err)
			}
			(&faultHook{n: tc.n, sub: "/acquire", fault: tc.fault}).install(node)
			g, err := c.Acquire(ctx, "job", AcquireOptions{LeaseID: LeaseID(l.LeaseID)})
			if err != nil {
				t.Fatalf("Acquire(%q) = %v; want a grant despite %s", "job", err, tc.name)
			}
			var keys []string
			for _, r := range node.requests() {
				if strings.HasSuffix(r.path, "/acquire") {
					keys = append(keys, r.key)
				}
			}
			if len(keys) != tc.n+1 {
				t.Fatalf("Acquire sent %d requests; want %d", len(keys), tc.n+1)
			}
			for i, k := range keys {
				if !requestIDPattern.MatchString(k) {
					t.Errorf("attempt %d Idempotency-Key = %q; want 32 hex digits", i, k)
				}
				if k != keys[0] {
					t.Errorf("attempt %d Idempotency-Key = %q; want %q as on attempt 0", i, k, keys[0])
				}
			}
			info, err := c.Lock(ctx, "job")
			if err != nil || info.Holder == nil || info.Holder.Token != g.Token {
				t.Fatalf("Lock(%q) = %+v, %v; want held with token %d", "job", info, err, g.Token)
			}
			// A new call is a new request id, so a second acquire is refused.
			if _, err := c.Acquire(ctx, "job", AcquireOptions{LeaseID: LeaseID(l.LeaseID)}); !errors.Is(err, ErrLockHeld) {
				t.Errorf("second Acquire(%q) = %v; want %v", "job", err, ErrLockHeld)
			}
			if ks := node.requests(); ks[len(ks)-1].key == keys[0] {
				t.Errorf("a new call reused Idempotency-Key %q", keys[0])
			}
		})
	}
}

func TestNoRetryOnClientErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		code   string
		want   error
	}{
		{"lock_held", 409, wire.CodeLockHeld, ErrLockHeld},
		{"invalid_argument", 400, wire.CodeInvalidArgument, ErrInvalidArgument},
		{"not_found", 404, wire.CodeNotFound, ErrNotFound},
		{"too_many_requests", 429, wire.CodeTooManyRequests, ErrTooManyRequests},
		{"internal", 500, wire.CodeInternal, ErrInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			node := startFake(t)
			h := &faultHook{n: AttemptsMax, sub: "/acquire", fault: func(_ *fakeNode, w http.ResponseWriter, _ *http.Request) {
				writeAnswer(w, fail(tc.status, tc.code, "injected"))
			}}
			h.install(node)
			c := fastRetries(newTestClient(t, []string{node.URL()}))
			_, err := c.Acquire(ctx, "job", AcquireOptions{TTL: time.Second})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Acquire(%q) = %v; want %v", "job", err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != tc.status || e.Message != "injected" {
				t.Errorf("Acquire(%q) error = %#v; want status %d, message %q", "job", e, tc.status, "injected")
			}
			if got := len(h.seen()); got != 1 {
				t.Errorf("Acquire(%q) sent %d requests; want 1 (no retry of %d)", "job", got, tc.status)
			}
		})
	}
}

func TestGivesUpAfterAttemptsMax(t *testing.T) {
	ctx := testContext(t)
	node := startFake(t)
	h := &faultHook{n: 1 << 30, sub: "/v1/cluster", fault: answer503("")}
	h.install(node)
	c := fastRetries(newTestClient(t, []string{node.URL()}))
	_, err := c.Cluster(ctx)
	if !errors.Is(err, ErrNoLeader) {
		t.Fatalf("Cluster() = %v; want %v", err, ErrNoLeader)
	}
	if got := len(h.seen()); got != AttemptsMax {
		t.Errorf("Cluster() sent %d requests; want AttemptsMax = %d", got, AttemptsMax)
	}
}

func TestBackoff(t *testing.T) {
	p := defaultRetryPolicy()
	for _, tc := range []struct {
		name    string
		n       int
		err     error
		skip    bool
		lo, hi  time.Duration
		backoff time.Duration
	}{
		{"first retry", 1, nil, false, BackoffMin / 2, BackoffMin, BackoffMin},
		{"doubles", 3, nil, false, 2 * BackoffMin, 4 * BackoffMin, 4 * BackoffMin},
		{"capped", 30, nil, false, BackoffMax / 2, BackoffMax, BackoffMax},
		{"retry-after is a floor", 1, &Error{Code: wire.CodeNoLeader, RetryAfter: time.Second}, false, time.Second, time.Second + BackoffMin/2, BackoffMin},
		{"retry-after capped", 1, &Error{Code: wire.CodeNoLeader, RetryAfter: time.Hour}, false, RetryAfterMax, RetryAfterMax + BackoffMin/2, BackoffMin},
		{"503 retry-after skipped for another endpoint", 1, &Error{Status: 503, Code: wire.CodeNoLeader, RetryAfter: time.Second}, true, BackoffMin / 2, BackoffMin, BackoffMin},
		{"429 retry-after never skipped", 1, &Error{Status: 429, Code: wire.CodeTooManyRequests, RetryAfter: time.Second}, true, time.Second, time.Second + BackoffMin/2, BackoffMin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.backoff(tc.n); got != tc.backoff {
				t.Errorf("backoff(%d) = %v; want %v", tc.n, got, tc.backoff)
			}
			for i := 0; i < 100; i++ {
				if d := p.delay(tc.n, tc.err, tc.skip); d < tc.lo || d > tc.hi {
					t.Fatalf("delay(%d, %v) = %v; want in [%v, %v]", tc.n, tc.err, d, tc.lo, tc.hi)
				}
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name, in string
		want     time.Duration
	}{
		{"empty", "", 0},
		{"seconds", "2", 2 * time.Second},
		{"zero", "0", 0},
		{"negative", "-3", 0},
		{"huge", "99999999999", RetryAfterMax},
		{"date", now.Add(3 * time.Second).Format(http.TimeFormat), 3 * time.Second},
		{"past date", now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"garbage", "soon", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseRetryAfter(tc.in, now); got != tc.want {
				t.Errorf("parseRetryAfter(%q) = %v; want %v", tc.in, got, tc.want)
			}
		})
	}
}
