// The SDK's tests run against the in-test fake of fake_test.go by default.
// Tests of behaviour any server must show take their endpoints from
// testEndpoints, so setting RAFTLOCK_TEST_ENDPOINTS (comma-separated client
// URLs) runs them against a real cluster instead; tests that inject faults
// always use the fake.
package client

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

const (
	// testTimeout bounds every test's context.
	testTimeout = 30 * time.Second
	// pollInterval is how often waitUntil re-checks a condition that has no
	// channel to wait on.
	pollInterval = 5 * time.Millisecond
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testEndpoints returns the endpoints of the server under test: those in
// RAFTLOCK_TEST_ENDPOINTS, else a fake started for this test.
func testEndpoints(t *testing.T) []string {
	t.Helper()
	if env := os.Getenv("RAFTLOCK_TEST_ENDPOINTS"); env != "" {
		return strings.Split(env, ",")
	}
	return []string{startFake(t).URL()}
}

// realServer reports whether the tests run against a real cluster.
func realServer() bool { return os.Getenv("RAFTLOCK_TEST_ENDPOINTS") != "" }

// newTestClient returns a Client for eps closed when the test ends.
func newTestClient(t testing.TB, eps []string) *Client {
	t.Helper()
	c, err := New(Config{Endpoints: eps, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("New(%v) = %v", eps, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// fastRetries shortens a client's backoff so fault tests run quickly; the
// server's Retry-After still applies.
func fastRetries(c *Client) *Client {
	c.retry.min, c.retry.max = time.Millisecond, 10*time.Millisecond
	return c
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// waitUntil polls cond until it holds or ctx ends (then the test fails).
func waitUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// recv waits for a value on ch or fails the test after d.
func recv[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatalf("waiting for %s: channel closed", what)
		}
		return v
	case <-timer.C:
		t.Fatalf("waiting for %s: nothing after %v", what, d)
	}
	var zero T
	return zero
}

// waitClosed waits until ch is closed or fails the test after d.
func waitClosed(t *testing.T, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ch:
	case <-timer.C:
		t.Fatalf("waiting for %s: not closed after %v", what, d)
	}
}
