package client

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/raftlock/raftlock/server/servertest"
)

// leaseWatch polls a lease from another client until the server reports it
// gone, and keeps the earliest time the server could expire it: every answer
// sent at s with remaining r says the expiry is not before s+r.
type leaseWatch struct {
	done chan struct{}

	mu sync.Mutex
	// notBefore is the latest s+r seen: the server's expiry is later.
	notBefore time.Time
	// goneAt is when the first not_found answer arrived.
	goneAt time.Time
	err    error
}

// watchLease starts polling lease id through c every pollInterval.
func watchLease(ctx context.Context, c *Client, id LeaseID) *leaseWatch {
	w := &leaseWatch{done: make(chan struct{})}
	// Exits when the lease is gone, on an unexpected error, or when ctx ends.
	go func() {
		defer close(w.done)
		tick := time.NewTicker(pollInterval)
		defer tick.Stop()
		for {
			sent := time.Now()
			info, err := c.Lease(ctx, id)
			w.mu.Lock()
			switch {
			case errors.Is(err, ErrNotFound):
				w.goneAt = time.Now()
			case err != nil:
				w.err = err
			default:
				if at := sent.Add(info.Remaining.D()); at.After(w.notBefore) {
					w.notBefore = at
				}
			}
			stop := err != nil
			w.mu.Unlock()
			if stop {
				return
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	return w
}

func (w *leaseWatch) result() (notBefore, goneAt time.Time, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.notBefore, w.goneAt, w.err
}

// TestClusterSessionLoss: a session whose keepalives stop reaching the
// cluster (its network path blackholed) closes Done before the server could
// expire its lease, as the server's own remaining time shows; the lock then
// goes to the session queued behind it, with a higher token.
func TestClusterSessionLoss(t *testing.T) {
	const name = "lost"
	ctx := testContext(t)
	_, urls := startCluster(t, ctx)
	ca, proxies := proxiedClient(t, urls)
	sa := newSession(t, ctx, ca, clusterTTL)
	ma := NewMutex(sa, name)
	tokA, err := ma.Lock(ctx)
	if err != nil {
		t.Fatalf("Lock(%q) = %v; want a token", name, err)
	}
	cb := newClusterClient(t, rotate(urls, 1))
	mb := NewMutex(newSession(t, ctx, cb, mutexTTL), name)
	type grant struct {
		tok   Token
		err   error
		aDone bool // whether A's Done had closed when B's Lock returned
	}
	granted := make(chan grant, 1)
	// Exits when B's Lock returns.
	go func() {
		tok, err := mb.Lock(ctx)
		g := grant{tok: tok, err: err}
		select {
		case <-sa.Done():
			g.aDone = true
		default:
		}
		granted <- g
	}()
	waitUntil(t, ctx, "B queued behind A", func() bool {
		info, err := cb.Lock(ctx, name)
		return err == nil && info.Waiters == 1
	})
	// The watch starts before the blackhole, so it has seen the lease
	// alive (and the server's earliest expiry) however slow the machine.
	watch := watchLease(ctx, cb, sa.Lease())
	waitUntil(t, ctx, "the lease watch's first answer", func() bool {
		notBefore, _, _ := watch.result()
		return !notBefore.IsZero()
	})
	for _, p := range proxies {
		p.Blackhole()
	}
	waitClosed(t, sa.Done(), 2*clusterTTL, "session A's Done after the blackhole")
	doneAt := time.Now()
	g := recv(t, granted, 2*clusterTTL, "B's Lock after A's lease expired")
	waitClosed(t, watch.done, 2*clusterTTL, "the lease watch to see A's lease gone")
	notBefore, goneAt, werr := watch.result()
	if werr != nil {
		t.Fatalf("Lease(%d) = %v; want its info, then not_found", sa.Lease(), werr)
	}
	if !errors.Is(sa.Err(), ErrSessionExpired) {
		t.Errorf("session A Err() = %v; want ErrSessionExpired", sa.Err())
	}
	if !doneAt.Before(notBefore) {
		t.Errorf("session A's Done closed %v after the server's earliest expiry; want before it", doneAt.Sub(notBefore))
	}
	if !doneAt.Before(goneAt) {
		t.Errorf("session A's Done closed %v after the lease was seen gone; want before", doneAt.Sub(goneAt))
	}
	if g.err != nil || g.tok <= tokA {
		t.Fatalf("B: Lock(%q) = %d, %v; want a token > A's %d", name, g.tok, g.err, tokA)
	}
	if !g.aDone {
		t.Errorf("B: Lock(%q) returned token %d while A's session was still open; want A's Done closed first", name, g.tok)
	}
	if ma.IsHeld() {
		t.Errorf("A: IsHeld() = true after its session was lost; want false")
	}
	t.Logf("Done closed %v before the server's earliest expiry; the lease was seen gone %v after Done",
		notBefore.Sub(doneAt), goneAt.Sub(doneAt))
}

// TestClusterElectionHandover: the leader of an election crashes (its
// process gone: its connections closed, or its keepalives stopped without a
// resign). Its lease must expire, not be revoked: the next campaigner wins
// no sooner than most of a ttl after the crash and within the ttl plus one
// election timeout, and an observer sees the leaders in order, terms rising.
func TestClusterElectionHandover(t *testing.T) {
	tests := []struct {
		name  string
		crash func(s *Session, proxies []*tcpProxy)
	}{
		{"connections closed", func(_ *Session, proxies []*tcpProxy) {
			for _, p := range proxies {
				p.Close()
			}
		}},
		{"keepalives stopped", func(s *Session, _ []*tcpProxy) {
			s.cancel()
			<-s.exited
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testElectionHandover(t, tt.crash)
		})
	}
}

func testElectionHandover(t *testing.T, crash func(*Session, []*tcpProxy)) {
	const name = "primary"
	ctx := testContext(t)
	_, urls := startCluster(t, ctx)
	co := newClusterClient(t, rotate(urls, 2))
	observer := NewElection(newSession(t, ctx, co, mutexTTL), name)
	octx, stop := context.WithCancel(ctx)
	events := observer.Observe(octx)
	defer func() {
		stop()
		for range events { // drain until the observer closes the channel
		}
	}()
	if li := recv(t, events, testTimeout, "no leader yet"); li != (LeaderInfo{}) {
		t.Fatalf("first event = %+v; want no leader", li)
	}
	ca, proxies := proxiedClient(t, urls)
	a := NewElection(newSession(t, ctx, ca, clusterTTL), name)
	if err := a.Campaign(ctx, "a"); err != nil {
		t.Fatalf("A: Campaign(%q) = %v; want nil", name, err)
	}
	b := NewElection(newSession(t, ctx, newClusterClient(t, rotate(urls, 1)), mutexTTL), name)
	type win struct {
		err error
		at  time.Time
	}
	won := make(chan win, 1)
	// Exits when B's Campaign returns.
	go func() {
		err := b.Campaign(ctx, "b")
		won <- win{err, time.Now()}
	}()
	crashAt := time.Now()
	crash(a.s, proxies)
	w := recv(t, won, 2*clusterTTL+servertest.DefaultElectionTimeout, "B's Campaign")
	if w.err != nil {
		t.Fatalf("B: Campaign(%q) = %v; want nil", name, w.err)
	}
	took := w.at.Sub(crashAt)
	// A's last keepalive reached the server at most a keepalive period
	// before the crash, so an expiry comes no sooner than ttl minus that
	// period; a revoke would come at once.
	if low := clusterTTL - clusterTTL/KeepAliveDivisor - 100*time.Millisecond; took < low {
		t.Errorf("B won %v after A crashed; want >= %v (A's lease must expire, not be revoked)", took, low)
	}
	if high := clusterTTL + servertest.DefaultElectionTimeout; took > high {
		t.Errorf("B won %v after A crashed; want <= %v (ttl plus one election timeout)", took, high)
	}
	var seen []LeaderInfo
	for li := range events {
		seen = append(seen, li)
		if li.Value == "b" {
			break
		}
	}
	checkHandover(t, seen, a.Term(), b.Term())
	t.Logf("B won %v after A crashed; observer saw %+v", took, seen)
}

// checkHandover checks the observer's events after "no leader": A at termA,
// then possibly a gap (term 0), then B at termB > termA.
func checkHandover(t *testing.T, seen []LeaderInfo, termA, termB Token) {
	t.Helper()
	var leaders []LeaderInfo
	for _, li := range seen {
		if li.Term != 0 {
			leaders = append(leaders, li)
		}
	}
	if len(leaders) != 2 || leaders[0].Value != "a" || leaders[0].Term != termA ||
		leaders[1].Value != "b" || leaders[1].Term != termB {
		t.Errorf("observer saw leaders %+v; want a at term %d then b at term %d", leaders, termA, termB)
	}
	if termB <= termA {
		t.Errorf("B's term %d; want > A's %d", termB, termA)
	}
}
