// These tests prove the link proxy: it forwards both ways; cut, it moves no
// byte (a read through it times out) and, healed, delivers what was held
// back intact and in order; delayed, a round trip takes at least twice the
// delay.
package main

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// echoServer echoes every connection until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan struct{})
	// Exits when the listener closes at cleanup.
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// Exits when the client side closes.
			go func() {
				defer c.Close()
				io.Copy(c, c) // an echo ends with its connection
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String()
}

func dialLink(t *testing.T, l *link) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", l.addr())
	if err != nil {
		t.Fatalf("dial proxy: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip writes msg and reads it back within timeout.
func roundTrip(c net.Conn, msg []byte, timeout time.Duration) ([]byte, error) {
	if _, err := c.Write(msg); err != nil {
		return nil, err
	}
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	got := make([]byte, len(msg))
	_, err := io.ReadFull(c, got)
	return got, err
}

func newTestLink(t *testing.T) *link {
	t.Helper()
	l, err := newLink(0, 1, echoServer(t))
	if err != nil {
		t.Fatalf("newLink: %v", err)
	}
	t.Cleanup(func() {
		if err := l.close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return l
}

func TestLinkCutAndHeal(t *testing.T) {
	l := newTestLink(t)
	c := dialLink(t, l)
	if got, err := roundTrip(c, []byte("hello"), 5*time.Second); err != nil || string(got) != "hello" {
		t.Fatalf("roundTrip(hello) = %q, %v; want hello", got, err)
	}
	l.setCut(true)
	held := bytes.Repeat([]byte("x"), 3*ProxyChunkBytes)
	_, err := roundTrip(c, held, 300*time.Millisecond)
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("roundTrip through a cut link = %v; want a timeout", err)
	}
	// A connection made while cut stalls too.
	c2 := dialLink(t, l)
	if _, err := roundTrip(c2, []byte("new"), 200*time.Millisecond); err == nil {
		t.Fatalf("roundTrip on a connection made while cut succeeded; want a timeout")
	}
	l.setCut(false)
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(held))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, held) {
		t.Fatalf("after heal read %d bytes, %v; want the %d held bytes intact", len(got), err, len(held))
	}
	if got, err := roundTrip(c2, nil, time.Second); err != nil || len(got) != 0 {
		t.Fatalf("roundTrip on the second connection = %q, %v", got, err)
	}
	buf := make([]byte, 3)
	if err := c2.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c2, buf); err != nil || string(buf) != "new" {
		t.Fatalf("after heal second connection read %q, %v; want new", buf, err)
	}
}

func TestLinkDelay(t *testing.T) {
	const delay = 100 * time.Millisecond
	l := newTestLink(t)
	c := dialLink(t, l)
	l.setDelay(delay)
	start := time.Now()
	if got, err := roundTrip(c, []byte("slow"), 5*time.Second); err != nil || string(got) != "slow" {
		t.Fatalf("roundTrip(slow) = %q, %v", got, err)
	}
	if took := time.Since(start); took < 2*delay {
		t.Errorf("round trip through a link delayed %v took %v; want at least %v", delay, took, 2*delay)
	}
}
