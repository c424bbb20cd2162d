package main

import (
	"fmt"
	"strings"
)

// report prints the machine facts and the table: per workload, each
// system's median (min–max over runs) of rate, p50, p99 and max latency,
// its errors, and raftlock/etcd for rate and p99.
func (b *bench) report() {
	b.printf("\n## Results\n\n")
	if b.o.rev != "" {
		b.printf("raftlock revision: %s\n", b.o.rev)
	}
	b.printf("%s\n", b.machine)
	b.printf("runs: %d x %v after a %v warm-up, medians with (min–max); latencies in ms of one op (acquire+release, create+revoke, one keepalive)\n\n",
		b.o.runs, b.o.duration, b.o.warmup)
	b.table()
	if len(b.fails) > 0 {
		b.printf("\n\nfailover (%d clients, leader SIGKILLed, restarted after everyone completed a pair):\n", failoverClients)
	}
	for _, f := range b.fails {
		b.printf("- %s: %s\n", f.system, formatFailover(f.res))
	}
	b.printf("\nRSS per node (/proc/PID/status VmRSS):\n")
	for _, m := range b.mem {
		var parts []string
		for _, v := range m.rss {
			parts = append(parts, fmt.Sprintf("%.1f", mib(v)))
		}
		b.printf("- %s, %s: %s MiB\n", m.system, m.when, strings.Join(parts, " / "))
	}
}

// table prints one row per workload run, nothing when none ran.
func (b *bench) table() {
	if len(b.rows) == 0 {
		return
	}
	names := b.targetNames()
	head := []string{"workload", "unit"}
	for _, n := range names {
		head = append(head, n+" rate", n+" p50", n+" p99", n+" max", n+" errs", n+" load")
	}
	if len(names) == 2 {
		head = append(head, "rate ratio", "p99 ratio")
	}
	b.printf("| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for _, r := range b.rows {
		cells := []string{r.key, r.unit}
		for _, n := range names {
			s, ok := r.sums[n]
			if !ok {
				cells = append(cells, "-", "-", "-", "-", "-", "-")
				continue
			}
			cells = append(cells, s.rate.format(0), s.p50.format(1), s.p99.format(1), s.max.format(0), fmt.Sprint(s.errs), fmt.Sprintf("%.1f", s.load.med))
		}
		if len(names) == 2 {
			a, okA := r.sums[names[0]]
			e, okE := r.sums[names[1]]
			if okA && okE {
				cells = append(cells, ratio(a.rate.med, e.rate.med), ratio(a.p99.med, e.p99.med))
			} else {
				cells = append(cells, "-", "-")
			}
		}
		b.printf("| %s |\n", strings.Join(cells, " | "))
	}
	for _, r := range b.rows {
		for _, n := range r.notes {
			b.printf("\n%s: %s", r.key, n)
		}
	}
}

func (b *bench) targetNames() []string {
	var out []string
	for _, t := range b.targets {
		out = append(out, t.name())
	}
	return out
}
