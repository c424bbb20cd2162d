// TestSDKAgainstCluster runs the Go SDK (client/) against a real 3-node
// cluster through a follower: a Session keeps its lease alive past its ttl, a
// Mutex locks with a fencing token the server validates, a second session's
// TryLock gets ErrLockHeld, Unlock frees it for the waiter; an Election's
// campaign, observe and resign see the same leader the server reports.
package server_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client"
)

func TestSDKAgainstCluster(t *testing.T) {
	ctx := testContext(t)
	c, leader := startLocks(t, ctx, 3)
	cl, err := client.New(client.Config{Endpoints: []string{c.URL((leader + 1) % 3)}})
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	defer cl.Close()
	s1, err := client.NewSession(ctx, cl, client.WithTTL(time.Second))
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	defer s1.Close()
	s2, err := client.NewSession(ctx, cl, client.WithTTL(5*time.Second))
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	defer s2.Close()
	m1, m2 := client.NewMutex(s1, "sdk"), client.NewMutex(s2, "sdk")
	tok, err := m1.Lock(ctx)
	if err != nil {
		t.Fatalf("Lock() = %v", err)
	}
	if _, err := m2.TryLock(ctx); !errors.Is(err, client.ErrLockHeld) {
		t.Fatalf("TryLock() by another session = %v; want ErrLockHeld", err)
	}
	// The session outlives three ttls on keepalives.
	timer := time.NewTimer(3 * time.Second)
	select {
	case <-s1.Done():
		t.Fatalf("session ended: %v", s1.Err())
	case <-timer.C:
	}
	if ok, err := cl.Fence(ctx, "sdk", tok); err != nil || !ok {
		t.Fatalf("Fence(%d) = %t, %v; want valid", tok, ok, err)
	}
	got := make(chan client.Token, 1)
	go func() {
		tok2, err := m2.Lock(ctx)
		if err != nil {
			t.Errorf("waiting Lock() = %v", err)
		}
		got <- tok2
	}()
	waitWaiters(t, ctx, newAPIClient(t), c.URL(leader), "sdk", 1)
	if err := m1.Unlock(ctx); err != nil {
		t.Fatalf("Unlock() = %v", err)
	}
	if tok2 := <-got; tok2 <= tok {
		t.Fatalf("waiter's token %d; want above %d", tok2, tok)
	}

	e := client.NewElection(s1, "sdk-el")
	octx, stop := context.WithCancel(ctx)
	defer stop()
	events := e.Observe(octx)
	if first := <-events; first.Term != 0 {
		t.Fatalf("first observed leader = %+v; want none", first)
	}
	if err := e.Campaign(ctx, "me:1"); err != nil {
		t.Fatalf("Campaign() = %v", err)
	}
	if ev := <-events; ev.Value != "me:1" || ev.Term == 0 {
		t.Fatalf("observed after campaign = %+v; want me:1", ev)
	}
	if li, err := e.Leader(ctx); err != nil || li.Value != "me:1" {
		t.Fatalf("Leader() = %+v, %v; want me:1", li, err)
	}
	if err := e.Resign(ctx); err != nil {
		t.Fatalf("Resign() = %v", err)
	}
	if ev := <-events; ev.Term != 0 {
		t.Fatalf("observed after resign = %+v; want no leader", ev)
	}
}
