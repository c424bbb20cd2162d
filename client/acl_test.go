package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

// These tests prove that Config.Token travels on every request as a bearer
// token (and no header goes without one), that unauthorized and forbidden
// answers are errors.Is-able and not retried, that a bad token is refused
// before any request, and the ACL token calls' paths and bodies.

func TestTokenHeader(t *testing.T) {
	var calls atomic.Int32
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		got.Store(r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"code":"unauthorized","message":"no token"}}`))
			return
		}
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":{"code":"forbidden","message":"token 3 may not lock \"a\""}}`))
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	for _, tc := range []struct {
		name   string
		token  string
		header string
		want   error
	}{
		{"no token", "", "", ErrUnauthorized},
		{"token", "s3cret", "Bearer s3cret", ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls.Store(0)
			c, err := New(Config{Endpoints: []string{srv.URL}, Token: tc.token})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, err = c.Acquire(ctx, "a", AcquireOptions{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Acquire(%q) = %v; want %v", "a", err, tc.want)
			}
			if h, _ := got.Load().(string); h != tc.header {
				t.Errorf("Authorization = %q; want %q", h, tc.header)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("%d attempts; want 1 (no retry of %v)", n, tc.want)
			}
		})
	}
}

func TestTokenRefused(t *testing.T) {
	for _, tc := range []struct {
		name, token string
	}{
		{"newline", "abc\n"},
		{"space", "a b"},
		{"too long", strings.Repeat("x", TokenBytesMax+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(Config{Endpoints: []string{"http://127.0.0.1:1"}, Token: tc.token}); !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("New(token %q) = %v; want %v", tc.name, err, ErrInvalidArgument)
			}
		})
	}
}

func TestACLTokenCalls(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		switch r.Method {
		case http.MethodPost:
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"id":7,"name":"ci","secret":"abc","rules":[{"prefix":"jobs/","allow":["lock"]}],"created_at":"2026-01-01T00:00:00Z"}`))
		case http.MethodGet:
			_, _ = w.Write([]byte(`{"tokens":[{"id":7,"name":"ci","rules":[],"created_at":"2026-01-01T00:00:00Z"}]}`))
		default:
			_, _ = w.Write([]byte(`{"deleted":true}`))
		}
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	c, err := New(Config{Endpoints: []string{srv.URL}, Token: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tk, err := c.CreateACLToken(ctx, "ci", []wire.ACLRule{{Prefix: "jobs/", Allow: []string{"lock"}}}, time.Hour)
	if err != nil || tk.ID != 7 || tk.Secret != "abc" {
		t.Fatalf("CreateACLToken = %+v, %v; want id 7 with its secret", tk, err)
	}
	list, err := c.ACLTokens(ctx)
	if err != nil || len(list) != 1 || list[0].Secret != "" {
		t.Fatalf("ACLTokens = %+v, %v; want one token without a secret", list, err)
	}
	if err := c.DeleteACLToken(ctx, 7); err != nil {
		t.Fatalf("DeleteACLToken(7) = %v", err)
	}
	want := "POST /v1/acl/tokens,GET /v1/acl/tokens,DELETE /v1/acl/tokens/7"
	if got := strings.Join(seen, ","); got != want {
		t.Errorf("requests %s; want %s", got, want)
	}
	if _, err := c.CreateACLToken(ctx, "x", nil, -time.Second); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("CreateACLToken(ttl -1s) = %v; want %v", err, ErrInvalidArgument)
	}
}
