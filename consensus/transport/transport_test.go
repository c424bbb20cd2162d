// These tests run real transports over loopback h2c and prove delivery and
// isolation: messages (with entries) arrive intact and in order per sender,
// every request is HTTP/2, a hanging peer does not delay a live one, a refused
// peer is reported down, and a full queue drops and reports unreachable
// without blocking Send.
package transport

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"reflect"
	"sync"
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

// app returns a MsgApp from -> to with n entries of size bytes each.
func app(from, to consensus.NodeID, index consensus.Index, n, size int) consensus.Message {
	m := consensus.Message{Type: consensus.MsgApp, From: from, To: to, Term: 3, LogTerm: 2, Index: index, Commit: index}
	for i := 0; i < n; i++ {
		m.Entries = append(m.Entries, consensus.Entry{
			Index: index + consensus.Index(i) + 1, Term: 3, Type: consensus.EntryNormal,
			Data: bytes.Repeat([]byte{byte(i + 1)}, size),
		})
	}
	return m
}

func TestExchange(t *testing.T) {
	a, b, c := startNode(t, 1, nil), startNode(t, 2, nil), startNode(t, 3, nil)
	connect(t, a, b, c)
	nodes := []*node{a, b, c}
	// Each case sends its messages from every node to every other, except
	// the heavy one, sent from node 1 to node 2 alone to keep -race runs short.
	cases := []struct {
		name      string
		firstOnly bool
		make      func(from, to consensus.NodeID) []consensus.Message
	}{
		{"heartbeat", false, func(f, to consensus.NodeID) []consensus.Message {
			return []consensus.Message{{Type: consensus.MsgHeartbeat, From: f, To: to, Term: 7, Commit: 9, Context: []byte("rq-1")}}
		}},
		{"app with entries", false, func(f, to consensus.NodeID) []consensus.Message {
			return []consensus.Message{app(f, to, 10, 3, 100)}
		}},
		{"reject with hint", false, func(f, to consensus.NodeID) []consensus.Message {
			return []consensus.Message{{Type: consensus.MsgAppResp, From: f, To: to, Term: 4, Index: 12, Reject: true, RejectHint: 8, LogTerm: 2}}
		}},
		{"one large entry", false, func(f, to consensus.NodeID) []consensus.Message {
			return []consensus.Message{app(f, to, 1, 1, 1<<20)}
		}},
		{"more than one batch", true, func(f, to consensus.NodeID) []consensus.Message {
			// 1.5 MiB of entries: past BatchBytesMax, so at least two POSTs.
			var ms []consensus.Message
			for i := 0; i < 24; i++ {
				ms = append(ms, app(f, to, consensus.Index(i*64), 64, 1<<10))
			}
			return ms
		}},
		{"queue full of votes", false, func(f, to consensus.NodeID) []consensus.Message {
			ms := make([]consensus.Message, QueueMessagesMax)
			for i := range ms {
				ms[i] = consensus.Message{Type: consensus.MsgVoteResp, From: f, To: to, Term: consensus.Term(i + 1)}
			}
			return ms
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := map[consensus.NodeID]map[consensus.NodeID][]consensus.Message{} // to -> from -> msgs
			for _, from := range nodes {
				var out []consensus.Message
				for _, to := range nodes {
					if from == to || (tc.firstOnly && (from != a || to != b)) {
						continue
					}
					ms := tc.make(from.id, to.id)
					if want[to.id] == nil {
						want[to.id] = map[consensus.NodeID][]consensus.Message{}
					}
					want[to.id][from.id] = ms
					out = append(out, ms...)
				}
				from.tr.Send(out)
			}
			for _, to := range nodes {
				n := 0
				for _, ms := range want[to.id] {
					n += len(ms)
				}
				if n == 0 {
					continue
				}
				got := map[consensus.NodeID][]consensus.Message{}
				for _, m := range receive(t, to, n) {
					got[m.From] = append(got[m.From], m)
				}
				if !reflect.DeepEqual(got, want[to.id]) {
					t.Errorf("node %d received %d messages that differ from the %d sent (or their order)", to.id, n, n)
				}
			}
			for _, nd := range nodes {
				for _, ps := range nd.tr.Stats().Peers {
					if ps.DroppedMessages != 0 || ps.Failures != 0 {
						t.Errorf("Stats() of node %d, peer %d = %+v; want no drops or failures", nd.id, ps.ID, ps)
					}
				}
			}
		})
	}
}

