// These tests prove errors match by code with errors.Is through wrapping,
// read well, are decoded from JSON and non-JSON answers alike, and that New
// refuses a bad configuration with ErrInvalidArgument.
package client

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

func TestErrorIs(t *testing.T) {
	held := &Error{Status: 409, Code: wire.CodeLockHeld, Message: "lock \"a\" is held by lease 7"}
	for _, tc := range []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"same code", held, ErrLockHeld, true},
		{"wrapped twice", fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", held)), ErrLockHeld, true},
		{"other code", held, ErrNotHolder, false},
		{"sentinel itself", ErrNoLeader, ErrNoLeader, true},
		{"no code matches nothing", &Error{Status: 502}, &Error{}, false},
		{"session expired wrapped", fmt.Errorf("%w: lease 3", ErrSessionExpired), ErrSessionExpired, true},
		{"session expired is not a code", ErrSessionExpired, ErrNotFound, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := errors.Is(tc.err, tc.target); got != tc.want {
				t.Errorf("errors.Is(%v, %v) = %v; want %v", tc.err, tc.target, got, tc.want)
			}
		})
	}
}

func TestSentinelsCoverEveryCode(t *testing.T) {
	sentinels := []*Error{ErrInvalidArgument, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrLockHeld, ErrNotHolder,
		ErrStaleToken, ErrNotLeader, ErrChangeInProgress, ErrTooLarge, ErrTooManyRequests, ErrInternal, ErrNoLeader, ErrTimeout}
	have := map[string]bool{}
	for _, s := range sentinels {
		have[s.Code] = true
	}
	for _, c := range wire.Codes {
		if !have[c.Code] {
			t.Errorf("code %q has no sentinel", c.Code)
		}
	}
	if len(sentinels) != len(wire.Codes) {
		t.Errorf("%d sentinels for %d codes", len(sentinels), len(wire.Codes))
	}
}

func TestErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  *Error
		want string
	}{
		{"full", &Error{Status: 409, Code: "lock_held", Message: "held by lease 7"}, "raftlock: lock_held (409): held by lease 7"},
		{"no message", &Error{Status: 503, Code: "no_leader"}, "raftlock: no_leader (503)"},
		{"sentinel", ErrNotHolder, "raftlock: not_holder"},
		{"no code", &Error{Status: 502, Message: "bad gateway"}, "raftlock: http error (502): bad gateway"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q; want %q", got, tc.want)
			}
		})
	}
}

func TestDecodeError(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		header     http.Header
		body       string
		want       Error
		retryable  bool
		holderPart bool
	}{
		{"json lock_held with holder", 409, nil, `{"error":{"code":"lock_held","message":"held","holder":{"lease_id":7,"owner":"o","token":9,"acquired_at":"2026-01-01T00:00:00Z"}}}`,
			Error{Status: 409, Code: "lock_held", Message: "held"}, false, true},
		{"json no_leader with retry-after", 503, http.Header{"Retry-After": {"2"}}, `{"error":{"code":"no_leader","message":"election"}}`,
			Error{Status: 503, Code: "no_leader", Message: "election", RetryAfter: 2 * time.Second}, true, false},
		{"html from a proxy", 502, nil, "<html>bad gateway</html>", Error{Status: 502, Message: "<html>bad gateway</html>"}, true, false},
		{"plain 404", 404, nil, "404 page not found\n", Error{Status: 404, Code: "not_found", Message: "404 page not found"}, false, false},
		{"long body cut", 500, nil, strings.Repeat("x", 1000), Error{Status: 500, Code: "internal", Message: strings.Repeat("x", ErrorMessageBytesMax)}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tc.status, Header: tc.header, Body: io.NopCloser(strings.NewReader(tc.body))}
			if resp.Header == nil {
				resp.Header = http.Header{}
			}
			got := decodeError(resp)
			if (got.Holder != nil) != tc.holderPart {
				t.Errorf("decodeError(%.30q).Holder = %+v; want present %v", tc.body, got.Holder, tc.holderPart)
			}
			if tc.holderPart && (got.Holder.LeaseID != 7 || got.Holder.Token != 9) {
				t.Errorf("decodeError(%.30q).Holder = %+v; want lease 7 token 9", tc.body, got.Holder)
			}
			g := *got
			g.Holder = nil
			if g != tc.want {
				t.Errorf("decodeError(%.30q) = %+v; want %+v", tc.body, g, tc.want)
			}
			if got.retryable() != tc.retryable {
				t.Errorf("decodeError(%.30q).retryable() = %v; want %v", tc.body, got.retryable(), tc.retryable)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	many := make([]string, EndpointsMax+1)
	for i := range many {
		many[i] = fmt.Sprintf("http://127.0.0.1:%d", 7000+i)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no endpoints", Config{}},
		{"too many endpoints", Config{Endpoints: many}},
		{"no scheme", Config{Endpoints: []string{"127.0.0.1:7070"}}},
		{"wrong scheme", Config{Endpoints: []string{"ftp://127.0.0.1:7070"}}},
		{"no host", Config{Endpoints: []string{"http://"}}},
		{"query", Config{Endpoints: []string{"http://127.0.0.1:7070?x=1"}}},
		{"negative timeout", Config{Endpoints: []string{"http://127.0.0.1:7070"}, Timeout: -time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := New(tc.cfg); !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("New(%+v) = %v, %v; want %v", tc.cfg, c, err, ErrInvalidArgument)
			}
		})
	}
}

func TestNewNormalizes(t *testing.T) {
	c, err := New(Config{Endpoints: []string{"http://a:1/", "http://a:1", "https://b:2"}})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	defer c.Close()
	if got, want := fmt.Sprint(c.Endpoints()), "[http://a:1 https://b:2]"; got != want {
		t.Errorf("Endpoints() = %s; want %s (trailing slash trimmed, duplicates dropped)", got, want)
	}
}

func TestRequestValidation(t *testing.T) {
	ctx := testContext(t)
	node := startFake(t)
	c := newTestClient(t, []string{node.URL()})
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"negative lease ttl", func() error { _, err := c.CreateLease(ctx, -time.Second); return err }},
		{"negative wait", func() error { _, err := c.Acquire(ctx, "x", AcquireOptions{Wait: -time.Second}); return err }},
		{"wait over max", func() error { _, err := c.Acquire(ctx, "x", AcquireOptions{Wait: WaitMax + time.Second}); return err }},
		{"campaign wait over max", func() error {
			_, err := c.Campaign(ctx, "x", CampaignOptions{Value: "v", Wait: WaitMax + time.Second})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("%s = %v; want %v", tc.name, err, ErrInvalidArgument)
			}
		})
	}
	if n := len(node.requests()); n != 0 {
		t.Errorf("invalid calls sent %d requests; want 0", n)
	}
}
