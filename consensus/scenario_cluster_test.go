package consensus

// This file is the cluster the scenario scripts drive: cores over
// MemoryStorage, every Ready carried out at once per the driver contract
// (persist, queue the messages, apply, Advance), one FIFO queue of messages
// in flight that only the script's commands deliver, directional cuts, and
// crashed nodes whose storage survives. It prints what happens as the
// script's output and watches two safety properties on the way (one leader
// per term, one entry applied per index), printing a SAFETY line when one
// breaks, so an unsafe run cannot be accepted by -update unnoticed.

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

const (
	// scenarioElectionTicks and scenarioHeartbeatTicks are the default timers.
	scenarioElectionTicks  = 10
	scenarioHeartbeatTicks = 1
	// scenarioDeliveriesMax bounds the messages one stabilize delivers, so a
	// livelock fails the script instead of hanging it.
	scenarioDeliveriesMax = 1 << 16
	// scenarioReadysMax bounds the Readys one node hands out in a row.
	scenarioReadysMax = 1 << 10
	// scenarioLogBytesMax lets a log line read a whole log at once.
	scenarioLogBytesMax = 1 << 62
)

// scenarioConfig is what the nodes command sets for every node.
type scenarioConfig struct {
	electionTicks  int
	heartbeatTicks int
	seed           uint64
	maxMsgBytes    uint64
	maxInflight    int
	// The core's test-only bugs (Config.testSkip...).
	skipCurrentTermCommit bool
	skipUpToDateCheck     bool
}

// scenarioCluster is the cluster one script runs, with the output of the
// command being run.
type scenarioCluster struct {
	cfg    scenarioConfig
	ids    []NodeID
	nodes  map[NodeID]*Raft // nil while crashed
	stores map[NodeID]*MemoryStorage
	// shown is each node's state as last printed.
	shown map[NodeID]scenarioState
	queue []Message
	// cut holds the directed links that lose every message.
	cut map[[2]NodeID]bool
	// counts tallies delivered (and dropped) messages for the counts command.
	counts map[string]int
	// appliedTerm is the term of the entry first applied at each index, by
	// any node; leaderOf is the first leader seen in each term.
	appliedTerm map[Index]Term
	appliedBy   map[Index]NodeID
	leaderOf    map[Term]NodeID

	out []string
	// prefix starts every state line: two spaces, or the round of a run.
	prefix string
	// quiet leaves out the message lines of deliveries.
	quiet bool
}

