// The cluster tests run the SDK against real raftlock nodes: a three-node
// servertest cluster in this process (bbolt logs in temp dirs, HTTP over
// loopback, the lock table as state machine). Faults between one client and
// the cluster come from tcpProxy: every connection of that client goes
// through a proxy that the test can blackhole (bytes dropped, connections
// left open, as when a network path dies) or close (as when the client's
// process dies).
package client

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftlock/raftlock/server/servertest"
)

// clusterTTL is the session ttl of the cluster tests that wait for a lease
// to expire: the server's minimum, so an expiry costs about a second.
const clusterTTL = time.Second

// startCluster starts a three-node cluster running the lock table, waits
// for its leader, and returns it with its client URLs.
func startCluster(t *testing.T, ctx context.Context) (*servertest.Cluster, []string) {
	t.Helper()
	c := servertest.Start(t, 3, servertest.Options{Locks: true})
	if _, err := c.WaitLeader(ctx); err != nil {
		t.Fatalf("WaitLeader() = %v; want a leader", err)
	}
	urls := make([]string, c.Size())
	for i := range urls {
		urls[i] = c.URL(i)
	}
	return c, urls
}

// rotate returns urls starting at the k-th, so clients prefer different nodes.
func rotate(urls []string, k int) []string {
	k %= len(urls)
	return append(append([]string(nil), urls[k:]...), urls[:k]...)
}

// newClusterClient returns a Client for urls, closed when the test ends.
func newClusterClient(t *testing.T, urls []string) *Client {
	t.Helper()
	return newTestClient(t, urls)
}

// newSession returns a session of c with ttl, closed when the test ends.
func newSession(t *testing.T, ctx context.Context, c *Client, ttl time.Duration) *Session {
	t.Helper()
	s, err := NewSession(ctx, c, WithTTL(ttl))
	if err != nil {
		t.Fatalf("NewSession(ttl %v) = %v; want nil", ttl, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// proxiedClient returns a Client for urls whose every connection, to those
// nodes and to any leader a node names, goes through a tcpProxy of that node
// (the header names a node's real URL, so a proxy of the configured URL
// alone would be bypassed after the first answer).
func proxiedClient(t *testing.T, urls []string) (*Client, []*tcpProxy) {
	t.Helper()
	routes := make(map[string]string, len(urls))
	proxies := make([]*tcpProxy, 0, len(urls))
	for _, u := range urls {
		target := strings.TrimPrefix(u, "http://")
		p := startProxy(t, target)
		routes[target] = p.Addr()
		proxies = append(proxies, p)
	}
	c := newTestClient(t, urls)
	var d net.Dialer
	c.tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if via, ok := routes[addr]; ok {
			addr = via
		}
		return d.DialContext(ctx, network, addr)
	}
	return c, proxies
}

// tcpProxy forwards connections to one target until blackholed or closed.
type tcpProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu sync.Mutex
	// blackholed drops every byte from now on, in both directions, and
	// leaves new connections unanswered.
	blackholed bool
	closed     bool
	conns      []net.Conn
}

// startProxy starts a proxy to target on loopback, closed when the test ends.
func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &tcpProxy{ln: ln, target: target}
	p.wg.Add(1)
	// Exits when Close closes the listener.
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's listening address.
func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

// Blackhole drops all traffic from now on without closing anything.
func (p *tcpProxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blackholed = true
}

// Reset closes every current connection (both sides see it end) and
// forwards again from now on, as when a broken path heals.
func (p *tcpProxy) Reset() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.blackholed = false
	p.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// Close stops accepting, closes every connection and waits for the copiers.
func (p *tcpProxy) Close() {
	p.mu.Lock()
	p.closed = true
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	_ = p.ln.Close()
	for _, c := range conns {
		_ = c.Close()
	}
	p.wg.Wait()
}

// track remembers c for Close; false when the proxy is closed already.
func (p *tcpProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns = append(p.conns, c)
	return true
}

func (p *tcpProxy) dropping() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.blackholed
}

func (p *tcpProxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(in) {
			_ = in.Close()
			return
		}
		if p.dropping() {
			p.wg.Add(1)
			go p.pipe(in, nil) // exits when Close closes in
			continue
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil || !p.track(out) {
			if out != nil {
				_ = out.Close()
			}
			_ = in.Close()
			continue
		}
		p.wg.Add(2)
		// Both exit when either side or Close closes a connection.
		go p.pipe(in, out)
		go p.pipe(out, in)
	}
}

// pipe copies src to dst (drops it while blackholed or when dst is nil)
// until src fails; then it closes both so the other direction ends too,
// unless blackholed: a dead path tells neither side anything.
func (p *tcpProxy) pipe(src, dst net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && dst != nil && !p.dropping() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			if p.dropping() {
				return // a dead path tells neither side anything; Close ends them
			}
			_ = src.Close()
			if dst != nil {
				_ = dst.Close()
			}
			return
		}
	}
}
