// These tests prove the caps on waiting requests: a client gets at most
// its per-client slots and the node at most its total, each refusal is
// too_many_requests (429) naming both numbers, a released slot is reusable
// (releasing twice gives back one), and a client's entry goes with its
// last slot.
package server

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/raftlock/raftlock/client/wire"
)

func TestWaitLimiterCaps(t *testing.T) {
	l := newWaitLimiter(2, 3)
	var releases []func()
	take := func(key string) error {
		release, err := l.acquire(key)
		if err == nil {
			releases = append(releases, release)
		}
		return err
	}
	cases := []struct {
		name string
		key  string
		want string // "" for a slot; else a part of the refusal
	}{
		{"first of a", "a", ""},
		{"second of a", "a", ""},
		{"third of a over per client", "a", "client has 2 waiting requests and event streams open, max 2"},
		{"first of b", "b", ""},
		{"second of b over the node", "b", "node has 3 waiting requests and event streams open, max 3"},
		{"first of c over the node", "c", "node has 3 waiting requests and event streams open, max 3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := take(tc.key)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("acquire(%q) = %v; want a slot", tc.key, err)
				}
				return
			}
			if !errors.Is(err, ErrTooManyRequests) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("acquire(%q) = %v; want ErrTooManyRequests with %q", tc.key, err, tc.want)
			}
			if status, code := errorStatus(err); status != http.StatusTooManyRequests || code != wire.CodeTooManyRequests {
				t.Errorf("errorStatus(%v) = %d %q; want 429 %q", err, status, code, wire.CodeTooManyRequests)
			}
		})
	}
	// Releasing a's first slot twice gives back one: c gets it, b does not.
	releases[0]()
	releases[0]()
	if err := take("c"); err != nil {
		t.Fatalf("acquire(c) after a release = %v; want a slot", err)
	}
	if err := take("b"); !errors.Is(err, ErrTooManyRequests) {
		t.Fatalf("acquire(b) after one release taken = %v; want ErrTooManyRequests", err)
	}
	for _, r := range releases {
		r()
	}
	if total, clients := l.counts(); total != 0 || clients != 0 {
		t.Errorf("counts() after every release = %d, %d; want 0, 0", total, clients)
	}
}

func TestClientKey(t *testing.T) {
	cases := []struct {
		name   string
		remote string
		auth   string
		want   string
	}{
		{"ipv4", "10.1.2.3:5555", "", "ip:10.1.2.3"},
		{"ipv4 other port same key", "10.1.2.3:6666", "", "ip:10.1.2.3"},
		{"ipv6 by its /64", "[2001:db8:1:2:aaaa::1]:80", "", "ip:2001:db8:1:2::/64"},
		{"mapped ipv4", "[::ffff:10.1.2.3]:80", "", "ip:10.1.2.3"},
		{"no port", "10.1.2.3", "", "ip:10.1.2.3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
			if got := clientKey(r); got != tc.want {
				t.Errorf("clientKey(%q) = %q; want %q", tc.remote, got, tc.want)
			}
		})
	}
	t.Run("token hides the secret and ignores the ip", func(t *testing.T) {
		key := func(remote, auth string) string {
			r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
			r.Header.Set("Authorization", auth)
			return clientKey(r)
		}
		a1, a2, b := key("10.0.0.1:1", "Bearer s3cret"), key("10.0.0.2:1", "Bearer s3cret"), key("10.0.0.1:1", "Bearer other")
		if a1 != a2 {
			t.Errorf("clientKey of one token from two ips = %q, %q; want equal", a1, a2)
		}
		if a1 == b {
			t.Errorf("clientKey of two tokens = %q twice; want different", a1)
		}
		if strings.Contains(a1, "s3cret") || !strings.HasPrefix(a1, "token:") {
			t.Errorf("clientKey = %q; want token: and a hash, not the secret", a1)
		}
	})
}
