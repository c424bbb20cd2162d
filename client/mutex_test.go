// These tests prove the Mutex's contract: under contention from 16 clients
// there is never more than one holder, fencing tokens strictly increase and
// everyone gets the lock; waiters are granted in FIFO order; TryLock refuses
// with the holder; a Lock whose ctx ends leaves nothing queued or held; a
// wait window that ends re-queues with a new request id; and Fence tells a
// current token from a stale one.
package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

// newTestSession returns a session on its own client, closed when the test ends.
func newTestSession(t *testing.T, ctx context.Context, eps []string) *Session {
	t.Helper()
	c := newTestClient(t, eps)
	s, err := NewSession(ctx, c, WithTTL(5*time.Second))
	if err != nil {
		t.Fatalf("NewSession() = %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestMutexContention(t *testing.T) {
	const (
		clients = 16
		rounds  = 3
		name    = "contended"
	)
	ctx := testContext(t)
	eps := testEndpoints(t)
	mutexes := make([]*Mutex, clients)
	for i := range mutexes {
		mutexes[i] = NewMutex(newTestSession(t, ctx, eps), name)
	}
	var (
		holders atomic.Int32
		mu      sync.Mutex
		tokens  []Token // in grant order
		wins    = make([]int, clients)
		wg      sync.WaitGroup
	)
	for i, m := range mutexes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				tok, err := m.Lock(ctx)
				if err != nil {
					t.Errorf("client %d: Lock(%q) = %v; want a grant", i, name, err)
					return
				}
				if n := holders.Add(1); n != 1 {
					t.Errorf("client %d: %d holders of %q at once", i, n, name)
				}
				mu.Lock()
				if k := len(tokens); k > 0 && tok <= tokens[k-1] {
					t.Errorf("client %d: token %d after %d; want strictly increasing", i, tok, tokens[k-1])
				}
				tokens = append(tokens, tok)
				wins[i]++
				mu.Unlock()
				if ok, err := m.s.c.Fence(ctx, name, tok); err != nil || !ok {
					t.Errorf("client %d: Fence(%q, %d) = %v, %v; want true while held", i, name, tok, ok, err)
				}
				holders.Add(-1)
				if err := m.Unlock(ctx); err != nil {
					t.Errorf("client %d: Unlock(%q) = %v", i, name, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for i, w := range wins {
		if w != rounds {
			t.Errorf("client %d held %q %d times; want %d", i, name, w, rounds)
		}
	}
	if len(tokens) > 0 {
		c := mutexes[0].s.c
		if ok, err := c.Fence(ctx, name, tokens[0]); err != nil || ok {
			t.Errorf("Fence(%q, %d) of the first grant = %v, %v; want false (stale)", name, tokens[0], ok, err)
		}
	}
}

func TestMutexFIFO(t *testing.T) {
	const (
		waiters = 6
		name    = "fifo"
	)
	ctx := testContext(t)
	eps := testEndpoints(t)
	first := NewMutex(newTestSession(t, ctx, eps), name)
	if _, err := first.Lock(ctx); err != nil {
		t.Fatalf("Lock(%q) = %v", name, err)
	}
	c := first.s.c
	order := make(chan int, waiters)
	var wg sync.WaitGroup
	for i := 0; i < waiters; i++ {
		m := NewMutex(newTestSession(t, ctx, eps), name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := m.Lock(ctx); err != nil {
				t.Errorf("waiter %d: Lock(%q) = %v", i, name, err)
				return
			}
			order <- i
			if err := m.Unlock(ctx); err != nil {
				t.Errorf("waiter %d: Unlock(%q) = %v", i, name, err)
			}
		}()
		waitUntil(t, ctx, fmt.Sprintf("%d waiters on %q", i+1, name), func() bool {
			info, err := c.Lock(ctx, name)
			return err == nil && info.Waiters == i+1
		})
	}
	if err := first.Unlock(ctx); err != nil {
		t.Fatalf("Unlock(%q) = %v", name, err)
	}
	wg.Wait()
	close(order)
	want := 0
	for got := range order {
		if got != want {
			t.Errorf("grant %d went to waiter %d; want waiter %d (FIFO)", want, got, want)
		}
		want++
	}
	if want != waiters {
		t.Errorf("%d of %d waiters were granted", want, waiters)
	}
}

func TestMutexTryLock(t *testing.T) {
	ctx := testContext(t)
	eps := testEndpoints(t)
	a := NewMutex(newTestSession(t, ctx, eps), "try")
	b := NewMutex(newTestSession(t, ctx, eps), "try")
	tok, err := a.TryLock(ctx)
	if err != nil || tok == 0 || a.Token() != tok || !a.IsHeld() {
		t.Fatalf("TryLock(%q) = %d, %v (Token %d, IsHeld %v); want a grant", "try", tok, err, a.Token(), a.IsHeld())
	}
	_, err = b.TryLock(ctx)
	var e *Error
	if !errors.Is(err, ErrLockHeld) || !errors.As(err, &e) || e.Holder == nil {
		t.Fatalf("TryLock(%q) on a held lock = %v; want %v with the holder", "try", err, ErrLockHeld)
	}
	if got := LeaseID(e.Holder.LeaseID); got != a.s.Lease() || Token(e.Holder.Token) != tok {
		t.Errorf("holder = lease %d token %d; want lease %d token %d", got, e.Holder.Token, a.s.Lease(), tok)
	}
	if b.IsHeld() || b.Token() != 0 {
		t.Errorf("refused Mutex: IsHeld %v, Token %d; want false, 0", b.IsHeld(), b.Token())
	}
	// The session already holds it: TryLock again adopts the same grant.
	if again, err := a.TryLock(ctx); err != nil || again != tok {
		t.Errorf("second TryLock(%q) by the holder = %d, %v; want %d, nil", "try", again, err, tok)
	}
	if err := a.Unlock(ctx); err != nil {
		t.Fatalf("Unlock(%q) = %v", "try", err)
	}
	if err := a.Unlock(ctx); !errors.Is(err, ErrNotHolder) {
		t.Errorf("second Unlock(%q) = %v; want %v", "try", err, ErrNotHolder)
	}
	if ok, err := a.s.c.Fence(ctx, "try", tok); err != nil || ok {
		t.Errorf("Fence(%q, %d) after Unlock = %v, %v; want false", "try", tok, ok, err)
	}
}

func TestMutexLostWithSession(t *testing.T) {
	ctx := testContext(t)
	s := newTestSession(t, ctx, testEndpoints(t))
	m := NewMutex(s, "lost")
	tok, err := m.Lock(ctx)
	if err != nil {
		t.Fatalf("Lock(%q) = %v", "lost", err)
	}
	if err := s.c.Revoke(ctx, s.Lease()); err != nil {
		t.Fatalf("Revoke(%d) = %v", s.Lease(), err)
	}
	waitClosed(t, s.Done(), 5*time.Second, "Done after revoke")
	if m.IsHeld() {
		t.Errorf("IsHeld() after the session was lost = true; want false")
	}
	if err := m.Unlock(ctx); !errors.Is(err, ErrNotHolder) {
		t.Errorf("Unlock(%q) with token %d of a lost session = %v; want %v", "lost", tok, err, ErrNotHolder)
	}
	if _, err := m.Lock(ctx); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("Lock(%q) on a lost session = %v; want %v", "lost", err, ErrSessionExpired)
	}
}

func TestMutexLockCtxEnds(t *testing.T) {
	ctx := testContext(t)
	eps := testEndpoints(t)
	holder := NewMutex(newTestSession(t, ctx, eps), "busy")
	if _, err := holder.Lock(ctx); err != nil {
		t.Fatalf("Lock(%q) = %v", "busy", err)
	}
	waiter := NewMutex(newTestSession(t, ctx, eps), "busy")
	lctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := waiter.Lock(lctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock(%q) with a 300ms ctx on a held lock = %v; want %v", "busy", err, context.DeadlineExceeded)
	}
	c := holder.s.c
	waitUntil(t, ctx, "the timed-out waiter to leave the queue", func() bool {
		info, err := c.Lock(ctx, "busy")
		return err == nil && info.Waiters == 0
	})
	if err := holder.Unlock(ctx); err != nil {
		t.Fatalf("Unlock(%q) = %v", "busy", err)
	}
	if info, err := c.Lock(ctx, "busy"); err != nil || info.Held {
		t.Errorf("Lock(%q) info after the holder left = %+v, %v; want free (no grant to the gone waiter)", "busy", info, err)
	}
}

func TestMutexRequeuesAfterWindow(t *testing.T) {
	ctx := testContext(t)
	node := startFake(t)
	eps := []string{node.URL()}
	holder := NewMutex(newTestSession(t, ctx, eps), "window")
	if _, err := holder.Lock(ctx); err != nil {
		t.Fatalf("Lock(%q) = %v", "window", err)
	}
	// The first acquire's wait window "ends" at once with lock_held.
	(&faultHook{n: 1, sub: "/acquire", fault: func(_ *fakeNode, w http.ResponseWriter, _ *http.Request) {
		writeAnswer(w, lockHeld(&wire.Holder{LeaseID: uint64(holder.s.Lease()), Token: uint64(holder.Token())}, "not granted in time"))
	}}).install(node)
	waiter := NewMutex(newTestSession(t, ctx, eps), "window")
	got := make(chan error, 1)
	go func() {
		_, err := waiter.Lock(ctx)
		got <- err
	}()
	waitUntil(t, ctx, "the re-issued acquire to queue", func() bool {
		info, err := holder.s.c.Lock(ctx, "window")
		return err == nil && info.Waiters == 1
	})
	if err := holder.Unlock(ctx); err != nil {
		t.Fatalf("Unlock(%q) = %v", "window", err)
	}
	if err := recv(t, got, 5*time.Second, "the waiter's Lock"); err != nil {
		t.Fatalf("Lock(%q) after a window ended = %v; want a grant", "window", err)
	}
	var keys []string
	for _, r := range node.requests() {
		if strings.HasSuffix(r.path, "/acquire") {
			keys = append(keys, r.key)
		}
	}
	// keys[0] is the holder's; the waiter sent two, each a new request id.
	if len(keys) != 3 || keys[1] == keys[2] {
		t.Errorf("acquire request ids = %q; want the holder's and two distinct ones of the waiter", keys)
	}
}

func TestLockNamesEscaped(t *testing.T) {
	ctx := testContext(t)
	c := newTestClient(t, testEndpoints(t))
	for _, name := range []string{"plain", "team/a:b", "x.y_z-1"} {
		t.Run(name, func(t *testing.T) {
			g, err := c.Acquire(ctx, name, AcquireOptions{TTL: 5 * time.Second, Owner: "tester"})
			if err != nil || g.Name != name {
				t.Fatalf("Acquire(%q) = %+v, %v; want a grant of that name", name, g, err)
			}
			info, err := c.Lock(ctx, name)
			if err != nil || info.Name != name || info.Holder == nil || info.Holder.Owner != "tester" {
				t.Errorf("Lock(%q) = %+v, %v; want held by owner %q", name, info, err, "tester")
			}
			list, err := c.List(ctx, name)
			if err != nil || len(list) != 1 || list[0].Name != name {
				t.Errorf("List(%q) = %+v, %v; want just %q", name, list, err, name)
			}
			if err := c.Release(ctx, name, Token(g.Token)); err != nil {
				t.Errorf("Release(%q, %d) = %v", name, g.Token, err)
			}
		})
	}
}

func TestMutexLockReleasesRacedGrant(t *testing.T) {
	ctx := testContext(t)
	node := startFake(t)
	eps := []string{node.URL()}
	// The acquire is granted, but its answer never arrives before the ctx ends.
	(&faultHook{n: 1, sub: "/acquire", fault: func(n *fakeNode, w http.ResponseWriter, r *http.Request) {
		n.mux.ServeHTTP(httptest.NewRecorder(), r)
		select {
		case <-r.Context().Done():
		case <-n.state.quit:
		}
	}}).install(node)
	m := NewMutex(newTestSession(t, ctx, eps), "raced")
	lctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := m.Lock(lctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock(%q) whose answer is lost = %v; want %v", "raced", err, context.DeadlineExceeded)
	}
	if info, err := m.s.c.Lock(ctx, "raced"); err != nil || info.Held {
		t.Errorf("Lock(%q) info after the abandoned Lock = %+v, %v; want free (raced grant released)", "raced", info, err)
	}
	if m.IsHeld() {
		t.Errorf("IsHeld() after a failed Lock = true; want false")
	}
}
