package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// bench is one benchmark session: the systems under test and what was
// measured on them.
type bench struct {
	o       options
	out     io.Writer
	machine machine
	targets []target
	rows    []row
	fails   []failoverRow
	mem     []memRow
}

// row is one workload's results per system.
type row struct {
	key, unit string
	sums      map[string]summary
	notes     []string
}

// failoverRow is one system's failover results.
type failoverRow struct {
	system string
	res    failoverResult
}

func (b *bench) printf(format string, args ...any) {
	fmt.Fprintf(b.out, format, args...)
}

// startTarget starts a cluster, measures its idle RSS and opens its target.
func (b *bench) startTarget(ctx context.Context, c *cluster, open func() (target, error)) error {
	start := time.Now()
	if err := c.startAll(ctx); err != nil {
		return err
	}
	t, err := open()
	if err != nil {
		c.stopAll()
		return err
	}
	if _, err := c.waitLeader(ctx); err != nil {
		c.stopAll()
		return errors.Join(err, t.close())
	}
	b.printf("%s: 3 nodes ready in %v\n", t.name(), time.Since(start).Round(time.Millisecond))
	b.targets = append(b.targets, t)
	b.recordRSS(t, "idle, after start")
	return nil
}

// stopTargets closes the clients and stops every cluster.
func (b *bench) stopTargets() {
	for _, t := range b.targets {
		if err := t.close(); err != nil {
			b.printf("%s: close: %v\n", t.name(), err)
		}
		t.cluster().stopAll()
	}
}

// runAll runs the workloads --only chose, in the table's order.
func (b *bench) runAll(ctx context.Context) error {
	var ws []workload
	if b.o.only["lock"] {
		for _, c := range b.o.clients {
			ws = append(ws, uncontended(c, false))
		}
	}
	if b.o.only["raw"] {
		for _, c := range b.o.rawClients {
			ws = append(ws, uncontended(c, true))
		}
	}
	if b.o.only["contended"] {
		ws = append(ws, contended())
	}
	if b.o.only["leases"] {
		ws = append(ws, leaseCycle())
	}
	if b.o.only["keepalive"] {
		ws = append(ws, keepalives(b.o.kaLeases, b.o.kaTTL, b.printf))
	}
	for _, w := range ws {
		if err := b.runWorkload(ctx, w); err != nil {
			return fmt.Errorf("%s: %w", w.key, err)
		}
	}
	for _, t := range b.targets {
		b.recordRSS(t, "after the workloads")
	}
	if b.o.only["memory"] && b.o.heldLocks > 0 {
		for _, t := range b.targets {
			if err := b.holdLocks(ctx, t, b.o.heldLocks); err != nil {
				return err
			}
		}
	}
	if b.o.only["failover"] && b.o.kills > 0 {
		for _, t := range b.targets {
			res, err := failover(ctx, t, b.o.kills, b.printf)
			if err != nil {
				return fmt.Errorf("failover %s: %w", t.name(), err)
			}
			b.printf("%s failover: %s\n", t.name(), formatFailover(res))
			b.fails = append(b.fails, failoverRow{system: t.name(), res: res})
		}
	}
	return ctx.Err()
}

// runWorkload opens w's workers on every target, then alternates the
// targets run by run (the order flips every run so a drift in the machine's
// load hits both alike), a warm-up before each target's first run. A
// sequential workload runs one target at a time instead: open, warm-up,
// runs, after, close.
func (b *bench) runWorkload(ctx context.Context, w workload) error {
	r := row{key: w.key, unit: w.unit, sums: map[string]summary{}}
	if w.sequential {
		for _, t := range b.targets {
			if err := b.runTargets(ctx, w, []target{t}, &r); err != nil {
				return err
			}
		}
	} else if err := b.runTargets(ctx, w, b.targets, &r); err != nil {
		return err
	}
	b.rows = append(b.rows, r)
	return nil
}

// runTargets runs w's runs on targets, alternating, and adds the summaries
// and notes to r.
func (b *bench) runTargets(ctx context.Context, w workload, targets []target, r *row) error {
	workers := map[string][]worker{}
	var active []target
	defer func() {
		for _, t := range active {
			if err := closeWorkers(workers[t.name()]); err != nil {
				b.printf("%s %s: close: %v\n", t.name(), w.key, err)
			}
		}
	}()
	for _, t := range targets {
		ws, err := w.open(ctx, t)
		if errors.Is(err, errUnsupported) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: open: %w", t.name(), err)
		}
		workers[t.name()] = ws
		active = append(active, t)
	}
	scrapes := map[string]func() string{}
	for _, t := range active {
		scrapes[t.name()] = b.startScrape(ctx, t)
	}
	runs := map[string][]runResult{}
	for i := range b.o.runs {
		order := active
		if i%2 == 1 {
			order = reversed(active)
		}
		for _, t := range order {
			res := b.runOnce(ctx, w, t, workers[t.name()], i)
			if err := ctx.Err(); err != nil {
				return err
			}
			runs[t.name()] = append(runs[t.name()], res)
		}
	}
	for _, t := range active {
		if m := scrapes[t.name()](); m != "" {
			b.printf("%s %s leader metrics: %s\n", t.name(), w.key, m)
			r.notes = append(r.notes, t.name()+" leader metrics: "+m)
		}
		r.sums[t.name()] = summarize(runs[t.name()])
		if w.after != nil {
			note := w.after(ctx, t)
			b.printf("%s %s: %s\n", t.name(), w.key, note)
			r.notes = append(r.notes, t.name()+": "+note)
		}
	}
	return nil
}

// runOnce is run i of w on t (after a warm-up when i is 0), printed.
func (b *bench) runOnce(ctx context.Context, w workload, t target, ws []worker, i int) runResult {
	if i == 0 && b.o.warmup > 0 {
		measure(ctx, ws, b.o.warmup)
	}
	res := measure(ctx, ws, b.o.duration)
	b.printf("%-9s %-34s run %d/%d: %8.0f %s  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  errors %d  load %.1f\n",
		t.name(), w.key, i+1, b.o.runs, res.rate(), w.unit,
		ms(quantile(res.lat, 0.5)), ms(quantile(res.lat, 0.99)), ms(quantile(res.lat, 1)), res.errs, res.load)
	if res.firstErr != nil {
		b.printf("          first error: %v\n", res.firstErr)
	}
	return res
}

func reversed(ts []target) []target {
	out := make([]target, 0, len(ts))
	for i := len(ts) - 1; i >= 0; i-- {
		out = append(out, ts[i])
	}
	return out
}

// startScrape reads the leader's latency histograms now; the function it
// returns reads them again and returns the means in between ("" when the
// metrics could not be read).
func (b *bench) startScrape(ctx context.Context, t target) func() string {
	families := metricFamilies[t.name()]
	li, err := t.cluster().leader(ctx)
	if err != nil || len(families) == 0 {
		return func() string { return "" }
	}
	url := t.cluster().procs[li].clientURL + "/metrics"
	before, err := scrapeHist(ctx, url, families)
	if err != nil {
		return func() string { return "" }
	}
	return func() string {
		after, err := scrapeHist(ctx, url, families)
		if err != nil {
			return ""
		}
		return meansSince(before, after)
	}
}
