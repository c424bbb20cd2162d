package main

import (
	"sync"

	"github.com/raftlock/raftlock/locks/lockmodel"
)

// write is one write to the fenced resource.
type write struct {
	Lock   string          `json:"lock"`
	Client int             `json:"client"`
	Token  lockmodel.Token `json:"token"`
	// At is the history clock when the store decided.
	At int64 `json:"at"`
	// Fenced is false for a write that skipped the token check (only the
	// deliberately broken client of --bug=unfenced does that).
	Fenced   bool `json:"fenced"`
	Accepted bool `json:"accepted"`
}

// fencedStore is the shared resource the lock protects: per lock, it accepts
// a fenced write only with a token at least the highest it has seen. It
// keeps every write for the verdict, which re-derives the rule from the
// writes rather than trusting the store.
type fencedStore struct {
	clock func() int64

	mu      sync.Mutex
	highest map[string]lockmodel.Token
	writes  []write
	dropped int
}

func newFencedStore(clock func() int64) *fencedStore {
	return &fencedStore{clock: clock, highest: make(map[string]lockmodel.Token)}
}

// write asks the store to accept a write to lock by client with token;
// fenced=false skips the check (a client without fencing).
func (s *fencedStore) write(client int, lock string, token lockmodel.Token, fenced bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	accepted := !fenced || token >= s.highest[lock]
	if accepted && token > s.highest[lock] {
		s.highest[lock] = token
	}
	if len(s.writes) >= WritesMax {
		s.dropped++
		return accepted
	}
	s.writes = append(s.writes, write{Lock: lock, Client: client, Token: token, At: s.clock(), Fenced: fenced, Accepted: accepted})
	return accepted
}

// all returns the writes kept and how many were dropped past WritesMax.
func (s *fencedStore) all() ([]write, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]write(nil), s.writes...), s.dropped
}
