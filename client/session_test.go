// These tests prove a Session keeps its lease alive past its ttl, and that
// Done closes when keepalives stop being acknowledged, before the send time
// of the last acknowledged keepalive plus ttl (the earliest moment any server
// could expire the lease), whichever way they fail; a keepalive answered
// not_found ends the session at once, and Close revokes the lease. Send
// times are taken from a RoundTripper wrapped around the client's own.
package client

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// sendLog records every HTTP attempt a client makes.
type sendLog struct {
	next http.RoundTripper

	mu      sync.Mutex
	entries []sendEntry
}

type sendEntry struct {
	path   string
	sent   time.Time
	status int
}

func (l *sendLog) RoundTrip(r *http.Request) (*http.Response, error) {
	sent := time.Now()
	resp, err := l.next.RoundTrip(r)
	e := sendEntry{path: r.URL.Path, sent: sent}
	if err == nil {
		e.status = resp.StatusCode
	}
	l.mu.Lock()
	l.entries = append(l.entries, e)
	l.mu.Unlock()
	return resp, err
}

// acked returns the send times of the keepalives answered 200.
func (l *sendLog) acked() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []time.Time
	for _, e := range l.entries {
		if strings.HasSuffix(e.path, "/keepalive") && e.status == http.StatusOK {
			out = append(out, e.sent)
		}
	}
	return out
}

// recordSends wraps c's transport in a sendLog.
func recordSends(c *Client) *sendLog {
	l := &sendLog{next: c.hc.Transport}
	c.hc.Transport = l
	return l
}

func TestSessionOutlivesTTL(t *testing.T) {
	ctx := testContext(t)
	c := newTestClient(t, testEndpoints(t))
	log := recordSends(c)
	ttl := time.Second
	if !realServer() {
		ttl = 500 * time.Millisecond
	}
	s, err := NewSession(ctx, c, WithTTL(ttl))
	if err != nil {
		t.Fatalf("NewSession(ttl %v) = %v", ttl, err)
	}
	start := time.Now()
	waitUntil(t, ctx, "four acknowledged keepalives", func() bool { return len(log.acked()) >= 4 || s.alive() != nil })
	select {
	case <-s.Done():
		t.Fatalf("Done closed after %v with keepalives acknowledged: %v", time.Since(start), s.Err())
	default:
	}
	if lived := time.Since(start); lived < ttl {
		t.Errorf("four keepalives took %v; want at least ttl %v at one per ttl/%d", lived, ttl, KeepAliveDivisor)
	}
	info, err := c.Lease(ctx, s.Lease())
	if err != nil || LeaseID(info.LeaseID) != s.Lease() {
		t.Fatalf("Lease(%d) = %+v, %v; want it alive", s.Lease(), info, err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if _, err := c.Lease(ctx, s.Lease()); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lease(%d) after Close = %v; want %v (revoked)", s.Lease(), err, ErrNotFound)
	}
	if err := s.Err(); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("Err() after Close = %v; want %v", err, ErrSessionExpired)
	}
	if _, err := NewMutex(s, "after-close").Lock(ctx); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("Lock() on a closed session = %v; want %v", err, ErrSessionExpired)
	}
}

func TestSessionDoneBeforeServerExpiry(t *testing.T) {
	hang := func(n *fakeNode, _ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-n.state.quit:
		}
	}
	drop := func(n *fakeNode, w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			n.t.Errorf("Hijack() = %v", err)
			return
		}
		_ = conn.Close() // the point is to drop it
	}
	for _, tc := range []struct {
		name  string
		fault func(*fakeNode, http.ResponseWriter, *http.Request)
	}{
		{"keepalives answer no_leader", answer503("1")},
		{"keepalives hang", hang},
		{"connections dropped", drop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			node := startFake(t)
			c := fastRetries(newTestClient(t, []string{node.URL()}))
			log := recordSends(c)
			// Short enough to run fast, long enough that a loaded machine
			// (2 CPUs at load 20 with -race, measured) answers keepalives in time.
			const ttl = 500 * time.Millisecond
			s, err := NewSession(ctx, c, WithTTL(ttl))
			if err != nil {
				t.Fatalf("NewSession() = %v", err)
			}
			t.Cleanup(func() { _ = s.Close() })
			waitUntil(t, ctx, "three acknowledged keepalives", func() bool { return len(log.acked()) >= 3 || s.alive() != nil })
			if err := s.alive(); err != nil {
				t.Fatalf("session lost while keepalives were answered: %v", err)
			}
			(&faultHook{n: 1 << 30, sub: "/keepalive", fault: tc.fault}).install(node)
			waitClosed(t, s.Done(), 5*time.Second, "Done")
			closed := time.Now()
			acked := log.acked()
			last := acked[len(acked)-1]
			if deadline := last.Add(ttl); !closed.Before(deadline) {
				t.Errorf("Done closed %v after the last acknowledged keepalive was sent; want before ttl %v", closed.Sub(last), ttl)
			}
			if err := s.Err(); !errors.Is(err, ErrSessionExpired) {
				t.Errorf("Err() = %v; want %v", err, ErrSessionExpired)
			}
		})
	}
}

func TestSessionLostOnNotFound(t *testing.T) {
	ctx := testContext(t)
	c := newTestClient(t, testEndpoints(t))
	// With ttl 2s the next keepalive goes within 667ms of the revoke, while
	// the loss timer cannot fire before 2s*9/10 - 667ms = 1.13s after it: a
	// close within ttl/2 = 1s can only be the not_found answer's doing.
	ttl := 2 * time.Second
	s, err := NewSession(ctx, c, WithTTL(ttl))
	if err != nil {
		t.Fatalf("NewSession() = %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	start := time.Now()
	if err := c.Revoke(ctx, s.Lease()); err != nil {
		t.Fatalf("Revoke(%d) = %v", s.Lease(), err)
	}
	// The next keepalive (within ttl/3) is answered not_found.
	waitClosed(t, s.Done(), ttl/2, "Done after the lease was revoked")
	if took := time.Since(start); took > ttl/2 {
		t.Errorf("Done closed %v after the revoke; want within ttl/2 = %v", took, ttl/2)
	}
	if err := s.Err(); !errors.Is(err, ErrSessionExpired) || !errors.Is(err, ErrNotFound) {
		t.Errorf("Err() = %v; want %v wrapping %v", err, ErrSessionExpired, ErrNotFound)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close() of a lost session = %v; want nil", err)
	}
}

func TestNewSessionRejects(t *testing.T) {
	ctx := testContext(t)
	c := newTestClient(t, []string{startFake(t).URL()})
	for _, tc := range []struct {
		name string
		ttl  time.Duration
	}{
		{"zero", 0},
		{"negative", -time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewSession(ctx, c, WithTTL(tc.ttl)); !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("NewSession(ttl %v) = %v; want %v", tc.ttl, err, ErrInvalidArgument)
			}
		})
	}
}
