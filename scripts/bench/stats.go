package main

import (
	"fmt"
	"slices"
	"time"
)

// runResult is one measured run of one workload on one system.
type runResult struct {
	ops     int
	errs    int
	elapsed time.Duration
	// lat is sorted ascending; it holds up to samplesMax per client.
	lat []time.Duration
	// load is the 1-minute load average when the run started.
	load float64
	// firstErr is the first error seen, for the log.
	firstErr error
}

// rate is ops per second.
func (r runResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ops) / r.elapsed.Seconds()
}

// quantile returns the q-quantile (0 <= q <= 1) of sorted by the nearest
// rank method; 0 for no samples.
func quantile(sorted []time.Duration, q float64) time.Duration {
	assertf(q >= 0 && q <= 1, "quantile %v outside [0, 1]", q)
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted))+0.999999999) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

// spread is the median of a figure over runs with its min and max.
type spread struct {
	med, lo, hi float64
}

// spreadOf summarizes values (one per run).
func spreadOf(values []float64) spread {
	if len(values) == 0 {
		return spread{}
	}
	s := slices.Clone(values)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return spread{med: med, lo: s[0], hi: s[len(s)-1]}
}

// summary is a workload's figures on one system over its runs.
type summary struct {
	rate, p50, p99, max spread // p50, p99 and max in milliseconds
	errs                int
	load                spread
}

// summarize turns runs into medians with min–max.
func summarize(runs []runResult) summary {
	var rate, p50, p99, mx, load []float64
	var s summary
	for _, r := range runs {
		rate = append(rate, r.rate())
		p50 = append(p50, ms(quantile(r.lat, 0.50)))
		p99 = append(p99, ms(quantile(r.lat, 0.99)))
		mx = append(mx, ms(quantile(r.lat, 1)))
		load = append(load, r.load)
		s.errs += r.errs
	}
	s.rate, s.p50, s.p99, s.max, s.load = spreadOf(rate), spreadOf(p50), spreadOf(p99), spreadOf(mx), spreadOf(load)
	return s
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// format prints a spread as "med (lo–hi)" with prec decimals.
func (s spread) format(prec int) string {
	return fmt.Sprintf("%.*f (%.*f–%.*f)", prec, s.med, prec, s.lo, prec, s.hi)
}

// ratio is a/b formatted, or "-" when b is 0.
func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}
