// These tests prove the Election's contract: an observer sees "no leader",
// then each leader and value change in order with increasing terms, a
// queued candidate is elected when the leader resigns, an observer survives
// a broken stream without repeating what it saw, and Proclaim/Resign/Leader
// behave for a non-leader.
package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

const eventWait = 5 * time.Second

// bufioTooLong is what an over-long line fails with.
var bufioTooLong = bufio.ErrTooLong

// electionQueued reports whether one candidate waits for election name on
// the fake (a real server does not show election waiters).
func electionQueued(node *fakeNode, name string) func() bool {
	return func() bool {
		node.state.mu.Lock()
		defer node.state.mu.Unlock()
		lk := node.state.elections[name]
		return lk != nil && len(lk.waiters) == 1
	}
}

func TestElectionCampaignObserveOrder(t *testing.T) {
	const name = "svc"
	ctx := testContext(t)
	var node *fakeNode
	var eps []string
	if realServer() {
		eps = testEndpoints(t)
	} else {
		node = startFake(t)
		eps = []string{node.URL()}
	}
	watcher := NewElection(newTestSession(t, ctx, eps), name)
	octx, stop := context.WithCancel(ctx)
	events := watcher.Observe(octx)
	defer func() {
		stop()
		for range events { // drain until the observer closes the channel
		}
	}()
	next := func(what string) LeaderInfo {
		t.Helper()
		li := recv(t, events, eventWait, what)
		for realServer() && li.Term == 0 && what != "no leader" {
			li = recv(t, events, eventWait, what) // a real server may show a gap
		}
		return li
	}
	if li := next("no leader"); li != (LeaderInfo{}) {
		t.Fatalf("first event = %+v; want no leader", li)
	}
	a := NewElection(newTestSession(t, ctx, eps), name)
	if err := a.Campaign(ctx, "a:1"); err != nil {
		t.Fatalf("Campaign(%q) = %v", "a:1", err)
	}
	termA := a.Term()
	if got, want := next("a elected"), (LeaderInfo{"a:1", termA, a.s.Lease()}); got != want {
		t.Fatalf("event = %+v; want %+v", got, want)
	}
	b := NewElection(newTestSession(t, ctx, eps), name)
	won := make(chan error, 1)
	go func() { won <- b.Campaign(ctx, "b:1") }()
	if node != nil {
		waitUntil(t, ctx, "b queued", electionQueued(node, name))
	}
	if err := a.Proclaim(ctx, "a:2"); err != nil {
		t.Fatalf("Proclaim(%q) = %v", "a:2", err)
	}
	if got, want := next("a proclaimed"), (LeaderInfo{"a:2", termA, a.s.Lease()}); got != want {
		t.Fatalf("event = %+v; want %+v", got, want)
	}
	if leader, err := b.Leader(ctx); err != nil || leader.Value != "a:2" {
		t.Errorf("Leader() = %+v, %v; want value %q", leader, err, "a:2")
	}
	if err := a.Resign(ctx); err != nil {
		t.Fatalf("Resign() = %v", err)
	}
	if err := recv(t, won, eventWait, "b's campaign"); err != nil {
		t.Fatalf("Campaign(%q) = %v; want elected after a resigned", "b:1", err)
	}
	got := next("b elected")
	if want := (LeaderInfo{"b:1", b.Term(), b.s.Lease()}); got != want || got.Term <= termA {
		t.Fatalf("event = %+v; want %+v with a term above %d", got, want, termA)
	}
	if a.Term() != 0 {
		t.Errorf("Term() after Resign = %d; want 0", a.Term())
	}
}

func TestElectionNotLeader(t *testing.T) {
	ctx := testContext(t)
	e := NewElection(newTestSession(t, ctx, testEndpoints(t)), "idle")
	if err := e.Proclaim(ctx, "x"); !errors.Is(err, ErrNotLeader) {
		t.Errorf("Proclaim() without leading = %v; want %v", err, ErrNotLeader)
	}
	if err := e.Resign(ctx); err != nil {
		t.Errorf("Resign() without leading = %v; want nil", err)
	}
	if _, err := e.Leader(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("Leader() of an election without leader = %v; want %v", err, ErrNotFound)
	}
	// A raw proclaim with a made-up term is refused by the server.
	if _, err := e.s.c.Proclaim(ctx, "idle", 12345, "x"); !errors.Is(err, ErrNotLeader) {
		t.Errorf("Proclaim(%q, 12345) = %v; want %v", "idle", err, ErrNotLeader)
	}
}

