// These tests prove the waiting parts of the API on a 3-node cluster, through
// a follower as well as the leader: an acquire with wait is granted when the
// holder releases (FIFO, with a higher token); a wait that runs out answers
// lock_held and leaves no waiter; a client that disconnects while waiting
// leaves no waiter behind and never ends up holding the lock; a blocking GET
// returns when the lock changes, with the new X-Raftlock-Index, or after its
// wait with the old one; the election event stream sends the current leader,
// then each change.
package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/server/servertest"
)

func TestAcquireWaitGrantedFIFO(t *testing.T) {
	ctx := testContext(t)
	c, leader := startLocks(t, ctx, 3)
	ac := newAPIClient(t)
	follower := c.URL((leader + 1) % 3)
	first := ac.must(ctx, "POST", c.URL(leader)+"/v1/locks/q/acquire", `{"ttl":"10s"}`)
	if first.Status != 200 {
		t.Fatalf("acquire = %d %s; want 200", first.Status, first.Raw)
	}
	type result struct {
		who string
		a   answer
	}
	results := make(chan result, 2)
	for i, who := range []string{"w1", "w2"} {
		go func() {
			a, err := ac.do(ctx, "POST", follower+"/v1/locks/q/acquire", map[string]any{"ttl": "10s", "wait": "20s", "owner": who})
			if err != nil {
				t.Errorf("acquire by %s: %v", who, err)
			}
			results <- result{who, a}
		}()
		// Queue w1 before w2: wait until the lock shows i+1 waiters.
		waitWaiters(t, ctx, ac, c.URL(leader), "q", i+1)
	}
	ac.must(ctx, "POST", c.URL(leader)+"/v1/locks/q/release", map[string]any{"token": first.num("token")})
	r := <-results
	if r.who != "w1" || r.a.Status != 200 || r.a.num("token") <= first.num("token") {
		t.Fatalf("first grant after release = %s %d %s; want w1 with a token above %d", r.who, r.a.Status, r.a.Raw, first.num("token"))
	}
	ac.must(ctx, "POST", c.URL(leader)+"/v1/locks/q/release", map[string]any{"token": r.a.num("token")})
	r2 := <-results
	if r2.who != "w2" || r2.a.Status != 200 || r2.a.num("token") <= r.a.num("token") {
		t.Fatalf("second grant = %s %d %s; want w2 with a token above %d", r2.who, r2.a.Status, r2.a.Raw, r.a.num("token"))
	}
}

// waitWaiters waits until lock name has n waiters, reading with blocking GETs.
func waitWaiters(t *testing.T, ctx context.Context, ac *apiClient, base, name string, n int) {
	t.Helper()
	index := "0"
	for {
		a := ac.must(ctx, "GET", base+"/v1/locks/"+name+"?index="+index+"&wait=10s", nil)
		if a.num("waiters") == uint64(n) {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("lock %s never had %d waiters: %s", name, n, a.Raw)
		}
		index = a.Header.Get(wire.HeaderIndex)
	}
}

func TestAcquireWaitTimesOut(t *testing.T) {
	ctx := testContext(t)
	c, leader := startLocks(t, ctx, 3)
	ac := newAPIClient(t)
	ac.must(ctx, "POST", c.URL(leader)+"/v1/locks/t/acquire", `{"ttl":"10s","owner":"h"}`)
	a := ac.must(ctx, "POST", c.URL((leader+1)%3)+"/v1/locks/t/acquire", `{"ttl":"10s","wait":"300ms"}`)
	if a.Status != 409 || a.code() != wire.CodeLockHeld {
		t.Fatalf("acquire after its wait = %d %s; want 409 lock_held", a.Status, a.Raw)
	}
	if h, _ := a.Body["error"].(map[string]any)["holder"].(map[string]any); h == nil || h["owner"] != "h" {
		t.Errorf("lock_held after wait = %s; want holder h", a.Raw)
	}
	got := ac.must(ctx, "GET", c.URL(leader)+"/v1/locks/t", nil)
	if got.num("waiters") != 0 {
		t.Errorf("GET after a wait ran out = %s; want 0 waiters", got.Raw)
	}
}

