package lockmodel

// BenchmarkCheck measures Check on histories of the randomized test's shape
// (five clients, three locks, two elections, lost answers) at growing
// lengths, generated once before the timer starts.

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

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
	for _, perClient := range []int{50, 200, 1000} {
		h := benchHistory(randomClients, perClient, 1, false)
		b.Run(fmt.Sprintf("ops=%d", len(h)), func(b *testing.B) {
			for b.Loop() {
				res, _ := Check(h, 0)
				if !res.OK() {
					b.Fatalf("Check() = %v; want ok", res.Err())
				}
			}
		})
	}
}
