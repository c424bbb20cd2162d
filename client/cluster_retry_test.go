package client

import (
	"testing"
)

// TestClusterLockRetryAfterBrokenConnection: a Mutex.Lock waiting in the
// queue loses its connection, before the grant (the server withdraws the
// wait when its client goes away) or after it (the grant's answer is lost in
// a dead path). Either way the SDK's retry ends with the session holding
// the lock exactly once: the token Lock returns is the lock's holder token,
// no waiter is left behind, and Unlock frees it.
func TestClusterLockRetryAfterBrokenConnection(t *testing.T) {
	tests := []struct {
		name string
		// grantFirst releases A's lock while B's path is blackholed and
		// breaks the connection only once the server granted B.
		grantFirst bool
		// oneShot turns off B's keep-alive connections: a broken
		// request is then retried by the SDK's loop, not replayed by
		// net/http on a fresh connection (which it does for a reused one
		// when the request carries an Idempotency-Key).
		oneShot bool
	}{
		{"wait cut before the grant", false, false},
		{"answer lost after the grant", true, false},
		{"wait cut before the grant, SDK retry", false, true},
		{"answer lost after the grant, SDK retry", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const name = "handoff"
			ctx := testContext(t)
			_, urls := startCluster(t, ctx)
			ca := newClusterClient(t, urls)
			ma := NewMutex(newSession(t, ctx, ca, mutexTTL), name)
			if _, err := ma.Lock(ctx); err != nil {
				t.Fatalf("A: Lock(%q) = %v; want a token", name, err)
			}
			cb, proxies := proxiedClient(t, rotate(urls, 1))
			fastRetries(cb)
			cb.tr.DisableKeepAlives = tt.oneShot
			sb := newSession(t, ctx, cb, mutexTTL)
			mb := NewMutex(sb, name)
			type grant struct {
				tok Token
				err error
			}
			granted := make(chan grant, 1)
			// Exits when B's Lock returns.
			go func() {
				tok, err := mb.Lock(ctx)
				granted <- grant{tok, err}
			}()
			waitUntil(t, ctx, "B queued behind A", func() bool {
				info, err := ca.Lock(ctx, name)
				return err == nil && info.Waiters == 1
			})
			if tt.grantFirst {
				for _, p := range proxies {
					p.Blackhole()
				}
				if err := ma.Unlock(ctx); err != nil {
					t.Fatalf("A: Unlock(%q) = %v; want nil", name, err)
				}
				waitUntil(t, ctx, "the server to grant B", func() bool {
					info, err := ca.Lock(ctx, name)
					return err == nil && info.Holder != nil && LeaseID(info.Holder.LeaseID) == sb.Lease()
				})
			}
			for _, p := range proxies {
				p.Reset()
			}
			if !tt.grantFirst {
				if err := ma.Unlock(ctx); err != nil {
					t.Fatalf("A: Unlock(%q) = %v; want nil", name, err)
				}
			}
			g := recv(t, granted, testTimeout, "B's Lock")
			if g.err != nil {
				t.Fatalf("B: Lock(%q) = %v; want a token", name, g.err)
			}
			info, err := ca.Lock(ctx, name)
			if err != nil || info.Holder == nil || LeaseID(info.Holder.LeaseID) != sb.Lease() ||
				Token(info.Holder.Token) != g.tok || info.Waiters != 0 {
				t.Fatalf("Lock(%q) = %+v (holder %+v), %v; want held by lease %d with token %d, no waiters",
					name, info, info.Holder, err, sb.Lease(), g.tok)
			}
			if err := mb.Unlock(ctx); err != nil {
				t.Fatalf("B: Unlock(%q) with token %d = %v; want nil", name, g.tok, err)
			}
			if info, err := ca.Lock(ctx, name); err != nil || info.Held {
				t.Errorf("Lock(%q) after B's Unlock = %+v, %v; want not held", name, info, err)
			}
		})
	}
}
