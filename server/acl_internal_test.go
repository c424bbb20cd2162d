package server

import (
	"errors"
	"net"
	"strings"
	"testing"
)

// TestACLEveryRouteDecided: every route the client listener serves has its
// entry in aclNeeds, and every entry is a served route, so a route added
// later cannot be left open (or guarded by a stale rule) by accident. The
// open ones are exactly the health endpoints and /metrics.
func TestACLEveryRouteDecided(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.ClientAddr, cfg.PeerAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.BootstrapToken = "bootstrap-secret-for-tests-0123456789"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(cfg, Options{ClientListener: cl, PeerListener: pl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	needs := aclNeeds()
	served := make(map[Route]bool)
	for _, r := range n.Routes() {
		served[r] = true
		if _, ok := needs[r]; !ok {
			t.Errorf("route %s %s has no entry in aclNeeds (it would need admin)", r.Method, r.Path)
		}
	}
	open := map[string]bool{PathLivez: true, PathReadyz: true, PathHealthLeader: true, PathMetrics: true}
	for r, need := range needs {
		if !served[r] {
			t.Errorf("aclNeeds lists %s %s, which is not served", r.Method, r.Path)
		}
		if (need.what == checkOpen) != open[r.Path] {
			t.Errorf("aclNeeds: %s %s open = %t; want %t", r.Method, r.Path, need.what == checkOpen, open[r.Path])
		}
	}
}

func TestValidateBootstrapToken(t *testing.T) {
	cases := []struct {
		name, secret string
		ok           bool
	}{
		{"off", "", true},
		{"ok", "0123456789abcdef", true},
		{"too short", "0123456789abcde", false},
		{"space", "0123456789 abcdef", false},
		{"newline", "0123456789abcdef\n", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := validateBootstrapToken(tc.secret); (err == nil) != tc.ok {
				t.Errorf("validateBootstrapToken(%q) = %v; want ok %t", tc.secret, err, tc.ok)
			}
		})
	}
}

func TestBearerSecret(t *testing.T) {
	cases := []struct {
		header, want string
	}{
		{"Bearer abc", "abc"},
		{"bearer abc", "abc"},
		{"BEARER a=b", "a=b"},
		{"", ""},
		{"Bearer", ""},
		{"Bearer ", ""},
		{"Basic abc", ""},
		{"Bearer " + strings.Repeat("x", ACLSecretBytesMax+1), ""},
	}
	for _, tc := range cases {
		got, err := bearerSecret(tc.header)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("bearerSecret(%.20q) = %q, %v; want %q", tc.header, got, err, tc.want)
		}
		if err != nil && !errors.Is(err, ErrUnauthorized) {
			t.Errorf("bearerSecret(%.20q) = %v; want %v", tc.header, err, ErrUnauthorized)
		}
	}
}

// FuzzBearerSecret: the Authorization header comes from anyone; parsing it
// never panics, and what it accepts is a non-empty secret within the limit
// taken from the header's end.
func FuzzBearerSecret(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  x", "Basic y", "", "Bearer"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		secret, err := bearerSecret(header)
		if err != nil {
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("bearerSecret(%q) = %v; want %v", header, err, ErrUnauthorized)
			}
			return
		}
		if secret == "" || len(secret) > ACLSecretBytesMax || !strings.HasSuffix(header, secret) {
			t.Fatalf("bearerSecret(%q) = %q; want a non-empty suffix of at most %d bytes", header, secret, ACLSecretBytesMax)
		}
	})
}
