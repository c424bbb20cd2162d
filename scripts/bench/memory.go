package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// memRow is the RSS of each node of one system at one moment.
type memRow struct {
	system, when string
	rss          []uint64
}

// recordRSS reads every running node's RSS from /proc/PID/status.
func (b *bench) recordRSS(t target, when string) memRow {
	r := memRow{system: t.name(), when: when}
	var parts []string
	for _, p := range t.cluster().procs {
		v, err := p.rssBytes()
		if err != nil {
			parts = append(parts, err.Error())
			r.rss = append(r.rss, 0)
			continue
		}
		r.rss = append(r.rss, v)
		parts = append(parts, fmt.Sprintf("%.1f MiB", mib(v)))
	}
	b.printf("%s RSS %s: %s\n", t.name(), when, strings.Join(parts, ", "))
	b.mem = append(b.mem, r)
	return r
}

func mib(v uint64) float64 { return float64(v) / (1 << 20) }

// holdLocks makes n locks held at once, heldLocksPerLease per lease (a
// raftlock lease holds at most 4096), reads the RSS, and revokes the leases
// (each releases its locks in one entry).
func (b *bench) holdLocks(ctx context.Context, t target, n int) error {
	leases := make([]uint64, (n+heldLocksPerLease-1)/heldLocksPerLease)
	if _, err := parallel(ctx, len(leases), func(ctx context.Context, i int) error {
		var err error
		leases[i], err = t.createLease(ctx, int64(time.Hour.Seconds()))
		return err
	}); err != nil {
		return fmt.Errorf("%s: memory workload leases: %w", t.name(), err)
	}
	start := time.Now()
	failed, err := parallel(ctx, n, func(ctx context.Context, i int) error {
		return t.holdLock(ctx, leases[i/heldLocksPerLease], lockName("h", i))
	})
	b.printf("%s: %d locks held by %d leases in %v (%d failed)\n", t.name(), n-failed, len(leases), time.Since(start).Round(time.Millisecond), failed)
	if err != nil {
		b.printf("%s: first failure: %v\n", t.name(), err)
	}
	b.recordRSS(t, fmt.Sprintf("holding %d locks", n-failed))
	if _, err := parallel(ctx, len(leases), func(ctx context.Context, i int) error {
		return t.revokeLease(ctx, leases[i])
	}); err != nil {
		return fmt.Errorf("%s: revoke the memory workload leases: %w", t.name(), err)
	}
	return nil
}
