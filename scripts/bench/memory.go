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

// holdLocks makes n locks held at once by one lease, reads the RSS, and
// revokes the lease (which releases them all in one entry).
func (b *bench) holdLocks(ctx context.Context, t target, n int) error {
	lease, err := t.createLease(ctx, int64(time.Hour.Seconds()))
	if err != nil {
		return fmt.Errorf("%s: memory workload lease: %w", t.name(), err)
	}
	start := time.Now()
	failed, err := parallel(ctx, n, func(ctx context.Context, i int) error {
		return t.holdLock(ctx, lease, lockName("h", i))
	})
	b.printf("%s: %d locks held in %v (%d failed)\n", t.name(), n-failed, time.Since(start).Round(time.Millisecond), failed)
	if err != nil {
		b.printf("%s: first failure: %v\n", t.name(), err)
	}
	b.recordRSS(t, fmt.Sprintf("holding %d locks", n-failed))
	if err := t.revokeLease(ctx, lease); err != nil {
		return fmt.Errorf("%s: revoke the memory workload lease: %w", t.name(), err)
	}
	return nil
}