func TestElectionObserveReconnects(t *testing.T) {
	const name = "flaky"
	ctx := testContext(t)
	node := startFake(t)
	eps := []string{node.URL()}
	leader := NewElection(newTestSession(t, ctx, eps), name)
	if err := leader.Campaign(ctx, "v1"); err != nil {
		t.Fatalf("Campaign(%q) = %v", "v1", err)
	}
	// The first stream sends the current state, then ends.
	h := &faultHook{n: 1, sub: "/observe", fault: func(n *fakeNode, w http.ResponseWriter, r *http.Request) {
		n.state.mu.Lock()
		info := n.state.election(name)
		n.state.mu.Unlock()
		b, err := json.Marshal(info)
		if err != nil {
			n.t.Errorf("Marshal(%+v) = %v", info, err)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, ": hi\n\ndata: %s\n\n", b)
	}}
	h.install(node)
	wc := fastRetries(newTestClient(t, eps))
	ws, err := NewSession(ctx, wc, WithTTL(5*time.Second))
	if err != nil {
		t.Fatalf("NewSession() = %v", err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	watcher := NewElection(ws, name)
	octx, stop := context.WithCancel(ctx)
	events := watcher.Observe(octx)
	defer func() {
		stop()
		for range events {
		}
	}()
	if got := recv(t, events, eventWait, "v1"); got.Value != "v1" {
		t.Fatalf("first event = %+v; want value v1", got)
	}
	waitUntil(t, ctx, "a second observe stream", func() bool { return len(h.seen()) >= 2 })
	if err := leader.Proclaim(ctx, "v2"); err != nil {
		t.Fatalf("Proclaim(%q) = %v", "v2", err)
	}
	// The second stream's replay of v1 is dropped: the next event is v2.
	if got := recv(t, events, eventWait, "v2"); got.Value != "v2" {
		t.Fatalf("event after reconnect = %+v; want value v2 (no repeat of v1)", got)
	}
}

func TestObserveIdleStreamDropped(t *testing.T) {
	ctx := testContext(t)
	node := startFake(t)
	(&faultHook{n: 1, sub: "/observe", fault: func(n *fakeNode, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		select { // silent until the client gives up
		case <-r.Context().Done():
		case <-n.state.quit:
		}
	}}).install(node)
	c := newTestClient(t, []string{node.URL()})
	err := c.observe(ctx, "quiet", 100*time.Millisecond, func(wire.ElectionInfo) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "silent") {
		t.Fatalf("observe of a silent stream = %v; want a silent-stream error", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("observe returned only when the test ctx ended")
	}
}

func TestReadEvents(t *testing.T) {
	stop := errors.New("stop")
	for _, tc := range []struct {
		name    string
		in      string
		want    []string
		stopAt  int // fn returns stop on this event (1-based); 0 never
		wantErr error
	}{
		{"one event", "data: {\"a\":1}\n\n", []string{`{"a":1}`}, 0, nil},
		{"keep-alive comments", ": ping\n\n: ping\ndata: x\n\n:\n", []string{"x"}, 0, nil},
		{"multi-line data", "data: a\ndata: b\n\n", []string{"a\nb"}, 0, nil},
		{"crlf", "data: a\r\n\r\ndata: b\r\n\r\n", []string{"a", "b"}, 0, nil},
		{"no space after colon", "data:x\n\n", []string{"x"}, 0, nil},
		{"other fields ignored", "event: change\nid: 7\nretry: 10\ndata: x\n\n", []string{"x"}, 0, nil},
		{"cut-off event dropped", "data: a\n\ndata: b", []string{"a"}, 0, nil},
		{"blank lines alone", "\n\n\n", nil, 0, nil},
		{"fn error stops", "data: a\n\ndata: b\n\n", []string{"a"}, 1, stop},
		{"line over max", "data: " + strings.Repeat("x", EventBytesMax) + "\n\n", nil, 0, bufioTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			lines := 0
			err := readEvents(strings.NewReader(tc.in), func() { lines++ }, func(d []byte) error {
				got = append(got, string(d))
				if len(got) == tc.stopAt {
					return stop
				}
				return nil
			})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("readEvents(%.40q) = %v; want %v", tc.in, err, tc.wantErr)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("readEvents(%.40q) events = %q; want %q", tc.in, got, tc.want)
			}
			if tc.wantErr == nil && lines == 0 && tc.in != "" {
				t.Errorf("readEvents(%.40q) reported no lines", tc.in)
			}
		})
	}
}

func TestElectionCampaignAgainAdopts(t *testing.T) {
	ctx := testContext(t)
	e := NewElection(newTestSession(t, ctx, testEndpoints(t)), "again")
	if err := e.Campaign(ctx, "v1"); err != nil {
		t.Fatalf("Campaign(%q) = %v", "v1", err)
	}
	term := e.Term()
	// The session already leads: the second campaign keeps the term and
	// makes the new value current.
	if err := e.Campaign(ctx, "v2"); err != nil {
		t.Fatalf("second Campaign(%q) = %v; want nil", "v2", err)
	}
	if e.Term() != term {
		t.Errorf("Term() after a second campaign = %d; want %d", e.Term(), term)
	}
	if got, err := e.Leader(ctx); err != nil || got.Value != "v2" || got.Term != term {
		t.Errorf("Leader() = %+v, %v; want value %q term %d", got, err, "v2", term)
	}
}

func TestElectionCampaignCtxEnds(t *testing.T) {
	ctx := testContext(t)
	eps := testEndpoints(t)
	a := NewElection(newTestSession(t, ctx, eps), "held")
	if err := a.Campaign(ctx, "a"); err != nil {
		t.Fatalf("Campaign(%q) = %v", "a", err)
	}
	b := NewElection(newTestSession(t, ctx, eps), "held")
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := b.Campaign(cctx, "b"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Campaign(%q) with a 300ms ctx = %v; want %v", "b", err, context.DeadlineExceeded)
	}
	if err := a.Resign(ctx); err != nil {
		t.Fatalf("Resign() = %v", err)
	}
	if _, err := b.Leader(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("Leader() after the only leader resigned = %v; want %v (the gone candidate was not elected)", err, ErrNotFound)
	}
}
