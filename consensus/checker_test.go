package consensus

// This file holds the simulator's safety checkers: the five properties of
// DESIGN.md §3.3, plus "a committed entry is durable on a quorum", "ReadIndex
// answers are linearizable" and "Propose's (index, term) promise holds". Each is
// a small type whose check sees the cluster after one simulator step and keeps
// whatever history it needs, so the properties are checked over the whole run,
// not only at one instant. checker_fabricated_test.go feeds each one a
// hand-built violation.

import (
	"bytes"
	"fmt"
	"slices"
)

// nodeView is one node as the checkers see it after a step.
type nodeView struct {
	id   NodeID
	up   bool
	role Role
	term Term
	// log is the node's durable log, index 1 first. The simulator drains every
	// Ready before a check, so a live node has no unstable entries then (the
	// Ready a crash interrupted is lost with the node, which is legal).
	// The slice is never modified after it is handed out.
	log []Entry
	// dirtyFrom is the lowest index written to log since the previous view; 0
	// when nothing was written. Entries below it are unchanged.
	dirtyFrom Index
}

// applyEvent is one entry a node applied, or marked committed on its disk.
type applyEvent struct {
	node NodeID
	// term is the node's term when it applied the entry (or persisted the
	// commit index): the entry was committed in this term or an earlier one.
	term  Term
	entry Entry
	// durable is true when the node did not apply the entry but persisted a
	// HardState.Commit that covers it, which is as good a proof of commitment
	// and comes earlier: a leader that dies inside the Ready that commits an
	// entry has it on disk as committed, though it never applied it.
	durable bool
}

func (a applyEvent) verb() string {
	if a.durable {
		return "committed"
	}
	return "applied"
}

// readEvent is one ReadState handed to a node's driver.
type readEvent struct {
	node NodeID
	rs   ReadState
}

// clusterView is what the checkers see after a step: every node, and the
// entries applied (or durably marked committed) and reads answered during the step.
type clusterView struct {
	nodes   []nodeView
	applied []applyEvent
	reads   []readEvent
	// won lists the nodes that announced their leadership during the step,
	// with their term and durable log: a node can win and crash before the
	// step ends. Their dirtyFrom is 0: only nodes says what was written.
	won []nodeView
}

// simChecker checks one property after every step.
type simChecker interface {
	name() string
	check(v *clusterView) error
}

// chkEntryAt returns log's entry at index i.
func chkEntryAt(log []Entry, i Index) (Entry, bool) {
	if i == 0 || i > Index(len(log)) {
		return Entry{}, false
	}
	return log[i-1], true
}

func chkTermAt(log []Entry, i Index) Term {
	e, _ := chkEntryAt(log, i)
	return e.Term
}

func chkSameEntry(a, b Entry) bool {
	return a.Index == b.Index && a.Term == b.Term && a.Type == b.Type && bytes.Equal(a.Data, b.Data)
}

func chkDescribe(e Entry) string {
	return fmt.Sprintf("{index %d term %d type %d data %q}", e.Index, e.Term, e.Type, e.Data)
}

// electionSafety: at most one leader per term, over the whole run.
type electionSafety struct {
	leaders map[Term]NodeID
}

func newElectionSafety() *electionSafety { return &electionSafety{leaders: make(map[Term]NodeID)} }

func (*electionSafety) name() string { return "election safety" }

func (c *electionSafety) check(v *clusterView) error {
	for _, nodes := range [2][]nodeView{v.won, v.nodes} {
		for _, n := range nodes {
			if !n.up || n.role != RoleLeader {
				continue
			}
			if prev, ok := c.leaders[n.term]; ok && prev != n.id {
				return fmt.Errorf("term %d has two leaders: node %d and node %d", n.term, prev, n.id)
			}
			c.leaders[n.term] = n.id
		}
	}
	return nil
}

// leaderAppendOnly: while a node leads a term, its log never loses or changes an entry.
type leaderAppendOnly struct {
	held map[NodeID]chkLeaderLog
}

type chkLeaderLog struct {
	term Term
	log  []Entry
}

func newLeaderAppendOnly() *leaderAppendOnly {
	return &leaderAppendOnly{held: make(map[NodeID]chkLeaderLog)}
}

func (*leaderAppendOnly) name() string { return "leader append-only" }

