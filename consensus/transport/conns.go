package transport

import (
	"context"
	"net"
	"sync"
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
	c := &trackedConn{Conn: conn, set: s}
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

// trackedConn removes itself from its set when closed.
type trackedConn struct {
	net.Conn
	set *connSet
}

func (c *trackedConn) Close() error {
	c.set.mu.Lock()
	delete(c.set.conns, c)
	c.set.mu.Unlock()
	return c.Conn.Close()
}
