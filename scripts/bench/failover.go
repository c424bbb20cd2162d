package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// pairTime is one completed acquire+release of a failover client.
type pairTime struct{ sent, done time.Time }

// failoverClient records its completed pairs.
type failoverClient struct {
	mu    sync.Mutex
	pairs []pairTime
}

func (fc *failoverClient) add(p pairTime) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.pairs = append(fc.pairs, p)
}

// around returns the end of the last pair done at or before kill and the
// first pair sent after it (ok false when there is none yet).
func (fc *failoverClient) around(kill time.Time) (lastBefore time.Time, firstAfter pairTime, ok bool) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	for _, p := range fc.pairs {
		if !p.done.After(kill) {
			lastBefore = p.done
		}
		if p.sent.After(kill) && (!ok || p.done.Before(firstAfter.done)) {
			firstAfter, ok = p, true
		}
	}
	return lastBefore, firstAfter, ok
}

// failoverResult is one system's leader kills.
type failoverResult struct {
	// firstGrant is, per kill, the time from the SIGKILL to the end of the
	// first acquire+release sent after it; longestGap the longest time any
	// client went without completing one across the kill.
	firstGrant, longestGap []time.Duration
	// stalled counts clients without a pair within failoverGrantWait.
	stalled int
	errs    int64
	load    float64
}

// failover runs failoverClients lockers and SIGKILLs the leader kills times,
// restarting it after everyone completed a pair again.
func failover(ctx context.Context, t target, kills int, out func(string, ...any)) (failoverResult, error) {
	res := failoverResult{load: loadAverage()}
	ws, err := openWorkers(ctx, failoverClients, func(ctx context.Context, i int) (worker, error) {
		return t.locker(ctx, lockName("f", i))
	})
	if err != nil {
		return res, err
	}
	defer closeWorkers(ws)
	clients := make([]*failoverClient, len(ws))
	var errs atomic.Int64
	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i, w := range ws {
		clients[i] = &failoverClient{}
		wg.Add(1)
		// Exits when stop is called.
		go func() {
			defer wg.Done()
			for rctx.Err() == nil {
				octx, cancel := context.WithTimeout(rctx, opTimeout)
				sent := time.Now()
				err := w.op(octx)
				cancel()
				if err != nil {
					errs.Add(1)
					continue
				}
				clients[i].add(pairTime{sent: sent, done: time.Now()})
			}
		}()
	}
	defer func() {
		stop()
		wg.Wait()
		res.errs = errs.Load()
	}()
	c := t.cluster()
	for k := range kills {
		first, gap, stalled, err := killOnce(ctx, c, clients)
		if err != nil {
			return res, err
		}
		out("%s: kill %d/%d: first pair after %v, longest gap %v, %d clients stalled\n",
			t.name(), k+1, kills, first.Round(time.Millisecond), gap.Round(time.Millisecond), stalled)
		res.firstGrant = append(res.firstGrant, first)
		res.longestGap = append(res.longestGap, gap)
		res.stalled += stalled
	}
	return res, nil
}

// killOnce lets the clients run for failoverSettle, kills the leader, waits
// for every client to complete a pair sent after the kill, and restarts the
// killed node.
func killOnce(ctx context.Context, c *cluster, clients []*failoverClient) (first, gap time.Duration, stalled int, err error) {
	settle := time.NewTimer(failoverSettle)
	select {
	case <-ctx.Done():
		settle.Stop()
		return 0, 0, 0, ctx.Err()
	case <-settle.C:
	}
	li, err := c.waitLeader(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	kill := time.Now()
	c.procs[li].kill()
	wctx, cancel := context.WithTimeout(ctx, failoverGrantWait)
	defer cancel()
	everyone := func() bool {
		for _, fc := range clients {
			if _, _, ok := fc.around(kill); !ok {
				return false
			}
		}
		return true
	}
	_ = poll(wctx, everyone, func() error { return nil }) // A timeout shows as stalled clients.
	first = failoverGrantWait
	for _, fc := range clients {
		before, after, ok := fc.around(kill)
		if !ok {
			stalled++
			gap = max(gap, time.Since(before))
			continue
		}
		first = min(first, after.done.Sub(kill))
		gap = max(gap, after.done.Sub(before))
	}
	if err := c.procs[li].start(); err != nil {
		return 0, 0, 0, err
	}
	if err := c.waitReady(ctx, li); err != nil {
		return 0, 0, 0, err
	}
	return first, gap, stalled, nil
}

// quantileSeconds is the q-quantile of ds in seconds.
func quantileSeconds(ds []time.Duration, q float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return quantile(s, q).Seconds()
}

// formatFailover prints a failover result's line of the report.
func formatFailover(r failoverResult) string {
	return fmt.Sprintf("first pair p50 %.3f s, p90 %.3f s, max %.3f s; longest gap p50 %.3f s, max %.3f s; %d kills, %d stalled clients, %d errors; load %.1f",
		quantileSeconds(r.firstGrant, 0.5), quantileSeconds(r.firstGrant, 0.9), quantileSeconds(r.firstGrant, 1),
		quantileSeconds(r.longestGap, 0.5), quantileSeconds(r.longestGap, 1),
		len(r.firstGrant), r.stalled, r.errs, r.load)
}
