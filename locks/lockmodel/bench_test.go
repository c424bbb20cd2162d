package lockmodel

// BenchmarkCheck measures Check on histories of the randomized test's shape
// (five clients, three locks, two elections) at growing lengths, with lost
// requests and answers (about 6% of operations of unknown outcome) or
// without, generated once before the timer starts.

import (
	"fmt"
	"testing"
	"time"
)

func BenchmarkCheck(b *testing.B) {
	cases := []struct {
		perClient int
		reliable  bool
	}{
		{50, false}, {200, false}, {1000, false}, {1000, true}, {4000, true},
	}
	for _, c := range cases {
		h, err := Drive(newReference(), DriveConfig{Seed: 1, Clients: randomClients, OpsPerClient: c.perClient, Lossless: c.reliable})
		if err != nil {
			b.Fatalf("Drive() error = %v; want nil", err)
		}
		b.Run(fmt.Sprintf("ops=%d/lossy=%t", len(h), !c.reliable), func(b *testing.B) {
			for b.Loop() {
				res, _ := Check(h, time.Minute)
				if !res.OK() {
					b.Fatalf("Check() = %v; want ok", res.Err())
				}
			}
		})
	}
}