func (c *leaderAppendOnly) check(v *clusterView) error {
	for _, n := range v.nodes {
		if !n.up || n.role != RoleLeader {
			delete(c.held, n.id)
			continue
		}
		prev, ok := c.held[n.id]
		c.held[n.id] = chkLeaderLog{term: n.term, log: n.log}
		if !ok || prev.term != n.term {
			continue
		}
		if len(n.log) < len(prev.log) {
			return fmt.Errorf("leader %d of term %d: log shrank from %d to %d entries",
				n.id, n.term, len(prev.log), len(n.log))
		}
		if n.dirtyFrom == 0 {
			continue
		}
		for i := n.dirtyFrom; i <= Index(len(prev.log)); i++ {
			if old, cur := prev.log[i-1], n.log[i-1]; !chkSameEntry(old, cur) {
				return fmt.Errorf("leader %d of term %d: entry %d changed from %s to %s",
					n.id, n.term, i, chkDescribe(old), chkDescribe(cur))
			}
		}
	}
	return nil
}

// logMatching: two logs with an entry of the same index and term are identical
// up to it. It is checked through the induction that proves it: every entry with
// a given (index, term), in any log at any time, has the same content and the
// same term before it. That is stronger than comparing the logs of one instant
// (a leader creates at most one entry per index in its term), and costs O(1)
// per written entry.
type logMatching struct {
	seen map[chkIndexTerm]chkEntryPrint
}

type chkIndexTerm struct {
	index Index
	term  Term
}

type chkEntryPrint struct {
	node     NodeID
	prevTerm Term
	typ      EntryType
	data     []byte
}

func newLogMatching() *logMatching { return &logMatching{seen: make(map[chkIndexTerm]chkEntryPrint)} }

func (*logMatching) name() string { return "log matching" }

func (c *logMatching) check(v *clusterView) error {
	for _, n := range v.nodes {
		if n.dirtyFrom == 0 {
			continue
		}
		for i := n.dirtyFrom; i <= Index(len(n.log)); i++ {
			e := n.log[i-1]
			if e.Index != i {
				return fmt.Errorf("node %d: log position %d holds entry %s", n.id, i, chkDescribe(e))
			}
			p := chkEntryPrint{node: n.id, prevTerm: chkTermAt(n.log, i-1), typ: e.Type, data: e.Data}
			key := chkIndexTerm{index: i, term: e.Term}
			q, ok := c.seen[key]
			if !ok {
				c.seen[key] = p
				continue
			}
			if q.prevTerm != p.prevTerm {
				return fmt.Errorf("index %d term %d: node %d has term %d before it, node %d had term %d",
					i, e.Term, n.id, p.prevTerm, q.node, q.prevTerm)
			}
			if q.typ != p.typ || !bytes.Equal(q.data, p.data) {
				return fmt.Errorf("index %d term %d: node %d has (type %d, data %q), node %d had (type %d, data %q)",
					i, e.Term, n.id, p.typ, p.data, q.node, q.typ, q.data)
			}
		}
	}
	return nil
}

// leaderCompleteness: an entry committed in term T is in the log of every
// leader of a term > T. The term an entry was committed in is bounded from
// above by the term of any node applying it (a node learns the commit index
// from a leader of its own term, or from its own hard state); and an entry
// committed in T commits every entry before it by T. So each committed index
// carries bound = the least term of any node that applied it or a later index,
// and every leader of a term > bound must hold it.
type leaderCompleteness struct {
	// committed[i-1] is the entry committed at index i and its bound.
	committed []chkBoundedEntry
	// verified is, per leader, how many committed entries its log was found to hold.
	verified map[NodeID]chkVerified
}

type chkVerified struct {
	term Term
	upTo Index
}

type chkBoundedEntry struct {
	entry Entry
	bound Term
}

func newLeaderCompleteness() *leaderCompleteness {
	return &leaderCompleteness{verified: make(map[NodeID]chkVerified)}
}

func (*leaderCompleteness) name() string { return "leader completeness" }

