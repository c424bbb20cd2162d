package boltstore

// Benchmarks for the numbers issue 4 reports: the cost of one durable Save
// (fsync included) with 1 and with 64 entries of 100 bytes, the raw fsync
// latency of the disk under t.TempDir, the cost of verifying a large log at
// Open, and the hot-path reads (Term, Entries).
//
//	go test ./consensus/boltstore -run '^$' -bench . -benchtime 2s
//	go test ./consensus/boltstore -run '^$' -bench OpenVerify -verify.entries 1000000

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

var verifyEntries = flag.Int("verify.entries", 100_000, "entries in the log BenchmarkOpenVerify opens")

const benchDataBytes = 100

func BenchmarkSave(b *testing.B) {
	for _, n := range []int{1, 64} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			s := openStore(b, testPath(b), Options{})
			mustSave(b, s, consensus.HardState{Term: 1}, nil)
			next := consensus.Index(1)
			batch := makeEntriesSized(1, consensus.Index(n), 1, benchDataBytes)
			b.SetBytes(int64(n * benchDataBytes))
			b.ResetTimer()
			for range b.N {
				for k := range batch {
					batch[k].Index = next + consensus.Index(k)
				}
				next += consensus.Index(n)
				if err := s.Save(consensus.HardState{Term: 1, Commit: next - 1}, batch); err != nil {
					b.Fatalf("Save() = %v", err)
				}
			}
			b.StopTimer()
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/secs, "saves/s")
			b.ReportMetric(float64(b.N*n)/secs, "entries/s")
			b.ReportMetric(1/float64(n), "commits/entry")
		})
	}
}

// BenchmarkFsync measures the disk: write 100 bytes at the end of a file and
// fdatasync it, as bbolt does twice per commit (pages, then meta page).
func BenchmarkFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "fsync"))
	if err != nil {
		b.Fatalf("Create() = %v", err)
	}
	defer func() {
		if err := f.Close(); err != nil {
			b.Errorf("Close() = %v", err)
		}
	}()
	buf := make([]byte, benchDataBytes)
	b.ResetTimer()
	for range b.N {
		if _, err := f.Write(buf); err != nil {
			b.Fatalf("Write() = %v", err)
		}
		if err := f.Sync(); err != nil {
			b.Fatalf("Sync() = %v", err)
		}
	}
}

func BenchmarkOpenVerify(b *testing.B) {
	path := testPath(b)
	s, err := Open(path, Options{noSync: true})
	if err != nil {
		b.Fatalf("Open() = %v", err)
	}
	const batch = 10_000
	last := consensus.Index(*verifyEntries)
	mustSave(b, s, consensus.HardState{Term: 1}, nil)
	for lo := consensus.Index(1); lo <= last; lo += batch {
		mustSave(b, s, consensus.HardState{}, makeEntriesSized(lo, min(lo+batch-1, last), 1, benchDataBytes))
	}
	if err := s.Close(); err != nil {
		b.Fatalf("Close() = %v", err)
	}
	b.ResetTimer()
	for range b.N {
		s, err := Open(path, Options{})
		if err != nil {
			b.Fatalf("Open() = %v", err)
		}
		if err := s.Close(); err != nil {
			b.Fatalf("Close() = %v", err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(*verifyEntries)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

func benchStore(b *testing.B, n consensus.Index) *Store {
	s := openStore(b, testPath(b), Options{noSync: true})
	mustSave(b, s, consensus.HardState{Term: 9}, nil)
	for t := consensus.Term(1); t <= 8; t++ {
		lo := n * consensus.Index(t-1) / 8
		mustSave(b, s, consensus.HardState{}, makeEntriesSized(lo+1, n*consensus.Index(t)/8, t, benchDataBytes))
	}
	return s
}

func BenchmarkTerm(b *testing.B) {
	s := benchStore(b, 10_000)
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.Term(consensus.Index(i%10_000 + 1)); err != nil {
			b.Fatalf("Term() = %v", err)
		}
	}
}

func BenchmarkEntries(b *testing.B) {
	for _, from := range []string{"cache", "disk"} {
		for _, n := range []consensus.Index{1, 64} {
			b.Run(fmt.Sprintf("from=%s/entries=%d", from, n), func(b *testing.B) {
				s := benchStore(b, 10_000)
				var st consensus.Storage = s
				if from == "disk" {
					st = diskOnly{s}
				}
				b.ResetTimer()
				for i := range b.N {
					lo := consensus.Index(i%9_000 + 1)
					if _, err := st.Entries(lo, lo+n, noLimit); err != nil {
						b.Fatalf("Entries() = %v", err)
					}
				}
			})
		}
	}
}
