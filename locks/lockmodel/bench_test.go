package lockmodel

// BenchmarkCheck measures Check on histories of the randomized test's shape
// (five clients, three locks, two elections) at growing lengths, with lost
// requests and answers (about 6% of operations of unknown outcome) or
// without, generated once before the timer starts.

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

func benchHistory(clients, perClient int, seed uint64, reliable bool) []porcupine.Operation {
	srv := newReference()
	rec := NewRecorder()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() { // exits after perClient operations
			defer wg.Done()
			cl := &randomClient{id: c, srv: srv, rec: rec, rng: rand.New(rand.NewPCG(seed, uint64(c))), tokens: map[objectKey][]Token{}, reliable: reliable}
			for range perClient {
				cl.step()
			}
		}()
	}
	wg.Wait()
	h, err := rec.History()
	if err != nil {
		panic(err)
	}
	return h
}

func BenchmarkCheck(b *testing.B) {
	cases := []struct {
		perClient int
		reliable  bool
	}{
		{50, false}, {200, false}, {1000, false}, {1000, true}, {4000, true},
	}
	for _, c := range cases {
		h := benchHistory(randomClients, c.perClient, 1, c.reliable)
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