func (c *leaderCompleteness) check(v *clusterView) error {
	for _, a := range v.applied {
		c.commit(a)
	}
	for _, nodes := range [2][]nodeView{v.won, v.nodes} {
		for _, n := range nodes {
			if err := c.checkLeader(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkLeader checks that n, if it leads, holds every entry committed
// before its term.
func (c *leaderCompleteness) checkLeader(n nodeView) error {
	if !n.up || n.role != RoleLeader {
		delete(c.verified, n.id)
		return nil
	}
	done := c.verified[n.id]
	if done.term != n.term {
		done = chkVerified{term: n.term}
	}
	i := done.upTo + 1
	for ; i <= Index(len(c.committed)) && c.committed[i-1].bound < n.term; i++ {
		want := c.committed[i-1]
		got, ok := chkEntryAt(n.log, i)
		if !ok || got.Term != want.entry.Term {
			return fmt.Errorf("leader %d of term %d lacks entry %s, committed by term %d (its entry at %d: %s)",
				n.id, n.term, chkDescribe(want.entry), want.bound, i, chkDescribe(got))
		}
	}
	done.upTo = i - 1
	c.verified[n.id] = done
	return nil
}

// commit records that a node applied (or durably committed) a.entry in term a.term.
func (c *leaderCompleteness) commit(a applyEvent) {
	i := a.entry.Index
	switch {
	case i == Index(len(c.committed))+1:
		c.committed = append(c.committed, chkBoundedEntry{entry: a.entry, bound: a.term})
	case i > Index(len(c.committed)):
		// A gap: the applier skipped entries, which the driver check reports.
		return
	}
	// Entry i was committed by a.term, so were all before it.
	for j := i; j > 0 && c.committed[j-1].bound > a.term; j-- {
		c.committed[j-1].bound = a.term
	}
}

// stateMachineSafety: no two nodes apply different entries at one index; nor
// does a node's durable commit index cover an entry other than the one applied
// or committed elsewhere at that index.
type stateMachineSafety struct {
	applied []applyEvent // applied[i-1] is the first application of index i
}

func newStateMachineSafety() *stateMachineSafety { return &stateMachineSafety{} }

func (*stateMachineSafety) name() string { return "state machine safety" }

func (c *stateMachineSafety) check(v *clusterView) error {
	for _, a := range v.applied {
		i := a.entry.Index
		if i == 0 {
			return fmt.Errorf("node %d %s entry %s at index 0", a.node, a.verb(), chkDescribe(a.entry))
		}
		if i > Index(len(c.applied)) {
			c.applied = slices.Grow(c.applied, int(i)-len(c.applied))[:i]
		}
		first := c.applied[i-1]
		if first.node == None {
			c.applied[i-1] = a
			continue
		}
		if !chkSameEntry(first.entry, a.entry) {
			return fmt.Errorf("index %d: node %d %s %s, node %d %s %s",
				i, a.node, a.verb(), chkDescribe(a.entry), first.node, first.verb(), chkDescribe(first.entry))
		}
	}
	return nil
}

// quorumDurability: every committed entry (applied anywhere, or covered by a
// persisted commit index) is in the durable log of a majority of the
// membership that committed it. Committed entries form a prefix, so it is
// enough to know, per node, how long a prefix of the committed log its
// durable log holds.
//
// Which majority? Let L be the last committed index known and M the
// membership in effect at L in the committed log (its newest membership
// entry at or below L, at index m; the initial voters when there is none).
// The leader that committed L counted a majority of the membership newest in
// its own log, which is M or the one change after M (the core starts a
// change only once the previous one is committed, and leaves a joint
// configuration only once it is committed):
//   - M itself: a majority of M.Voters (and of M.Outgoing when joint) holds L;
//   - C_old,new appended after a non-joint M: its outgoing half is M.Voters;
//   - C_new appended after a joint M: C_new is M.Voters.
//
// So a majority of M.Voters always holds the prefix up to L. The outgoing
// half of a joint M need not hold L (the C_new after it may have committed
// L alone), but it held the joint entry itself, at m: the leader that first
// committed a membership entry had no newer one in its log (one would have
// been appended only after that commit), so it counted both halves of M.
// Durable logs never lose committed entries, except the disks of removed
// nodes, which the simulator wipes only once their removal is committed and
// they are outside M. Checking the newest L (and m) is enough: the prefix
// property carries it to every earlier entry. Counting all the nodes that
// ever ran, as before membership changes, would be wrong both ways: it
// counts removed nodes and learners, and demands more than a small new
// membership holds.
type quorumDurability struct {
	committed []Entry
	match     map[NodeID]Index
	conf      chkConfTrack
	buf       []Index // scratch space of need
}

func newQuorumDurability(voters []NodeID) *quorumDurability {
	return &quorumDurability{match: make(map[NodeID]Index), conf: newChkConfTrack(voters)}
}

func (*quorumDurability) name() string { return "quorum durability" }

func (c *quorumDurability) check(v *clusterView) error {
	for _, a := range v.applied {
		if a.entry.Index == Index(len(c.committed))+1 {
			c.committed = append(c.committed, a.entry)
			if err := c.conf.observe(a.entry); err != nil {
				return err
			}
		}
	}
	if len(c.committed) == 0 {
		return nil
	}
	last := Index(len(c.committed))
	for _, n := range v.nodes {
		m := c.match[n.id]
		if n.dirtyFrom != 0 && n.dirtyFrom <= m {
			m = n.dirtyFrom - 1
		}
		m = min(m, Index(len(n.log)))
		for m < last && m < Index(len(n.log)) && chkSameEntry(n.log[m], c.committed[m]) {
			m++
		}
		c.match[n.id] = m
	}
	if err := c.need(v, c.conf.m.Voters, last, "voters"); err != nil {
		return err
	}
	if c.conf.m.Joint() {
		return c.need(v, c.conf.m.Outgoing, c.conf.index, "outgoing voters")
	}
	return nil
}

// need fails unless a majority of ids holds the committed prefix up to upTo.
func (c *quorumDurability) need(v *clusterView, ids []NodeID, upTo Index, what string) error {
	matches := c.buf[:0]
	for _, id := range ids {
		matches = append(matches, c.match[id])
	}
	c.buf = matches
	slices.Sort(matches)
	quorum := len(ids)/2 + 1
	if matches[len(matches)-quorum] >= upTo {
		return nil
	}
	lost := matches[len(matches)-quorum] + 1 // the first committed entry that lost its majority
	return fmt.Errorf("entry %s is committed but durable on fewer than %d of the %d %s %v of the membership at %d (%s); durable committed prefixes %v",
		chkDescribe(c.committed[lost-1]), quorum, len(ids), what, ids, c.conf.index, c.conf.m, c.matchList(v))
}

func (c *quorumDurability) matchList(v *clusterView) []string {
	out := make([]string, 0, len(v.nodes))
	for _, n := range v.nodes {
		out = append(out, fmt.Sprintf("%d:%d", n.id, c.match[n.id]))
	}
	return out
}

// readLinearizability: a ReadIndex answer is at least the highest commit index
// known anywhere (applied by a node, acknowledged to a proposer) when the read
// was invoked; otherwise the read could miss a write that completed before it.
type readLinearizability struct {
	calls map[string]chkReadCall
}

type chkReadCall struct {
	node  NodeID
	floor Index
}

func newReadLinearizability() *readLinearizability {
	return &readLinearizability{calls: make(map[string]chkReadCall)}
}

func (*readLinearizability) name() string { return "read linearizability" }

// invoked records that ReadIndex(rctx) was called on node when floor was the
// highest commit index known anywhere.
func (c *readLinearizability) invoked(rctx []byte, node NodeID, floor Index) {
	c.calls[string(rctx)] = chkReadCall{node: node, floor: floor}
}

func (c *readLinearizability) check(v *clusterView) error {
	for _, r := range v.reads {
		call, ok := c.calls[string(r.rs.RequestCtx)]
		if !ok {
			return fmt.Errorf("node %d got a read state for %q, which nobody requested", r.node, r.rs.RequestCtx)
		}
		if call.node != r.node {
			return fmt.Errorf("node %d got the read state for %q, requested on node %d", r.node, r.rs.RequestCtx, call.node)
		}
		if r.rs.Index < call.floor {
			return fmt.Errorf("ReadIndex(%q) on node %d = %d; want >= %d (the commit index known when it was invoked)",
				r.rs.RequestCtx, r.node, r.rs.Index, call.floor)
		}
	}
	return nil
}

// proposalPromise: when Propose returned (index, term) and the proposing node
// later applies an entry of that term at that index, it is the proposed one.
type proposalPromise struct {
	pending map[chkNodeIndex]chkPromise
}

type chkNodeIndex struct {
	node  NodeID
	index Index
}

type chkPromise struct {
	term Term
	data []byte
}

func newProposalPromise() *proposalPromise {
	return &proposalPromise{pending: make(map[chkNodeIndex]chkPromise)}
}

func (*proposalPromise) name() string { return "proposal chkPromise" }

// proposed records that Propose(data) on node returned (index, term).
func (c *proposalPromise) proposed(node NodeID, index Index, term Term, data []byte) {
	c.pending[chkNodeIndex{node: node, index: index}] = chkPromise{term: term, data: data}
}

// forget drops node's pending proposals: it crashed, its clients saw an error.
func (c *proposalPromise) forget(node NodeID) {
	for k := range c.pending {
		if k.node == node {
			delete(c.pending, k)
		}
	}
}

func (c *proposalPromise) check(v *clusterView) error {
	for _, a := range v.applied {
		if a.durable {
			continue
		}
		k := chkNodeIndex{node: a.node, index: a.entry.Index}
		p, ok := c.pending[k]
		if !ok {
			continue
		}
		delete(c.pending, k)
		if a.entry.Term == p.term && !bytes.Equal(a.entry.Data, p.data) {
			return fmt.Errorf("Propose(%q) on node %d = (%d, %d); node %d applied %s there",
				p.data, a.node, a.entry.Index, p.term, a.node, chkDescribe(a.entry))
		}
	}
	return nil
}
