package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"time"

	"go.uber.org/zap"

	"github.com/raftlock/raftlock/consensus"
)

// connBroken is told that the connection this node dialed to addr ended as
// a dead process's does. It checks, off the reader's goroutine, whether the
// peer at addr still accepts connections: if a new connection is refused,
// the peer's process is gone and Options.PeerDown hears of it (fast
// failover, DESIGN.md §3.2), even though this node had nothing to send that
// peer. A peer that accepts (a graceful close, a restart) or does not answer
// in time (a partition: nothing is known) is not reported.
func (t *Transport) connBroken(addr string) {
	id := t.peerAt(addr)
	if id == consensus.None || t.opts.PeerDown == nil {
		return
	}
	if _, busy := t.probing.LoadOrStore(addr, struct{}{}); busy {
		return
	}
	t.mu.RLock()
	closed := t.isClosed
	if !closed {
		t.probes.Add(1)
	}
	t.mu.RUnlock()
	if closed {
		t.probing.Delete(addr)
		return
	}
	// Ends after one dial bounded by ProbeTimeout (or Close).
	go func() {
		defer t.probes.Done()
		defer t.probing.Delete(addr)
		if gone(t.ctx, addr) {
			t.log.Info("peer connection broke and reconnecting is refused", zap.Uint64("peer", uint64(id)), zap.String("addr", addr))
			t.opts.PeerDown(id)
		}
	}()
}

// gone reports whether the process listening at addr is gone: a new
// connection is refused, or accepted and then reset or closed within
// ProbeSettle without a byte (a dying process's kernel may still accept on a
// listening socket it has not closed yet, and resets that connection when it
// does). A live peer's HTTP/2 server waits for the client's preface and
// neither writes nor closes.
func gone(ctx context.Context, addr string) bool {
	d := net.Dialer{Timeout: ProbeTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return connectionDown(err)
	}
	defer conn.Close() // only the probe mattered
	if err := conn.SetReadDeadline(time.Now().Add(ProbeSettle)); err != nil {
		return false
	}
	var b [1]byte
	_, err = conn.Read(b[:])
	return err != nil && (connectionDown(err) || errors.Is(err, io.EOF))
}

// peerAt returns the peer whose endpoint is at addr (host:port), or None.
func (t *Transport) peerAt(addr string) consensus.NodeID {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for id, p := range t.peers {
		p.mu.Lock()
		endpoint := p.endpoint
		p.mu.Unlock()
		if u, err := url.Parse(endpoint); err == nil && u.Host == addr {
			return id
		}
	}
	return consensus.None
}
