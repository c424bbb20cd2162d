package consensus

// Benchmarks of the core alone (no disk, no network): how many entries per
// second three in-memory cores commit, and what a proposal costs a leader.
// Run: go test -run '^$' -bench . -benchmem ./consensus

import (
	"runtime"
	"testing"
)

// benchBatch is how many proposals a benchmark makes between Readys, like a
// driver that batches the proposals arriving during one persist.
const benchBatch = 64

func BenchmarkCommit3(b *testing.B) {
	for _, size := range []int{16, 256} {
		b.Run(byteSize(size), func(b *testing.B) {
			nw := newCoreNet(b, 3)
			nw.elect(1)
			leader := nw.nodes[1]
			data := make([]byte, size)
			start := leader.Status().Commit
			b.ReportAllocs()
			mallocs := benchMallocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := leader.Propose(data); err != nil {
					b.Fatalf("Propose = %v; want nil", err)
				}
				if (i+1)%benchBatch == 0 || i == b.N-1 {
					nw.stabilize()
					// Everyone is caught up: compact, so the benchmark
					// measures the cores rather than a growing in-memory log.
					for _, id := range nw.ids {
						nw.applied[id] = nw.applied[id][:0]
						benchCompact(b, nw.stores[id], nw.nodes[id].Status().Applied)
					}
				}
			}
			b.StopTimer()
			if got, want := leader.Status().Commit, start+Index(b.N); got != want {
				b.Fatalf("Commit = %d; want %d", got, want)
			}
			b.ReportMetric(float64(benchMallocs()-mallocs)/float64(b.N), "allocs/entry")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

func BenchmarkPropose(b *testing.B) {
	st := NewMemoryStorage()
	r, err := New(coreConfig(1, []NodeID{1}, st))
	if err != nil {
		b.Fatalf("New = %v; want nil", err)
	}
	handle := func() {
		rd := r.Ready()
		if !rd.HardState.IsEmpty() {
			st.SetHardState(rd.HardState)
		}
		if err := st.Append(rd.Entries); err != nil {
			b.Fatalf("Append = %v; want nil", err)
		}
		r.Advance(rd)
	}
	for r.Status().Role != RoleLeader {
		r.Tick()
	}
	for r.HasReady() {
		handle()
	}
	data := make([]byte, 128)
	b.ReportAllocs()
	mallocs := benchMallocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := r.Propose(data); err != nil {
			b.Fatalf("Propose = %v; want nil", err)
		}
		if (i+1)%benchBatch == 0 || i == b.N-1 {
			for r.HasReady() {
				handle()
			}
			benchCompact(b, st, r.Status().Applied)
		}
	}
	b.StopTimer()
	if got := r.Status().Commit; got != Index(b.N)+1 {
		b.Fatalf("Commit = %d; want %d", got, b.N+1)
	}
	b.ReportMetric(float64(benchMallocs()-mallocs)/float64(b.N), "allocs/entry")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// benchMallocs returns the heap allocations made so far. The integer
// allocs/op rounds a fraction below one to zero; allocs/entry keeps it.
func benchMallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// benchCompact drops the stored entries up to applied.
func benchCompact(b *testing.B, st *MemoryStorage, applied Index) {
	if err := st.Compact(applied); err != nil {
		b.Fatalf("Compact(%d) = %v; want nil", applied, err)
	}
}

// byteSize names a payload size for a sub-benchmark.
func byteSize(n int) string {
	switch {
	case n >= 1<<10:
		return itoa(n>>10) + "KiB"
	default:
		return itoa(n) + "B"
	}
}

// itoa formats n (>= 0) in decimal.
func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var buf [20]byte
	i := len(buf)
	for ; n > 0; n /= 10 {
		i--
		buf[i] = byte('0' + n%10)
	}
	return string(buf[i:])
}
