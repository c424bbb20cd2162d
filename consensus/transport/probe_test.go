package transport

import (
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

// A follower that has nothing to send learns that its leader's process died:
// the connection it dialed to the leader ends, and reconnecting is refused.
func TestDeadPeerIsReportedDownWithoutSending(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reset bool
		// server: the peer's server closes itself (GOAWAY, then its
		// connections and listener), as a stopping process's does; the
		// HTTP/2 client may close its connection before it reads the EOF.
		server bool
	}{{"closed (FIN)", false, false}, {"reset (RST)", true, false}, {"server closed", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ln := &resetListener{Listener: inner}
			served := make(chan struct{}, 16)
			var p http.Protocols
			p.SetUnencryptedHTTP2(true)
			srv := &http.Server{Protocols: &p, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNoContent)
				served <- struct{}{}
			})}
			done := make(chan struct{})
			// Exits when the listener is closed below.
			go func() { defer close(done); _ = srv.Serve(ln) }()

			a := startNode(t, 1, nil)
			if err := a.tr.AddPeer(2, "http://"+inner.Addr().String()); err != nil {
				t.Fatal(err)
			}
			a.tr.Send([]consensus.Message{{Type: consensus.MsgHeartbeatResp, From: 1, To: 2, Term: 1}})
			<-served
			// The process dies: nothing listens any more, and its kernel
			// ends the connection (or its server closes first). Node 1
			// sends nothing after this.
			if tc.server {
				_ = srv.Close()
			}
			inner.Close()
			ln.mu.Lock()
			for _, c := range ln.conns {
				if tc.reset {
					if err := c.SetLinger(0); err != nil {
						t.Errorf("SetLinger(0): %v", err)
					}
				}
				c.Close()
			}
			ln.mu.Unlock()
			waitID(t, "PeerDown", a.down, 2)
			_ = srv.Close()
			<-done
		})
	}
}

func TestGoneProbe(t *testing.T) {
	ctx := context.Background()
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedAddr := refused.Addr().String()
	refused.Close()
	cases := []struct {
		name   string
		accept func(c *net.TCPConn) // what the listener does with a connection
		want   bool
	}{
		{"accepted and held (a live server)", func(c *net.TCPConn) {}, false},
		{"accepted then reset (a dying process)", func(c *net.TCPConn) {
			if err := c.SetLinger(0); err != nil {
				t.Errorf("SetLinger(0): %v", err)
			}
			c.Close()
		}, true},
		{"accepted then closed", func(c *net.TCPConn) { c.Close() }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			held := make(chan net.Conn, 1)
			// Exits after one accept (or when ln is closed).
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				tc.accept(c.(*net.TCPConn))
				held <- c
			}()
			if got := gone(ctx, ln.Addr().String()); got != tc.want {
				t.Fatalf("gone = %v; want %v", got, tc.want)
			}
			(<-held).Close()
		})
	}
	if !gone(ctx, refusedAddr) {
		t.Fatalf("gone(refused port) = false; want true")
	}
}
