package server

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/locks"
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

// BenchmarkACLGuard measures the access-control middleware alone on a
// lock read (authenticate: SHA-256 of the secret and of the bootstrap
// secret, a table lookup among ACLTokensMax tokens; authorize: the longest
// prefix among 8 rules), against the same request with ACL off. Run:
//
//	go test -run '^$' -bench BenchmarkACLGuard ./server/
func BenchmarkACLGuard(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("acl=%t", on), func(b *testing.B) {
			n := &Node{fsm: newLockFSM(newHub()), log: zap.NewNop()}
			if on {
				n.cfg.BootstrapToken = "bootstrap-secret-for-tests-0123456789"
			}
			rules := make([]locks.ACLRule, 8)
			for i := range rules {
				rules[i] = locks.ACLRule{Prefix: fmt.Sprintf("team%d/", i), Allow: locks.CapRead | locks.CapLock}
			}
			var secret string
			for i := 1; i <= locks.ACLTokensMax; i++ {
				secret = fmt.Sprintf("secret-%d", i)
				sum := sha256.Sum256([]byte(secret))
				data, err := locks.EncodeCommand(locks.Command{Kind: locks.KindCreateACLToken, ACLName: "t", ACLRules: rules, SecretHash: sum[:]})
				if err != nil {
					b.Fatal(err)
				}
				if res := n.fsm.Apply(consensus.Index(i), data).(locks.Result); res.Err != nil {
					b.Fatal(res.Err)
				}
			}
			e := echo.New()
			h := n.aclGuard()(func(echo.Context) error { return nil })
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				req := httptest.NewRequest(http.MethodGet, "/v1/locks/team7%2Fx", nil)
				req.Header.Set("Authorization", "Bearer "+secret)
				c := e.NewContext(req, httptest.NewRecorder())
				c.SetPath(PathLock)
				c.SetParamNames("name")
				c.SetParamValues("team7%2Fx")
				if err := h(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
