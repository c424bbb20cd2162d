package locks

import (
	"bytes"
	"flag"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Benchmarks of the numbers issue 5 asks for: Apply throughput of
// acquire+release, heap per held lock at 1,000,000 locks, and snapshot and
// restore time at 1,000,000 locks. The 1M-lock ones run only with
// -locks.big (they take seconds and a few hundred MiB):
//
//	go test -run XXX -bench ApplyAcquireRelease -benchmem ./locks
//	go test -run XXX -bench 'HeldLock|SnapshotRestore' -benchtime 2x -locks.big ./locks

var (
	benchBig  = flag.Bool("locks.big", false, "run the 1,000,000-lock benchmarks")
	benchSize = flag.Int("locks.n", 1_000_000, "locks in the big benchmarks")
)

func BenchmarkApplyAcquireRelease(b *testing.B) {
	tbl := NewTable()
	h := newHandle()
	enc := func(c Command) []byte {
		data, err := encodeCommand(h, &c)
		if err != nil {
			b.Fatal(err)
		}
		return data
	}
	tbl.Apply(1, enc(Command{Kind: KindCreateLease, TTL: TTLMax, Time: 1}))
	acquire := enc(Command{Kind: KindAcquire, Name: "bench/lock", LeaseID: 1, Owner: "worker-1", Time: 1})
	releases := make([][]byte, b.N)
	for i := range releases {
		releases[i] = enc(Command{Kind: KindRelease, Name: "bench/lock", Token: Token(2 + 2*i), Time: 1})
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	defer func() { b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op") }()
	idx := Index(1)
	for i := 0; i < b.N; i++ {
		idx++
		if r := tbl.Apply(idx, acquire); r.Err != nil {
			b.Fatal(r.Err)
		}
		idx++
		if r := tbl.Apply(idx, releases[i]); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}

// bigTable applies n acquires: with perLease > 0 on leases holding perLease
// locks each, else each on a lease of its own (acquire without lease id).
func bigTable(tb testing.TB, n, perLease int) *Table {
	tb.Helper()
	tbl := NewTable()
	h := newHandle()
	var idx Index
	var lease LeaseID
	for i := 0; i < n; i++ {
		c := Command{Kind: KindAcquire, Name: "jobs/worker-" + strconv.Itoa(i), Owner: "host-" + strconv.Itoa(i%100), Time: int64(time.Second)}
		if perLease > 0 {
			if i%perLease == 0 {
				idx++
				data, _ := encodeCommand(h, &Command{Kind: KindCreateLease, TTL: TTLMax})
				lease = tbl.Apply(idx, data).LeaseID
			}
			c.LeaseID = lease
		}
		data, err := encodeCommand(h, &c)
		if err != nil {
			tb.Fatal(err)
		}
		idx++
		if r := tbl.Apply(idx, data); r.Err != nil {
			tb.Fatal(r.Err)
		}
	}
	return tbl
}

// cpuTime returns the process's user+system CPU time: on a shared, loaded
// machine it is a steadier cost than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func BenchmarkHeldLockMemory(b *testing.B) {
	if !*benchBig {
		b.Skip("needs -locks.big")
	}
	for _, bc := range []struct {
		name     string
		perLease int
	}{{"lease-per-lock", 0}, {"1000-locks-per-lease", 1000}} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				before := heapInUse()
				tbl := bigTable(b, *benchSize, bc.perLease)
				after := heapInUse()
				b.ReportMetric(float64(after-before)/float64(*benchSize), "bytes/lock")
				runtime.KeepAlive(tbl)
			}
		})
	}
}

// BenchmarkSnapshotRestore builds one table of 1,000,000 held locks, each
// with a lease of its own, and times Snapshot and Restore of it.
func BenchmarkSnapshotRestore(b *testing.B) {
	if !*benchBig {
		b.Skip("needs -locks.big")
	}
	tbl := bigTable(b, *benchSize, 0)
	var buf bytes.Buffer
	b.Run("snapshot", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for i := 0; i < b.N; i++ {
			buf.Reset()
			if err := tbl.Snapshot(&buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(buf.Len()), "bytes")
	})
	data := append([]byte(nil), buf.Bytes()...)
	b.Run("restore", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for i := 0; i < b.N; i++ {
			if err := NewTable().Restore(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	})
}