func TestRequestsAreHTTP2(t *testing.T) {
	b := startNode(t, 2, nil)
	a := startNode(t, 1, nil)
	// Serve b's handler a second time behind a recorder, configured as Serve
	// configures h2c, to see the protocol of each request.
	var mu sync.Mutex
	var protos []int
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Protocols: &p, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		protos = append(protos, r.ProtoMajor)
		mu.Unlock()
		b.tr.Handler().ServeHTTP(w, r)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	// Exits when srv is closed at the end of the test.
	go func() { defer close(done); _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close(); <-done }()

	if err := a.tr.AddPeer(2, "http://"+ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	if err := b.tr.AddPeer(1, a.url); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		a.tr.Send([]consensus.Message{app(1, 2, consensus.Index(i), 2, 10)})
		receive(t, b, 1)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(protos) != 3 {
		t.Fatalf("requests = %d; want 3", len(protos))
	}
	for i, major := range protos {
		if major != 2 {
			t.Errorf("request %d ProtoMajor = %d; want 2", i, major)
		}
	}
}

// hangingPeer accepts connections and never answers. accepted receives once
// a connection is open; closed is closed when the client gave up on it.
type hangingPeer struct {
	ln       net.Listener
	accepted chan struct{}
	closed   chan struct{}
	wg       sync.WaitGroup
}

func newHangingPeer(t *testing.T) *hangingPeer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hangingPeer{ln: ln, accepted: make(chan struct{}, 1), closed: make(chan struct{})}
	h.wg.Add(1)
	// Exits when the listener is closed in cleanup.
	go func() {
		defer h.wg.Done()
		var once sync.Once
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			h.accepted <- struct{}{}
			h.wg.Add(1)
			// Exits when the client closes the connection (its timeout or Close).
			go func() {
				defer h.wg.Done()
				buf := make([]byte, 4096)
				for {
					if _, err := conn.Read(buf); err != nil {
						conn.Close()
						once.Do(func() { close(h.closed) })
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); h.wg.Wait() })
	return h
}

func TestHangingPeerDoesNotDelayOthers(t *testing.T) {
	hang := newHangingPeer(t)
	a, b := startNode(t, 1, nil), startNode(t, 2, nil)
	connect(t, a, b)
	if err := a.tr.AddPeer(3, "http://"+hang.ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	// First a request to the hanging peer, open and unanswered...
	a.tr.Send([]consensus.Message{app(1, 3, 1, 1, 10)})
	select {
	case <-hang.accepted:
	case <-b.got:
		t.Fatal("node 2 received a message sent to node 3")
	}
	// ...then messages to the live one arrive while it still hangs.
	for i := 0; i < 10; i++ {
		a.tr.Send([]consensus.Message{app(1, 3, 2, 1, 10), app(1, 2, consensus.Index(i), 1, 10)})
		select {
		case m := <-b.got:
			if m.To != 2 || m.Index != consensus.Index(i) {
				t.Fatalf("node 2 received %+v; want index %d", m, i)
			}
		case <-hang.closed:
			t.Fatalf("message %d to node 2 waited for node 3's request to end", i)
		}
	}
}

func TestRefusedPeerIsReportedDown(t *testing.T) {
	a, b := startNode(t, 1, nil), startNode(t, 3, nil)
	connect(t, a, b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	if err := a.tr.AddPeer(2, dead); err != nil {
		t.Fatal(err)
	}
	a.tr.Send([]consensus.Message{{Type: consensus.MsgHeartbeat, From: 1, To: 2, Term: 1}})
	waitID(t, "PeerDown", a.down, 2)
	waitID(t, "ReportUnreachable", a.unreachable, 2)
	// The live peer is served while the dead one fails and backs off.
	for i := 0; i < 5; i++ {
		a.tr.Send([]consensus.Message{
			{Type: consensus.MsgHeartbeat, From: 1, To: 2, Term: 1},
			{Type: consensus.MsgHeartbeat, From: 1, To: 3, Term: consensus.Term(i)},
		})
		if m := receive(t, b, 1)[0]; m.Term != consensus.Term(i) {
			t.Fatalf("node 3 received term %d; want %d", m.Term, i)
		}
	}
	// The sender counts a batch once the answer is back, after Step ran.
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	waitUntil(t, ctx, func() bool { return a.tr.Stats().Peers[1].SentMessages == 5 })
	st := a.tr.Stats()
	if len(st.Peers) != 2 || st.Peers[0].Failures == 0 || st.Peers[0].DroppedMessages == 0 {
		t.Errorf("Stats().Peers = %+v; want peer 2 with failures and drops", st.Peers)
	}
	if st.Peers[1].Failures != 0 || st.Peers[1].SentMessages != 5 {
		t.Errorf("Stats().Peers[1] = %+v; want 5 sent to peer 3 and no failures", st.Peers[1])
	}
}

func TestFullQueueDropsAndReportsUnreachable(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	// b's Step blocks on its first message, holding a's only request open.
	b := startNode(t, 2, func(o *Options) {
		step := o.Step
		o.Step = func(m consensus.Message) {
			once.Do(func() { close(entered); <-release })
			step(m)
		}
	})
	a := startNode(t, 1, nil)
	connect(t, a, b)
	defer once.Do(func() {}) // never block if the test fails early
	a.tr.Send([]consensus.Message{app(1, 2, 0, 1, 10)})
	select {
	case <-entered:
	case <-a.unreachable:
		t.Fatal("first message reported unreachable")
	}
	full := make([]consensus.Message, QueueMessagesMax)
	for i := range full {
		full[i] = app(1, 2, consensus.Index(i+1), 1, 10)
	}
	a.tr.Send(full)
	select {
	case id := <-a.unreachable:
		close(release)
		t.Fatalf("ReportUnreachable(%d) before the queue was full", id)
	default:
	}
	a.tr.Send([]consensus.Message{app(1, 2, 99999, 1, 10)}) // one too many
	waitID(t, "ReportUnreachable", a.unreachable, 2)
	ps := a.tr.Stats().Peers[0]
	if ps.QueueDepth != QueueMessagesMax || ps.DroppedMessages != 1 {
		t.Errorf("Stats().Peers[0] = %+v; want QueueDepth %d and 1 dropped", ps, QueueMessagesMax)
	}
	close(release)
	got := receive(t, b, QueueMessagesMax+1)
	for i, m := range got {
		if m.Index != consensus.Index(i) {
			t.Fatalf("message %d has index %d; want %d (in order, the dropped one absent)", i, m.Index, i)
		}
	}
}

func TestAddPeerValidates(t *testing.T) {
	a := startNode(t, 1, nil)
	cases := []struct {
		name string
		id   consensus.NodeID
		url  string
		want error
	}{
		{"ok", 2, "http://127.0.0.1:7071", nil},
		{"ok again with a new url", 2, "http://127.0.0.1:7072/", nil},
		{"none", consensus.None, "http://127.0.0.1:7071", ErrInvalidPeer},
		{"self", 1, "http://127.0.0.1:7071", ErrInvalidPeer},
		{"https without tls", 3, "https://127.0.0.1:7071", ErrInvalidPeer},
		{"no host", 3, "http:///x", ErrInvalidPeer},
		{"path", 3, "http://127.0.0.1:7071/raft", ErrInvalidPeer},
		{"unparsable", 3, "http://[::1", ErrInvalidPeer},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := a.tr.AddPeer(tc.id, tc.url); !errorsIs(err, tc.want) {
				t.Errorf("AddPeer(%d, %q) = %v; want %v", tc.id, tc.url, err, tc.want)
			}
		})
	}
	if err := a.tr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.tr.AddPeer(4, "http://127.0.0.1:7071"); !errorsIs(err, ErrClosed) {
		t.Errorf("AddPeer after Close = %v; want %v", err, ErrClosed)
	}
}

func TestRemovePeer(t *testing.T) {
	a, b := startNode(t, 1, nil), startNode(t, 2, nil)
	connect(t, a, b)
	a.tr.Send([]consensus.Message{app(1, 2, 1, 1, 1)})
	receive(t, b, 1)
	b.tr.RemovePeer(1)
	b.tr.RemovePeer(1) // unknown: a no-op
	a.tr.RemovePeer(2)
	a.tr.Send([]consensus.Message{app(1, 2, 2, 1, 1)})
	if st := a.tr.Stats(); st.UnknownPeerDrops != 1 || len(st.Peers) != 0 {
		t.Errorf("Stats() = %+v; want 1 unknown-peer drop and no peers", st)
	}
	// b no longer accepts a's batches.
	if err := a.tr.AddPeer(2, b.url); err != nil {
		t.Fatal(err)
	}
	a.tr.Send([]consensus.Message{app(1, 2, 3, 1, 1)})
	waitID(t, "ReportUnreachable", a.unreachable, 2)
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	waitUntil(t, ctx, func() bool { return b.tr.Stats().RejectedRequests == 1 })
	select {
	case m := <-b.got:
		t.Errorf("node 2 received %+v from a removed peer", m)
	default:
	}
}

func TestCloseStopsSendAndServe(t *testing.T) {
	hang := newHangingPeer(t)
	a := startNode(t, 1, nil)
	if err := a.tr.AddPeer(2, "http://"+hang.ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	a.tr.Send([]consensus.Message{app(1, 2, 1, 1, 10)})
	<-hang.accepted
	// Close cancels the hanging request and returns; Send afterwards drops.
	if err := a.tr.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	a.tr.Send([]consensus.Message{app(1, 2, 2, 1, 10)})
	if st := a.tr.Stats(); st.UnknownPeerDrops != 1 {
		t.Errorf("Stats().UnknownPeerDrops = %d; want 1", st.UnknownPeerDrops)
	}
}

func errorsIs(err, target error) bool {
	if target == nil {
		return err == nil
	}
	return errors.Is(err, target)
}

// resetListener hands out connections it can later reset (RST, not FIN).
type resetListener struct {
	net.Listener
	mu    sync.Mutex
	conns []*net.TCPConn
}

func (l *resetListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c.(*net.TCPConn))
		l.mu.Unlock()
	}
	return c, err
}

func (l *resetListener) resetAll(t *testing.T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		if err := c.SetLinger(0); err != nil {
			t.Errorf("SetLinger(0): %v", err)
		}
		c.Close()
	}
}

func TestResetPeerIsReportedDown(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &resetListener{Listener: inner}
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	// The peer resets its connections while a request is in flight on one.
	srv := &http.Server{Protocols: &p, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ln.resetAll(t)
		<-r.Context().Done()
	})}
	done := make(chan struct{})
	// Exits when srv is closed at the end of the test.
	go func() { defer close(done); _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close(); <-done }()

	a := startNode(t, 1, nil)
	if err := a.tr.AddPeer(2, "http://"+inner.Addr().String()); err != nil {
		t.Fatal(err)
	}
	a.tr.Send([]consensus.Message{app(1, 2, 1, 1, 10)})
	waitID(t, "PeerDown", a.down, 2)
}
