package consensus

// This file holds the simulator's network: a priority queue of deliveries keyed
// by virtual time, fed by a seeded source that decides for every message whether
// it is lost, how long it travels (so messages overtake each other) and whether
// a copy arrives twice, and a link matrix that partitions the nodes in any shape.

import (
	"math/rand/v2"
)

// simTime is the simulator's virtual time, in units of 1/simUnitsPerTick of a tick.
type simTime int64

// simUnitsPerTick is how many simTime units one tick lasts; message delays are
// drawn in units, so most messages arrive within a tick, as on a real network
// where a tick is a heartbeat interval.
const simUnitsPerTick simTime = 10

// netWeather is the quality of the simulated network.
type netWeather struct {
	name string
	// dropPct is the percentage of messages lost.
	dropPct int
	// dupPct is the percentage of messages delivered twice.
	dupPct int
	// delayMin and delayMax bound a message's ordinary travel time.
	delayMin, delayMax simTime
	// slowPct is the percentage of messages delayed up to slowMax instead,
	// which reorders them behind later ones.
	slowPct int
	slowMax simTime
}

// weatherKind names one of the network qualities a run switches between.
type weatherKind uint8

const (
	weatherCalm weatherKind = iota
	weatherLossy
	weatherChaotic
	weatherKinds // the number of kinds
)

// params returns the network quality of kind k.
func (k weatherKind) params() netWeather {
	switch k {
	case weatherLossy:
		return netWeather{name: "lossy", dropPct: 10, dupPct: 5, delayMin: 1, delayMax: 10,
			slowPct: 5, slowMax: 4 * simUnitsPerTick}
	case weatherChaotic:
		return netWeather{name: "chaotic", dropPct: 30, dupPct: 15, delayMin: 1, delayMax: 20,
			slowPct: 15, slowMax: 15 * simUnitsPerTick}
	}
	return netWeather{name: "calm", delayMin: 1, delayMax: 4}
}

// netStats counts what the network did with the messages it was given.
type netStats struct {
	sent, delivered, dropped, cut, duplicated int
}

// simnet is the simulated network between n nodes with ids 1..n.
type simnet struct {
	rng     *rand.Rand
	n       int
	weather netWeather
	// cut[from-1][to-1] is true while messages from -> to are lost.
	cut   [][]bool
	queue timedQueue[Message]
	stats netStats
}

func newSimnet(rng *rand.Rand, n int) *simnet {
	return &simnet{rng: rng, n: n, weather: weatherCalm.params(), cut: newLinkMatrix(n)}
}

// linked reports whether messages from -> to currently get through.
func (nw *simnet) linked(from, to NodeID) bool { return !nw.cut[from-1][to-1] }

// heal reconnects every link.
func (nw *simnet) heal() {
	for i := range nw.cut {
		clear(nw.cut[i])
	}
}

// isolate cuts every link between nodes in different groups; group[i] is the
// group of node i+1.
func (nw *simnet) isolate(group []int) {
	for i := range nw.cut {
		for j := range nw.cut[i] {
			nw.cut[i][j] = group[i] != group[j]
		}
	}
}

// send hands m to the network at time now. It returns false when the link is
// cut, so the sender can be told the peer is unreachable; a message lost to bad
// weather is lost silently, as on a real network.
func (nw *simnet) send(m Message, now simTime) bool {
	nw.stats.sent++
	if !nw.linked(m.From, m.To) {
		nw.stats.cut++
		return false
	}
	w := nw.weather
	if w.dropPct > 0 && nw.rng.IntN(100) < w.dropPct {
		nw.stats.dropped++
		return true
	}
	m = cloneMessage(m)
	nw.enqueue(m, now)
	if w.dupPct > 0 && nw.rng.IntN(100) < w.dupPct {
		nw.stats.duplicated++
		nw.enqueue(m, now)
	}
	return true
}

func (nw *simnet) enqueue(m Message, now simTime) {
	w := nw.weather
	delay := w.delayMin + simTime(nw.rng.Int64N(int64(w.delayMax-w.delayMin)+1))
	if w.slowPct > 0 && nw.rng.IntN(100) < w.slowPct {
		delay = w.delayMin + simTime(nw.rng.Int64N(int64(w.slowMax-w.delayMin)+1))
	}
	nw.queue.push(now+delay, m)
}

// next reports the time of the earliest pending delivery.
func (nw *simnet) next() (simTime, bool) { return nw.queue.peek() }

// deliver removes the earliest delivery; ok is false when its link was cut
// while it travelled (the message is then lost).
func (nw *simnet) deliver() (m Message, ok bool) {
	d := nw.queue.pop()
	if !nw.linked(d.v.From, d.v.To) {
		nw.stats.cut++
		return d.v, false
	}
	nw.stats.delivered++
	return d.v, true
}

// cloneMessage copies what a real transport would serialize, so that a message
// in flight never shares the Entries array or Context with the core that sent it.
func cloneMessage(m Message) Message {
	if m.Entries != nil {
		m.Entries = append([]Entry(nil), m.Entries...)
	}
	if m.Context != nil {
		m.Context = append([]byte(nil), m.Context...)
	}
	return m
}
