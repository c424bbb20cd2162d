package main

import (
	"context"
	"slices"
	"sync"
	"time"
)

// measure runs every worker's op in a closed loop for d: each worker starts
// its next op when the last one ended, until d has passed, and runs at least
// one (a worker scheduled late still counts). Ops that end after d still
// count, and elapsed runs until the last one ended.
func measure(ctx context.Context, workers []worker, d time.Duration) runResult {
	type part struct {
		ops, errs int
		lat       []time.Duration
		firstErr  error
	}
	parts := make([]part, len(workers))
	load := loadAverage()
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Add(1)
		// Exits at the deadline or when ctx ends.
		go func() {
			defer wg.Done()
			p := &parts[i]
			p.lat = make([]time.Duration, 0, latencySamplesInitial)
			for first := true; first || (ctx.Err() == nil && time.Now().Before(deadline)); first = false {
				octx, cancel := context.WithTimeout(ctx, opTimeout)
				t0 := time.Now()
				err := w.op(octx)
				dt := time.Since(t0)
				cancel()
				if err != nil {
					p.errs++
					if p.firstErr == nil {
						p.firstErr = err
					}
					continue
				}
				p.ops++
				if len(p.lat) < samplesMax {
					p.lat = append(p.lat, dt)
				}
			}
		}()
	}
	wg.Wait()
	r := runResult{elapsed: time.Since(start), load: load}
	for _, p := range parts {
		r.ops += p.ops
		r.errs += p.errs
		r.lat = append(r.lat, p.lat...)
		if r.firstErr == nil {
			r.firstErr = p.firstErr
		}
	}
	slices.Sort(r.lat)
	return r
}

// openWorkers opens n workers with open, setupClients at a time; on an
// error it closes those already open.
func openWorkers(ctx context.Context, n int, open func(ctx context.Context, i int) (worker, error)) ([]worker, error) {
	ws := make([]worker, n)
	errs := make([]error, n)
	sem := make(chan struct{}, setupClients)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		// Exits when open returns.
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ws[i], errs[i] = open(ctx, i)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			closeWorkers(ws)
			return nil, err
		}
		assertf(ws[i].op != nil, "worker %d opened without an op", i)
	}
	return ws, nil
}

// closeWorkers closes every opened worker and returns the first error.
func closeWorkers(ws []worker) error {
	var first error
	for _, w := range ws {
		if w.close == nil {
			continue
		}
		if err := w.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// parallel calls fn(i) for i in [0, n), setupClients at a time, and returns
// how many calls failed and the first error.
func parallel(ctx context.Context, n int, fn func(ctx context.Context, i int) error) (int, error) {
	var mu sync.Mutex
	failed := 0
	var first error
	sem := make(chan struct{}, setupClients)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		// Exits when fn returns.
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				mu.Lock()
				failed++
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failed, first
}
