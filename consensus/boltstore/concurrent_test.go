package boltstore

// TestConcurrentReadersAndWriter proves, under -race, that readers on other
// goroutines (health, metrics, a transport sending a snapshot of the log)
// see a consistent log while the driver writes: every Entries answer is a
// contiguous run starting at the asked index whose terms never go down.

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

const (
	concurrentSaves   = 200
	concurrentReaders = 2
)

func TestConcurrentReadersAndWriter(t *testing.T) {
	s := openStore(t, testPath(t), Options{noSync: true})
	mustSave(t, s, consensus.HardState{Term: 1}, makeEntries(1, 5, 1))
	done := make(chan struct{})
	errs := make(chan error, concurrentReaders)
	var wg, reading sync.WaitGroup
	for r := range concurrentReaders {
		wg.Add(1)
		reading.Add(1)
		// Exits when done closes or at its first inconsistent read.
		go func() {
			defer wg.Done()
			var once sync.Once
			started := func() { once.Do(reading.Done) }
			defer started() // also when the reader fails before its first read
			errs <- readUntil(s, done, r, started)
		}()
	}
	// Saves are fast (a journal append, no fsync here): start them once
	// every reader is reading, so reads and writes overlap.
	reading.Wait()
	w := &raftShapedWriter{rng: newTestRand(7), hs: consensus.HardState{Term: 1}, last: 5, lastTerm: 1}
	for range concurrentSaves {
		hs, ents := w.next()
		mustSave(t, s, hs, ents)
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// readUntil reads the whole log over and over until done closes, calling
// started once its first read is done.
func readUntil(s *Store, done <-chan struct{}, reader int, started func()) error {
	for n := 0; ; n++ {
		if n == 1 {
			started()
		}
		select {
		case <-done:
			return nil
		default:
		}
		first, err := s.FirstIndex()
		if err != nil {
			return err
		}
		last, err := s.LastIndex()
		if err != nil {
			return err
		}
		ents, err := s.Entries(first, last+1, noLimit)
		if errors.Is(err, consensus.ErrUnavailable) {
			continue // A truncation between LastIndex and Entries.
		}
		if err != nil {
			return fmt.Errorf("reader %d: Entries(%d, %d) = %v", reader, first, last+1, err)
		}
		for k := range ents {
			if ents[k].Index != first+consensus.Index(k) {
				return fmt.Errorf("reader %d: entry %d at position %d of a read from %d", reader, ents[k].Index, k, first)
			}
			if k > 0 && ents[k].Term < ents[k-1].Term {
				return fmt.Errorf("reader %d: entry %d term %d below %d", reader, ents[k].Index, ents[k].Term, ents[k-1].Term)
			}
		}
	}
}
