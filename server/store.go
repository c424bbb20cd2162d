package server

import (
	"sync/atomic"
	"time"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/consensus/boltstore"
)

// StoreFileName is the name of the Raft log file inside the data dir.
const StoreFileName = "raft.db"

// countingStore is the node's boltstore with counters of the fsynced writes,
// so the group commit can be measured: saves per committed entry.
type countingStore struct {
	*boltstore.Store
	saves   atomic.Uint64
	entries atomic.Uint64
	// observe, when set before the driver runs, gets each Save's duration.
	observe func(time.Duration)
}

// Save implements driver.Store: one fsynced transaction per call.
func (s *countingStore) Save(hs consensus.HardState, ents []consensus.Entry) error {
	s.saves.Add(1)
	s.entries.Add(uint64(len(ents)))
	start := time.Now()
	err := s.Store.Save(hs, ents)
	if s.observe != nil {
		s.observe(time.Since(start))
	}
	return err
}

// StoreStats counts the node's durable writes since it started.
type StoreStats struct {
	// Saves is the number of fsynced transactions (one per Ready with work).
	Saves uint64
	// Entries is the number of log entries those transactions wrote.
	Entries uint64
}
