package server_test

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// proxyBufferBytes is the copy buffer of one direction of a proxied connection.
const proxyBufferBytes = 32 << 10

// proxy is a TCP proxy in front of one peer listener, for one direction of
// one link (node i reaching node j). Blocked, it still accepts and reads
// but forwards nothing: a black hole, as a partition looks to HTTP/2 (no
// reset, no refusal; requests time out).
type proxy struct {
	t       *testing.T
	ln      net.Listener
	target  string
	blocked atomic.Bool
	wg      sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// startProxy listens on a loopback port and forwards to target until the
// test ends.
func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &proxy{t: t, ln: ln, target: target, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	// Exits when close closes the listener.
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) setBlocked(b bool) { p.blocked.Store(b) }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		// Exits when either side of the connection closes.
		go p.serve(c)
	}
}

// track remembers c for close; false when the proxy is closing.
func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

func (p *proxy) serve(in net.Conn) {
	defer p.wg.Done()
	out, err := net.Dial("tcp", p.target)
	if err != nil {
		in.Close()
		return
	}
	if !p.track(in) || !p.track(out) {
		in.Close()
		out.Close()
		return
	}
	done := make(chan struct{}, 2)
	// Each exits when its source fails; it closes both sides, so the other
	// one exits too.
	go p.pipe(out, in, done)
	go p.pipe(in, out, done)
	<-done
	<-done
	p.untrack(in)
	p.untrack(out)
}

// pipe copies src to dst, discarding while blocked.
func (p *proxy) pipe(dst, src net.Conn, done chan<- struct{}) {
	defer func() { done <- struct{}{} }()
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, proxyBufferBytes)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.blocked.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	if err := p.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		p.t.Errorf("proxy close: %v", err)
	}
	p.wg.Wait()
}