// TestDisconnectWhileWaiting: a client queued for a lock goes away. The node
// proposes CancelWait: the waiter is gone, and when the holder releases the
// lock ends free, not held by the departed client's lease. Repeated for a
// release that races the disconnect.
func TestDisconnectWhileWaiting(t *testing.T) {
	ctx := testContext(t)
	c, leader := startLocks(t, ctx, 3)
	ac := newAPIClient(t)
	for i, via := range []int{leader, (leader + 1) % 3, leader, (leader + 2) % 3} {
		name := "dc" + strconv.Itoa(i)
		held := ac.must(ctx, "POST", c.URL(leader)+"/v1/locks/"+name+"/acquire", `{"ttl":"10s"}`)
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			_, err := ac.do(wctx, "POST", c.URL(via)+"/v1/locks/"+name+"/acquire", `{"ttl":"10s","wait":"1m"}`)
			done <- err
		}()
		waitWaiters(t, ctx, ac, c.URL(leader), name, 1)
		if i%2 == 1 {
			// Race: release as the client goes.
			go ac.must(ctx, "POST", c.URL(leader)+"/v1/locks/"+name+"/release", map[string]any{"token": held.num("token")})
		}
		cancel()
		<-done
		// The node proposes CancelWait (and a release if the grant won);
		// wait until the lock has no waiter and is not held by a new lease.
		err := servertest.WaitUntil(ctx, func() bool {
			a, err := ac.do(ctx, "GET", c.URL(leader)+"/v1/locks/"+name, nil)
			if err != nil || a.num("waiters") != 0 {
				return false
			}
			if i%2 == 0 {
				return a.Body["held"] == true
			}
			return a.Body["held"] == false
		})
		if err != nil {
			a := ac.must(ctx, "GET", c.URL(leader)+"/v1/locks/"+name, nil)
			t.Fatalf("lock %s after the waiting client left = %s; want no waiter and held only by the first holder", name, a.Raw)
		}
		if i%2 == 0 {
			a := ac.must(ctx, "GET", c.URL(leader)+"/v1/locks/"+name, nil)
			if h := a.Body["holder"].(map[string]any); uint64(h["token"].(float64)) != held.num("token") {
				t.Fatalf("lock %s holder = %v; want the first holder's token %d", name, h, held.num("token"))
			}
			ac.must(ctx, "POST", c.URL(leader)+"/v1/locks/"+name+"/release", map[string]any{"token": held.num("token")})
		}
		st := ac.must(ctx, "GET", c.URL(leader)+"/v1/locks/"+name, nil)
		if st.Body["held"] != false || st.num("waiters") != 0 {
			t.Fatalf("lock %s at the end = %s; want free with no waiter", name, st.Raw)
		}
	}
}

func TestBlockingGet(t *testing.T) {
	ctx := testContext(t)
	c, leader := startLocks(t, ctx, 3)
	ac := newAPIClient(t)
	follower := c.URL((leader + 1) % 3)
	a := ac.must(ctx, "GET", follower+"/v1/locks/b", nil)
	index := a.Header.Get(wire.HeaderIndex)
	// Nothing changes: the GET returns after its wait with the same index.
	start := time.Now()
	same := ac.must(ctx, "GET", follower+"/v1/locks/b?index="+index+"&wait=200ms", nil)
	if same.Header.Get(wire.HeaderIndex) != index || time.Since(start) < 200*time.Millisecond {
		t.Errorf("blocking GET without change = index %s after %v; want %s after 200ms", same.Header.Get(wire.HeaderIndex), time.Since(start), index)
	}
	got := make(chan answer, 1)
	go func() {
		got <- ac.must(ctx, "GET", follower+"/v1/locks/b?index="+index+"&wait=20s", nil)
	}()
	acq := ac.must(ctx, "POST", c.URL(leader)+"/v1/locks/b/acquire", `{"ttl":"10s"}`)
	b := <-got
	if b.Body["held"] != true || b.Header.Get(wire.HeaderIndex) != itoa(acq.num("token")) {
		t.Errorf("blocking GET woken by an acquire = %s index %s; want held at index %d", b.Raw, b.Header.Get(wire.HeaderIndex), acq.num("token"))
	}
	// Elections block the same way.
	e := ac.must(ctx, "GET", follower+"/v1/elections/be", nil)
	go func() {
		got <- ac.must(ctx, "GET", follower+"/v1/elections/be?index="+e.Header.Get(wire.HeaderIndex)+"&wait=20s", nil)
	}()
	ac.must(ctx, "POST", c.URL(leader)+"/v1/elections/be/campaign", `{"value":"x"}`)
	if eb := <-got; eb.Body["leader"] == nil {
		t.Errorf("blocking election GET woken by a campaign = %s; want a leader", eb.Raw)
	}
}

func TestObserveStream(t *testing.T) {
	ctx := testContext(t)
	c, leader := startLocks(t, ctx, 3)
	ac := newAPIClient(t)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, _ := http.NewRequestWithContext(sctx, "GET", c.URL((leader+1)%3)+"/v1/elections/obs/observe", nil)
	resp, err := ac.hc.Do(req)
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("observe = %d %q; want 200 text/event-stream", resp.StatusCode, ct)
	}
	events := make(chan wire.ElectionInfo, 16)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var ei wire.ElectionInfo
				if err := json.Unmarshal([]byte(data), &ei); err != nil {
					t.Errorf("event %q: %v", data, err)
				}
				events <- ei
			}
		}
	}()
	next := func() wire.ElectionInfo {
		select {
		case ev := <-events:
			return ev
		case <-ctx.Done():
			t.Fatalf("no event")
		}
		return wire.ElectionInfo{}
	}
	if ev := next(); ev.Leader != nil {
		t.Fatalf("first event = %+v; want no leader", ev)
	}
	won := ac.must(ctx, "POST", c.URL(leader)+"/v1/elections/obs/campaign", `{"value":"a"}`)
	if ev := next(); ev.Leader == nil || ev.Leader.Value != "a" || ev.Leader.Term != won.num("term") {
		t.Fatalf("event after campaign = %+v; want leader a at term %d", ev, won.num("term"))
	}
	ac.must(ctx, "POST", c.URL(leader)+"/v1/elections/obs/proclaim", map[string]any{"term": won.num("term"), "value": "b"})
	if ev := next(); ev.Leader == nil || ev.Leader.Value != "b" {
		t.Fatalf("event after proclaim = %+v; want value b", ev)
	}
	ac.must(ctx, "POST", c.URL(leader)+"/v1/elections/obs/resign", map[string]any{"term": won.num("term")})
	if ev := next(); ev.Leader != nil {
		t.Fatalf("event after resign = %+v; want no leader", ev)
	}
}
