package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// monitor polls every node's GET /v1/cluster during the run: it keeps the
// highest commit index any node reported (which every log must hold at the
// end) and checks, from outside, that no two nodes claimed to lead the same
// term.
type monitor struct {
	c   *cluster
	api *api

	mu        sync.Mutex
	maxCommit uint64
	leaders   map[uint64]string // term -> the node that reported leading it
	f         finding
	polls     int
}

func newMonitor(c *cluster, a *api) *monitor {
	return &monitor{c: c, api: a, leaders: make(map[uint64]string)}
}

// run polls every MonitorInterval until stop closes or ctx ends.
func (m *monitor) run(ctx context.Context, stop <-chan struct{}) {
	ticker := time.NewTicker(MonitorInterval)
	defer ticker.Stop()
	for {
		m.poll(ctx)
		select {
		case <-ticker.C:
		case <-stop:
			return
		case <-ctx.Done():
			return
		}
	}
}

// poll asks every node once.
func (m *monitor) poll(ctx context.Context) {
	for _, nd := range m.c.nodes {
		cs, ok := m.api.status(ctx, nd)
		if !ok {
			continue
		}
		m.mu.Lock()
		m.polls++
		m.maxCommit = max(m.maxCommit, cs.CommitIndex)
		if cs.Role == "leader" {
			if other, ok := m.leaders[cs.Term]; ok && other != nd.name {
				m.f.addf("term %d: %s and %s both reported leading it", cs.Term, other, nd.name)
			}
			m.leaders[cs.Term] = nd.name
		}
		m.mu.Unlock()
	}
}

// highestCommit is the highest commit index any node reported.
func (m *monitor) highestCommit() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.maxCommit
}

// verdict is the election-safety verdict as seen from outside.
func (m *monitor) verdict() verdict {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.f.verdict("one_leader_per_term", fmt.Sprintf("%d status answers, %d terms with a leader seen", m.polls, len(m.leaders)))
}
