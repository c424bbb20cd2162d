package main

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// link is a TCP proxy for one directed link of the cluster: node from
// reaching node to's peer listener (its requests and their answers both
// travel on connections from reaches to). Cut, it stops moving bytes in both
// directions of every connection, old and new, as a network dropping packets
// would: the kernel buffers fill, writers block, nothing is reset, and the
// streams resume intact when the link heals. Delayed, it holds every chunk
// for the delay before passing it on.
type link struct {
	from, to int
	target   string
	ln       net.Listener
	wg       sync.WaitGroup

	mu sync.Mutex
	// cut and healed: healed is closed when the link heals; a new one is
	// made at each cut.
	cut    bool
	healed chan struct{}
	delay  time.Duration
	conns  map[*proxyConn]struct{}
	closed bool
}

// proxyConn is one proxied connection: the accepted side and the dialed one.
type proxyConn struct {
	in, out net.Conn
	done    chan struct{} // closed by teardown
	once    sync.Once
}

func (pc *proxyConn) teardown() {
	pc.once.Do(func() {
		close(pc.done)
		pc.in.Close()  // a close error of a dying connection changes nothing
		pc.out.Close() // likewise
	})
}

// chunk is bytes read from one side, with the time they arrived.
type chunk struct {
	data []byte
	at   time.Time
}

// newLink listens on a free loopback port and forwards to target until
// close.
func newLink(from, to int, target string) (*link, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy n%d->n%d: listen: %w", from+1, to+1, err)
	}
	healed := make(chan struct{})
	close(healed)
	l := &link{from: from, to: to, target: target, ln: ln, healed: healed, conns: make(map[*proxyConn]struct{})}
	l.wg.Add(1)
	// Exits when close closes the listener.
	go l.accept()
	return l, nil
}

// addr is the address nodes dial to use the link.
func (l *link) addr() string { return l.ln.Addr().String() }

// setCut cuts (true) or heals (false) the link.
func (l *link) setCut(cut bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case cut && !l.cut:
		l.cut = true
		l.healed = make(chan struct{})
	case !cut && l.cut:
		l.cut = false
		close(l.healed)
	}
}

// isCut reports whether the link is cut.
func (l *link) isCut() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cut
}

// setDelay sets the delay every chunk waits before it is passed on.
func (l *link) setDelay(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.delay = d
}

func (l *link) getDelay() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.delay
}

// waitOpen blocks while the link is cut; false when done closed first or the
// link is closing.
func (l *link) waitOpen(done <-chan struct{}) bool {
	for {
		l.mu.Lock()
		closed, cut, healed := l.closed, l.cut, l.healed
		l.mu.Unlock()
		if closed {
			return false
		}
		if !cut {
			return true
		}
		select {
		case <-healed:
		case <-done:
			return false
		}
	}
}

func (l *link) accept() {
	defer l.wg.Done()
	for {
		in, err := l.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", l.target)
		if err != nil {
			in.Close() // the target is down (killed node): refuse like it would
			continue
		}
		pc := &proxyConn{in: in, out: out, done: make(chan struct{})}
		if !l.track(pc) {
			pc.teardown()
			return
		}
		l.wg.Add(1)
		// Exits when the connection is torn down.
		go l.serve(pc)
	}
}

// track remembers pc for close; false when the link is closing.
func (l *link) track(pc *proxyConn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.conns[pc] = struct{}{}
	return true
}

// serve moves bytes both ways until either side fails.
func (l *link) serve(pc *proxyConn) {
	defer l.wg.Done()
	var wg sync.WaitGroup
	wg.Add(4)
	up, down := make(chan chunk, ProxyQueueChunks), make(chan chunk, ProxyQueueChunks)
	// Each of these exits when pc is torn down or its source fails, and
	// tears pc down on its way out, so the others exit too.
	go l.read(pc, pc.in, up, &wg)
	go l.write(pc, pc.out, up, &wg)
	go l.read(pc, pc.out, down, &wg)
	go l.write(pc, pc.in, down, &wg)
	wg.Wait()
	l.mu.Lock()
	delete(l.conns, pc)
	l.mu.Unlock()
}

func (l *link) read(pc *proxyConn, src net.Conn, ch chan<- chunk, wg *sync.WaitGroup) {
	defer wg.Done()
	defer close(ch)
	for {
		buf := make([]byte, ProxyChunkBytes)
		n, err := src.Read(buf)
		if n > 0 {
			select {
			case ch <- chunk{data: buf[:n], at: time.Now()}:
			case <-pc.done:
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (l *link) write(pc *proxyConn, dst net.Conn, ch <-chan chunk, wg *sync.WaitGroup) {
	defer wg.Done()
	defer pc.teardown()
	for c := range ch {
		if !l.waitOpen(pc.done) {
			return
		}
		if wait := time.Until(c.at.Add(l.getDelay())); wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-timer.C:
			case <-pc.done:
				timer.Stop()
				return
			}
		}
		if _, err := dst.Write(c.data); err != nil {
			return
		}
	}
}

// close stops the link and waits for its goroutines.
func (l *link) close() error {
	l.mu.Lock()
	l.closed = true
	for pc := range l.conns {
		pc.teardown()
	}
	l.mu.Unlock()
	err := l.ln.Close()
	l.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("proxy n%d->n%d: close: %w", l.from+1, l.to+1, err)
	}
	return nil
}
