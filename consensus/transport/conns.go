package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// connSet tracks every connection the client side dialed, so that Close can
// end them all: the HTTP client only closes idle ones, and a connection to a
// peer that stopped answering is never idle again.
type connSet struct {
	dialer *net.Dialer
	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	// closed refuses new dials after closeAll.
	closed bool
	// onBroken, when set, is told (once per connection) the dial address of
	// a connection whose read failed as a dead process's does (EOF or a
	// reset that this side did not cause by closing it), or that the client
	// closed while the set is open (see trackedConn.Close).
	onBroken func(addr string)
}

func newConnSet(d *net.Dialer) *connSet {
	return &connSet{dialer: d, conns: make(map[*trackedConn]struct{})}
}

// dial is the client's DialContext.
func (s *connSet) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := s.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c := &trackedConn{Conn: conn, set: s, addr: addr}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		conn.Close()
		return nil, ErrClosed
	}
	s.conns[c] = struct{}{}
	return c, nil
}

// closeAll closes every tracked connection and refuses new ones.
func (s *connSet) closeAll() {
	s.mu.Lock()
	s.closed = true
	conns := s.conns
	s.conns = make(map[*trackedConn]struct{})
	s.mu.Unlock()
	for c := range conns {
		c.Conn.Close() // the error of closing a connection we give up on tells nothing
	}
}

// trackedConn removes itself from its set when closed, and reports a read
// that failed because the other end went away.
type trackedConn struct {
	net.Conn
	set  *connSet
	addr string
	// closing is set when this side closes the connection; reported once
	// the break was reported.
	closing, reported atomic.Bool
}

// Read reads from the connection. The HTTP/2 client reads every connection
// all the time, so a peer process that dies (its kernel closes its sockets)
// shows here at once even when this node has nothing to send it: a
// follower learns that its leader's process is gone this way.
func (c *trackedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil && c.set.onBroken != nil && (connectionDown(err) || errors.Is(err, io.EOF)) {
		if !c.closing.Load() && c.reported.CompareAndSwap(false, true) {
			c.set.onBroken(c.addr)
		}
	}
	return n, err
}

// Close closes the connection. The HTTP/2 client closes a connection itself
// when the peer's server says it is going away (GOAWAY: a peer whose server
// closes, as a stopping process's does), often before its reader sees the
// EOF that Read would report; so a close is reported too, unless Read
// already did or the transport is closing. The probe that follows tells a
// peer that is gone (its port refuses) from one that only dropped or
// recycled a connection (it still accepts), so reporting a close of our own
// costs a dial and never a false PeerDown.
func (c *trackedConn) Close() error {
	c.closing.Store(true)
	c.set.mu.Lock()
	delete(c.set.conns, c)
	closed := c.set.closed
	c.set.mu.Unlock()
	if !closed && c.set.onBroken != nil && c.reported.CompareAndSwap(false, true) {
		c.set.onBroken(c.addr)
	}
	return c.Conn.Close()
}
