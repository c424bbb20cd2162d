// Benchmarks of the SDK's own cost per operation against the in-process
// fake over loopback HTTP/1.1: they measure the client (encoding, retry
// bookkeeping, connection reuse), not a replicated server.
package client

import (
	"context"
	"testing"
	"time"
)

func BenchmarkMutexLockUnlock(b *testing.B) {
	ctx := context.Background()
	c := newTestClient(b, []string{startFake(b).URL()})
	s, err := NewSession(ctx, c, WithTTL(time.Minute))
	if err != nil {
		b.Fatalf("NewSession() = %v", err)
	}
	defer func() { _ = s.Close() }()
	m := NewMutex(s, "bench")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Lock(ctx); err != nil {
			b.Fatalf("Lock() = %v", err)
		}
		if err := m.Unlock(ctx); err != nil {
			b.Fatalf("Unlock() = %v", err)
		}
	}
}

func BenchmarkKeepAlive(b *testing.B) {
	ctx := context.Background()
	c := newTestClient(b, []string{startFake(b).URL()})
	l, err := c.CreateLease(ctx, time.Minute)
	if err != nil {
		b.Fatalf("CreateLease() = %v", err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.KeepAlive(ctx, LeaseID(l.LeaseID)); err != nil {
			b.Fatalf("KeepAlive() = %v", err)
		}
	}
}