// newScenarioCluster starts fresh nodes ids with cfg.
func newScenarioCluster(ids []NodeID, cfg scenarioConfig) (*scenarioCluster, error) {
	c := &scenarioCluster{
		cfg:         cfg,
		ids:         ids,
		nodes:       make(map[NodeID]*Raft, len(ids)),
		stores:      make(map[NodeID]*MemoryStorage, len(ids)),
		shown:       make(map[NodeID]scenarioState, len(ids)),
		cut:         make(map[[2]NodeID]bool),
		counts:      make(map[string]int),
		appliedTerm: make(map[Index]Term),
		appliedBy:   make(map[Index]NodeID),
		leaderOf:    make(map[Term]NodeID),
		prefix:      "  ",
	}
	for _, id := range ids {
		c.stores[id] = NewMemoryStorage()
		if err := c.start(id); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// start (re)starts node id from its storage. The state the new core starts
// in is recorded as shown: a restart prints nothing by itself.
func (c *scenarioCluster) start(id NodeID) error {
	cfg := Config{
		ID:                        id,
		Voters:                    c.ids,
		Storage:                   c.stores[id],
		ElectionTicks:             c.cfg.electionTicks,
		HeartbeatTicks:            c.cfg.heartbeatTicks,
		Rand:                      rand.New(rand.NewPCG(uint64(id), c.cfg.seed)),
		MaxMsgBytes:               c.cfg.maxMsgBytes,
		MaxInflightMsgs:           c.cfg.maxInflight,
		testSkipCurrentTermCommit: c.cfg.skipCurrentTermCommit,
		testSkipUpToDateCheck:     c.cfg.skipUpToDateCheck,
	}
	r, err := New(cfg)
	if err != nil {
		return fmt.Errorf("New(node %d) = %w", id, err)
	}
	c.nodes[id] = r
	c.shown[id], err = stateOf(r)
	return err
}

// node returns the live node id, or an error naming it.
func (c *scenarioCluster) node(id NodeID) (*Raft, error) {
	r, ok := c.nodes[id]
	switch {
	case !ok:
		return nil, fmt.Errorf("node %d is not in the cluster %v", id, c.ids)
	case r == nil:
		return nil, fmt.Errorf("node %d is crashed", id)
	}
	return r, nil
}

// printf adds a line to the command's output.
func (c *scenarioCluster) printf(format string, args ...any) {
	c.out = append(c.out, fmt.Sprintf(format, args...))
}

// note adds a line about node id, after the current prefix.
func (c *scenarioCluster) note(id NodeID, format string, args ...any) {
	c.out = append(c.out, c.prefix+fmt.Sprintf("%d: ", id)+fmt.Sprintf(format, args...))
}

// settle carries out node id's Readys until it has none, then prints its
// state if it changed.
func (c *scenarioCluster) settle(id NodeID) error {
	r := c.nodes[id]
	for n := 0; r.HasReady(); n++ {
		if n == scenarioReadysMax {
			return fmt.Errorf("node %d: HasReady() still true after %d Readys", id, n)
		}
		rd := r.Ready()
		st := c.stores[id]
		if !rd.HardState.IsEmpty() {
			st.SetHardState(rd.HardState)
		}
		if err := st.Append(rd.Entries); err != nil {
			return fmt.Errorf("node %d: Append = %w", id, err)
		}
		c.queue = append(c.queue, rd.Messages...)
		for _, rs := range rd.ReadStates {
			c.note(id, "read ctx=%s index=%d", formatContext(rs.RequestCtx), rs.Index)
		}
		for _, e := range rd.CommittedEntries {
			c.checkApplied(id, e)
		}
		r.Advance(rd)
	}
	return c.showState(id)
}

// showState prints node id's state line if it changed since last shown.
func (c *scenarioCluster) showState(id NodeID) error {
	now, err := stateOf(c.nodes[id])
	if err != nil || now == c.shown[id] {
		return err
	}
	c.shown[id] = now
	c.note(id, "%s", now)
	if now.role != RoleLeader {
		return nil
	}
	if prev, ok := c.leaderOf[now.term]; ok && prev != id {
		c.note(id, "SAFETY: second leader of term %d, after node %d", now.term, prev)
		return nil
	}
	c.leaderOf[now.term] = id
	return nil
}

// checkApplied records that node id applied e and prints a SAFETY line when
// another node applied a different entry at that index (State Machine Safety).
func (c *scenarioCluster) checkApplied(id NodeID, e Entry) {
	t, ok := c.appliedTerm[e.Index]
	if !ok {
		c.appliedTerm[e.Index] = e.Term
		c.appliedBy[e.Index] = id
		return
	}
	if t != e.Term {
		c.note(id, "SAFETY: applied %d/%d, node %d applied %d/%d", e.Index, e.Term, c.appliedBy[e.Index], e.Index, t)
	}
}

// tick ticks node id once and settles it.
func (c *scenarioCluster) tick(id NodeID) error {
	r, err := c.node(id)
	if err != nil {
		return err
	}
	r.Tick()
	return c.settle(id)
}

// deliver hands m to its recipient (or drops it on a cut link or at a
// crashed node) and settles the recipient.
func (c *scenarioCluster) deliver(m Message) error {
	r := c.nodes[m.To]
	if c.cut[[2]NodeID{m.From, m.To}] || r == nil {
		c.counts["dropped"]++
		if !c.quiet {
			c.printf("%s (dropped)", formatMessage(m))
		}
		return nil
	}
	key := m.Type.String()
	if m.Reject {
		key += "(reject)"
	}
	c.counts[key]++
	if !c.quiet {
		c.printf("%s", formatMessage(m))
	}
	if err := r.Step(m); err != nil {
		c.note(m.To, "step error: %v", err)
	}
	return c.settle(m.To)
}

// deliverMatching delivers, in order, every message now in flight that
// match accepts; the others, and the messages the deliveries cause, stay
// in flight.
func (c *scenarioCluster) deliverMatching(match func(Message) bool) error {
	pending := c.queue
	c.queue = nil
	var keep []Message
	for _, m := range pending {
		if !match(m) {
			keep = append(keep, m)
			continue
		}
		if err := c.deliver(m); err != nil {
			return err
		}
	}
	c.queue = append(keep, c.queue...)
	return nil
}

// stabilize delivers messages until none is in flight.
func (c *scenarioCluster) stabilize() error {
	for steps := 0; len(c.queue) > 0; steps++ {
		if steps == scenarioDeliveriesMax {
			return fmt.Errorf("still delivering after %d messages", steps)
		}
		m := c.queue[0]
		c.queue = c.queue[1:]
		if err := c.deliver(m); err != nil {
			return err
		}
	}
	return nil
}

// formatCounts prints the counts since the last call, sorted, and resets them.
func (c *scenarioCluster) formatCounts() string {
	keys := make([]string, 0, len(c.counts))
	for k := range c.counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, c.counts[k]))
	}
	clear(c.counts)
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// logLine prints node id's whole log (entries in runs) with its commit
// index; a crashed node's log and commit are read from its storage.
func (c *scenarioCluster) logLine(id NodeID) (string, error) {
	r, ok := c.nodes[id]
	if !ok {
		return "", fmt.Errorf("node %d is not in the cluster %v", id, c.ids)
	}
	if r == nil {
		st := c.stores[id]
		hs, err := st.InitialState()
		if err != nil {
			return "", fmt.Errorf("node %d: hard state: %w", id, err)
		}
		last, err := st.LastIndex()
		if err != nil {
			return "", fmt.Errorf("node %d: last index: %w", id, err)
		}
		var ents []Entry
		if last > 0 {
			if ents, err = st.Entries(1, last+1, scenarioLogBytesMax); err != nil {
				return "", fmt.Errorf("node %d: stored log: %w", id, err)
			}
		}
		return fmt.Sprintf("%d: (crashed) commit=%d [%s]", id, hs.Commit, formatEntries(ents)), nil
	}
	l := r.log
	ents, err := l.slice(1, l.lastIndex()+1, scenarioLogBytesMax)
	if err != nil {
		return "", fmt.Errorf("node %d: log: %w", id, err)
	}
	return fmt.Sprintf("%d: commit=%d [%s]", id, l.committed, formatEntries(ents)), nil
}
