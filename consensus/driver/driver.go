package driver

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/consensus/snapfile"
)

// ErrStopped is returned by calls made after the node loop ended.
var ErrStopped = errors.New("driver: node stopped")

// ErrProposalLost is returned when the entry a proposal created was replaced
// by another leader's entry at the same index: the proposal did not take effect.
var ErrProposalLost = errors.New("driver: proposal lost to a leader change")

// ErrLeaderChanged is returned to a linearizable read whose leader changed
// before it was confirmed; retrying is safe.
var ErrLeaderChanged = errors.New("driver: leader changed during read")

// StateMachine is what the driver applies committed entries to.
type StateMachine interface {
	// Apply applies a committed command and returns its result, which resolves
	// the proposal's future on the node that proposed it. It must be
	// deterministic and must not block.
	Apply(index consensus.Index, data []byte) any
	// Snapshot writes the whole state, as of the last entry applied, to w.
	// The driver calls it on the node loop, between two Applies.
	Snapshot(w io.Writer) error
	// Restore replaces the whole state with the one r holds, reading r to
	// its end; on error it leaves the state as it was.
	Restore(r io.Reader) error
}

// Store is the durable log: the core reads it, the driver writes each Ready to it.
type Store interface {
	consensus.Storage
	// Save persists hs (when not empty) and ents in one fsynced write.
	Save(hs consensus.HardState, ents []consensus.Entry) error
	// SetSnapshot records a snapshot taken at meta.Index, whose file is durable.
	SetSnapshot(meta consensus.SnapshotMeta) error
	// ApplySnapshot installs a received snapshot, whose file is durable:
	// every stored entry is dropped and the log restarts after meta.Index.
	ApplySnapshot(meta consensus.SnapshotMeta) error
	// Compact drops the stored entries up to and including i.
	Compact(i consensus.Index) error
}

// Transport sends messages to peers without blocking.
type Transport interface {
	Send(msgs []consensus.Message)
}

// Config configures a Node.
type Config struct {
	ID        consensus.NodeID
	Voters    []consensus.NodeID
	Store     Store
	Transport Transport
	FSM       StateMachine
	// TickInterval is the wall time of one core tick (the heartbeat interval).
	TickInterval time.Duration
	// ElectionTicks and HeartbeatTicks are in ticks of TickInterval.
	ElectionTicks  int
	HeartbeatTicks int
	// MaxMsgBytes and MaxInflightMsgs pass through to the core.
	MaxMsgBytes     uint64
	MaxInflightMsgs int
	// Seed seeds the core's election jitter.
	Seed uint64
	// Snapshots holds the snapshot files. The node snapshots the state
	// machine into it every SnapshotEntries applied entries and installs
	// snapshots the transport received into it. Nil turns snapshots off:
	// the log is never compacted and a received snapshot stops the node.
	Snapshots *snapfile.Dir
	// SnapshotEntries is how many entries are applied between two
	// snapshots; 0 means SnapshotEntriesDefault.
	SnapshotEntries uint64
	// CompactionTailEntries is how many entries before a snapshot the log
	// keeps for slow followers; 0 means CompactionTailEntriesDefault.
	CompactionTailEntries uint64
	// OnMembership, when set, is called on the node loop each time a
	// membership is applied (a membership entry, or a snapshot's): the
	// application updates its peers and member directory. It must not block.
	OnMembership func(index consensus.Index, m consensus.Membership)
	Logger       *zap.Logger
}

type proposal struct {
	data []byte
	fut  *future
}

type readReq struct {
	fut *future
}

// future is a result delivered exactly once: done is closed after val/err are set.
type future struct {
	done chan struct{}
	val  any
	err  error
}

func newFuture() *future { return &future{done: make(chan struct{})} }

func (f *future) resolve(val any, err error) {
	f.val, f.err = val, err
	close(f.done)
}

func (f *future) wait(ctx context.Context) (any, error) {
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// pendingProposal is a proposal appended at (index, term), awaiting apply.
type pendingProposal struct {
	term consensus.Term
	fut  *future
}

// pendingRead is a confirmed or unconfirmed read waiting to be served.
type pendingRead struct {
	lead consensus.NodeID
	// term is the Raft term the read was asked in: the core drops every
	// unconfirmed read when its term changes, so the driver fails them then.
	term consensus.Term
	// tick is the loop tick at which it was asked, to give up on reads the
	// leader dropped without a term change (ReadTimeoutTicks).
	tick  uint64
	index consensus.Index // 0 until the core returned its ReadState
	// futs are the reads asked together: every read the loop took in one
	// turn shares one ReadIndex, so one round of heartbeats confirms them all.
	futs []*future
}

// resolve resolves every read of pr.
func (pr *pendingRead) resolve(err error) {
	for _, f := range pr.futs {
		f.resolve(nil, err)
	}
}

// Node is a running Raft node. Create it with New and run it with Run.
type Node struct {
	cfg  Config
	log  *zap.Logger
	raft *consensus.Raft

	inbound   chan consensus.Message
	proposals chan proposal
	reads     chan readReq
	ops       chan loopOp
	stopped   chan struct{} // closed when Run returns

	// Loop-owned state: only the Run goroutine touches these.
	pending   map[consensus.Index]pendingProposal
	readsByID map[uint64]*pendingRead
	// readBatch are the reads taken this loop turn, asked together by askReads.
	readBatch []*future
	readWait  []*pendingRead // confirmed reads waiting for applied >= index
	nextRead  uint64
	// readEpoch prefixes every read context of this incarnation, so a late
	// answer to a read of a previous process can never match a new read.
	readEpoch uint64
	// ticks counts the loop's ticks.
	ticks uint64
	// applied is the last entry the state machine applied; the core may be
	// ahead while entries wait in backlog.
	applied consensus.Index
	// snapping is the snapshot being written on its own goroutine (nil
	// when none); backlog holds the committed entries that arrived
	// meanwhile, applied once it is done.
	snapping *snapJob
	backlog  []consensus.Entry
	snapDone chan snapResult
	// lastSnapEnd and lastSnapTook pace snapshots (SnapshotDutyFactor).
	lastSnapEnd  time.Time
	lastSnapTook time.Duration
	// savedHS is the hard state last written to the store; unsavedHS the
	// newest the core handed out (equal unless only the commit moved).
	savedHS, unsavedHS consensus.HardState
	// snap is the latest snapshot, taken here or installed.
	snap consensus.SnapshotMeta
	// snapStats counts snapshots, for tests and metrics.
	snapStats atomic.Pointer[SnapshotStats]

	status     atomic.Pointer[consensus.Status]
	membership atomic.Pointer[AppliedMembership]

	mu sync.Mutex
	// appliedCh is closed and replaced each time applied advances.
	appliedCh chan struct{}
	// leaderCh is closed and replaced each time the leader or role changes
	// (or a leadership transfer starts or ends).
	leaderCh chan struct{}
	// membershipCh is closed and replaced each time a membership is applied.
	membershipCh chan struct{}
}

// New creates a node from cfg; its state comes from cfg.Store.
func New(cfg Config) (*Node, error) {
	if cfg.Store == nil || cfg.Transport == nil || cfg.FSM == nil {
		return nil, errors.New("driver: Store, Transport and FSM are required")
	}
	if cfg.TickInterval <= 0 {
		return nil, fmt.Errorf("driver: tick interval %v, want > 0", cfg.TickInterval)
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	if cfg.SnapshotEntries == 0 {
		cfg.SnapshotEntries = SnapshotEntriesDefault
	}
	if cfg.CompactionTailEntries == 0 {
		cfg.CompactionTailEntries = CompactionTailEntriesDefault
	}
	snap, err := restoreAtStart(cfg, log)
	if err != nil {
		return nil, err
	}
	r, err := consensus.New(consensus.Config{
		ID:              cfg.ID,
		Voters:          cfg.Voters,
		Storage:         cfg.Store,
		ElectionTicks:   cfg.ElectionTicks,
		HeartbeatTicks:  cfg.HeartbeatTicks,
		Rand:            rand.New(rand.NewPCG(cfg.Seed, uint64(cfg.ID))),
		MaxMsgBytes:     cfg.MaxMsgBytes,
		MaxInflightMsgs: cfg.MaxInflightMsgs,
		Applied:         snap.Index,
		Logger:          log,
	})
	if err != nil {
		return nil, fmt.Errorf("driver: %w", err)
	}
	n := &Node{
		cfg:       cfg,
		log:       log,
		raft:      r,
		inbound:   make(chan consensus.Message, InboundQueueMax),
		proposals: make(chan proposal, ProposalQueueMax),
		reads:     make(chan readReq, ReadQueueMax),
		ops:       make(chan loopOp, OpQueueMax),
		stopped:   make(chan struct{}),
		pending:   make(map[consensus.Index]pendingProposal),
		readsByID: make(map[uint64]*pendingRead),
		appliedCh: make(chan struct{}),
		leaderCh:  make(chan struct{}),

		membershipCh: make(chan struct{}),
		applied:      snap.Index,
		snap:         snap,
		snapDone:     make(chan snapResult, 1),
	}
	var epoch [8]byte
	if _, err := crand.Read(epoch[:]); err != nil {
		return nil, fmt.Errorf("driver: read epoch: %w", err)
	}
	n.readEpoch = binary.BigEndian.Uint64(epoch[:])
	hs, err := cfg.Store.InitialState()
	if err != nil {
		return nil, fmt.Errorf("driver: initial state: %w", err)
	}
	n.savedHS, n.unsavedHS = hs, hs
	n.snapStats.Store(&SnapshotStats{Index: snap.Index})
	initial := AppliedMembership{Membership: snap.Membership().Clone(), Index: snap.Index}
	if snap.IsEmpty() {
		initial = AppliedMembership{Membership: consensus.Membership{Voters: slices.Sorted(slices.Values(cfg.Voters))}}
	}
	n.membership.Store(&initial)
	st := r.Status()
	n.status.Store(&st)
	return n, nil
}

// Status returns the core's state as of the loop's last iteration.
func (n *Node) Status() consensus.Status { return *n.status.Load() }

// Step queues a message from a peer; it never blocks. A full queue drops it.
func (n *Node) Step(m consensus.Message) {
	select {
	case n.inbound <- m:
	default:
		n.log.Debug("inbound queue full, message dropped", zap.Uint64("peer", uint64(m.From)))
	}
}

// Propose submits data and waits until it is applied, returning the state
// machine's result. consensus.ErrNotLeader means this node cannot propose;
// ErrProposalLost means the entry was overwritten and did not take effect; a
// context error leaves the outcome unknown.
func (n *Node) Propose(ctx context.Context, data []byte) (any, error) {
	p := proposal{data: data, fut: newFuture()}
	select {
	case n.proposals <- p:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-n.stopped:
		return nil, ErrStopped
	}
	return n.await(ctx, p.fut)
}

// LinearizableRead returns once the local state machine has applied every
// entry committed before the call: a read of it after that is linearizable.
func (n *Node) LinearizableRead(ctx context.Context) error {
	r := readReq{fut: newFuture()}
	select {
	case n.reads <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-n.stopped:
		return ErrStopped
	}
	_, err := n.await(ctx, r.fut)
	return err
}

func (n *Node) await(ctx context.Context, f *future) (any, error) {
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-n.stopped:
		// The loop may have resolved f just before it stopped.
		select {
		case <-f.done:
			return f.val, f.err
		default:
			return nil, ErrStopped
		}
	}
}

// WaitApplied returns once the applied index is at least index.
func (n *Node) WaitApplied(ctx context.Context, index consensus.Index) error {
	for {
		n.mu.Lock()
		ch := n.appliedCh
		n.mu.Unlock()
		if n.Status().Applied >= index {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-n.stopped:
			return ErrStopped
		}
	}
}

// LeaderChanged returns a channel closed at the next change of leader or role.
func (n *Node) LeaderChanged() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.leaderCh
}

// Done is closed when Run has returned.
func (n *Node) Done() <-chan struct{} { return n.stopped }

// ReportUnreachable tells the core that a message to id was not delivered. It
// is safe to call from any goroutine; it is delivered through the loop.
func (n *Node) ReportUnreachable(id consensus.NodeID) {
	n.Step(consensus.Message{Type: reportUnreachable, From: id, To: n.cfg.ID})
}

// ReportSnapshot tells the core how streaming a snapshot to id ended. It is
// safe to call from any goroutine; it is delivered through the loop.
func (n *Node) ReportSnapshot(id consensus.NodeID, delivered bool) {
	n.Step(consensus.Message{Type: reportSnapshot, From: id, To: n.cfg.ID, Reject: !delivered})
}

// PeerDown tells the node that the transport saw id's connection reset or
// refused (fast failover, DESIGN.md §3.2): if id is the leader this node
// follows, the core forgets it and campaigns after a short delay instead of a
// full election timeout. Safe from any goroutine; delivered through the loop.
func (n *Node) PeerDown(id consensus.NodeID) {
	n.Step(consensus.Message{Type: peerDown, From: id, To: n.cfg.ID})
}

// reportUnreachable, reportSnapshot and peerDown are loop-local pseudo
// message types, never sent on the wire (MessageType.Valid refuses them).
const (
	reportUnreachable consensus.MessageType = 0
	reportSnapshot    consensus.MessageType = 255
	peerDown          consensus.MessageType = 254
)

// Run drives the node until ctx is cancelled or persisting fails (a node that
// cannot write its log must stop). It returns nil on cancellation.
func (n *Node) Run(ctx context.Context) error {
	defer close(n.stopped)
	defer n.failAll(ErrStopped)
	// The snapshot goroutine ends on its own; the node waits for it so no
	// file is being written after Run returns.
	defer n.abandonSnapshot()
	ticker := time.NewTicker(n.cfg.TickInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			// A clean stop leaves the newest commit index on disk, so the
			// next start applies everything committed before it at once.
			return n.flushHardState()
		case <-ticker.C:
			n.raft.Tick()
			n.ticks++
			n.expireReads()
		case m := <-n.inbound:
			n.step(m)
		case p := <-n.proposals:
			n.propose(p)
		case r := <-n.reads:
			n.read(r)
		case op := <-n.ops:
			op(n.raft)
		case res := <-n.snapDone:
			if err := n.finishSnapshot(res); err != nil {
				n.log.Error("node loop stopped", zap.Error(err))
				return err
			}
		}
		n.drainInputs()
		n.askReads()
		if err := n.handleReady(); err != nil {
			n.log.Error("node loop stopped", zap.Error(err))
			return err
		}
	}
}

// drainInputs takes whatever else is already queued, up to LoopBatchMax, so
// that many proposals share one Ready and one fsync (group commit).
func (n *Node) drainInputs() {
	for i := 0; i < LoopBatchMax; i++ {
		select {
		case m := <-n.inbound:
			n.step(m)
		case p := <-n.proposals:
			n.propose(p)
		case r := <-n.reads:
			n.read(r)
		case op := <-n.ops:
			op(n.raft)
		default:
			return
		}
	}
}

func (n *Node) step(m consensus.Message) {
	switch m.Type {
	case reportUnreachable:
		n.raft.ReportUnreachable(m.From)
		return
	case reportSnapshot:
		n.raft.ReportSnapshot(m.From, !m.Reject)
		return
	case peerDown:
		n.raft.ReportUnreachable(m.From)
		if n.raft.Status().Lead == m.From {
			n.raft.ForgetLeader()
		}
		return
	}
	if err := n.raft.Step(m); err != nil {
		n.log.Debug("message rejected", zap.Uint64("peer", uint64(m.From)), zap.Error(err))
	}
}

func (n *Node) propose(p proposal) {
	index, term, err := n.raft.Propose(p.data)
	if err != nil {
		p.fut.resolve(nil, err)
		return
	}
	n.trackProposal(index, term, p.fut)
}

// trackProposal resolves fut when the entry at index is applied: with the
// state machine's result if it still has term, with ErrProposalLost if
// another leader's entry replaced it.
func (n *Node) trackProposal(index consensus.Index, term consensus.Term, fut *future) {
	if old, ok := n.pending[index]; ok {
		// Our own earlier entry at this index was replaced by another
		// leader's before we led again: that proposal did not take effect.
		old.fut.resolve(nil, ErrProposalLost)
	}
	n.pending[index] = pendingProposal{term: term, fut: fut}
}

// readCtxBytes is the length of a read's request context: epoch and id.
const readCtxBytes = 16

// read queues r for the ReadIndex the loop asks at the end of this turn
// (askReads).
func (n *Node) read(r readReq) {
	n.readBatch = append(n.readBatch, r.fut)
}

// askReads asks one ReadIndex for every read queued this turn. They all
// arrived before it is asked, so the read index it returns is at least the
// commit index at the time of each of them.
func (n *Node) askReads() {
	if len(n.readBatch) == 0 {
		return
	}
	pr := &pendingRead{tick: n.ticks, futs: n.readBatch}
	n.readBatch = nil
	n.nextRead++
	id := n.nextRead
	var rctx [readCtxBytes]byte
	binary.BigEndian.PutUint64(rctx[:8], n.readEpoch)
	binary.BigEndian.PutUint64(rctx[8:], id)
	if err := n.raft.ReadIndex(rctx[:]); err != nil {
		pr.resolve(err)
		return
	}
	st := n.raft.Status()
	pr.lead, pr.term = st.Lead, st.Term
	n.readsByID[id] = pr
}

// expireReads fails unconfirmed reads older than ReadTimeoutTicks: the
// leader may have dropped them (a full read queue, a lost message) without a
// term change, and their callers may retry at once.
func (n *Node) expireReads() {
	for id, pr := range n.readsByID {
		if n.ticks-pr.tick >= ReadTimeoutTicks(n.cfg.ElectionTicks) {
			delete(n.readsByID, id)
			pr.resolve(ErrLeaderChanged)
		}
	}
}

// persist saves a Ready's hard state and entries in one fsynced write, except
// a hard state whose only change is the commit index: that one waits for the
// next write that has to happen anyway (new entries, a new term or vote).
// The commit index is a fact about what a quorum stored, not something this
// node must remember: a restart with an older one re-learns it from the
// leader (or, alone, by committing its first entry), and meanwhile applies
// less at start. It saves an fsync per write on every node: the commit index
// moves once per batch, after the entries were already made durable.
func (n *Node) persist(hs consensus.HardState, ents []consensus.Entry) error {
	if !hs.IsEmpty() {
		n.unsavedHS = hs
	}
	if len(ents) == 0 && (hs.IsEmpty() || (hs.Term == n.savedHS.Term && hs.Vote == n.savedHS.Vote)) {
		return nil
	}
	save := n.unsavedHS
	if save == n.savedHS {
		save = consensus.HardState{}
	}
	if err := n.cfg.Store.Save(save, ents); err != nil {
		return fmt.Errorf("driver: persist: %w", err)
	}
	if !save.IsEmpty() {
		n.savedHS = save
	}
	return nil
}

// splitEarly splits a Ready's messages into those that may leave before
// the Ready is persisted and those that must wait. A leader's appends,
// heartbeats and snapshots may go first (§10.2.1 of the Raft thesis): the
// leader writes its log in parallel with its followers, and the core counts
// the leader's own copy towards a commit only after Advance, once it is on
// disk. That holds only while the term they carry is already durable with
// our vote: a leader elected alone inside this very Ready (a sole voter) has
// not saved its term yet, and an append of that term must not leave first.
// Everything else (votes, acknowledgements) says something about our disk
// and waits.
func (n *Node) splitEarly(rd consensus.Ready) (early, late []consensus.Message) {
	hs := rd.HardState
	if !hs.IsEmpty() && (hs.Term != n.savedHS.Term || hs.Vote != n.savedHS.Vote) {
		return nil, rd.Messages
	}
	isEarly := func(m *consensus.Message) bool {
		switch m.Type {
		case consensus.MsgApp, consensus.MsgHeartbeat, consensus.MsgSnap:
			return m.Term == n.savedHS.Term && n.savedHS.Vote == n.cfg.ID
		}
		return false
	}
	all := true
	for i := range rd.Messages {
		if !isEarly(&rd.Messages[i]) {
			all = false
			break
		}
	}
	if all {
		return rd.Messages, nil
	}
	for i := range rd.Messages {
		if isEarly(&rd.Messages[i]) {
			early = append(early, rd.Messages[i])
		} else {
			late = append(late, rd.Messages[i])
		}
	}
	return early, late
}

// flushHardState writes the newest hard state if persist deferred it.
func (n *Node) flushHardState() error {
	if n.unsavedHS == n.savedHS {
		return nil
	}
	if err := n.cfg.Store.Save(n.unsavedHS, nil); err != nil {
		return fmt.Errorf("driver: persist: %w", err)
	}
	n.savedHS = n.unsavedHS
	return nil
}

// handleReady carries out every pending Ready per the core's contract.
func (n *Node) handleReady() error {
	for n.raft.HasReady() {
		rd := n.raft.Ready()
		// 1. Persist: a received snapshot first, then one fsynced
		// transaction for hard state and entries.
		if rd.Snapshot != nil {
			if err := n.cfg.Store.ApplySnapshot(*rd.Snapshot); err != nil {
				return fmt.Errorf("driver: install snapshot %d: %w", rd.Snapshot.Index, err)
			}
		}
		early, late := n.splitEarly(rd)
		if len(early) > 0 {
			n.cfg.Transport.Send(early)
		}
		if err := n.persist(rd.HardState, rd.Entries); err != nil {
			return err
		}
		// 2. Send, only now that it is durable.
		if len(late) > 0 {
			n.cfg.Transport.Send(late)
		}
		// 3. Restore from the snapshot, apply and serve reads.
		if rd.Snapshot != nil {
			if err := n.restore(*rd.Snapshot); err != nil {
				return err
			}
		}
		n.apply(rd.CommittedEntries)
		n.collectReads(rd.ReadStates)
		n.raft.Advance(rd)
		if ss := rd.SoftState; ss != nil && ss.Role != consensus.RoleLeader && len(n.pending) > 0 {
			// A leader that removed itself may step down before it applies
			// its removal (CheckQuorum, a transfer): the membership in its
			// log already leaves it out, and nothing more will reach it.
			m, _ := n.raft.Membership()
			n.failPendingIfRemoved(m, n.applied)
		}
		n.publish(rd.SoftState)
		if err := n.maybeSnapshot(); err != nil {
			return err
		}
	}
	n.serveReads()
	return nil
}

func (n *Node) apply(ents []consensus.Entry) {
	if n.snapping != nil || len(n.backlog) > 0 {
		// The state machine is being snapshotted: its entries wait.
		n.backlog = append(n.backlog, ents...)
		return
	}
	n.applyNow(ents)
}

// applyNow applies ents to the state machine and resolves their proposals.
func (n *Node) applyNow(ents []consensus.Entry) {
	for i := range ents {
		e := &ents[i]
		var result any
		switch e.Type {
		case consensus.EntryNormal:
			result = n.cfg.FSM.Apply(e.Index, e.Data)
		case consensus.EntryConfChange:
			n.applyMembership(e)
		}
		if p, ok := n.pending[e.Index]; ok {
			delete(n.pending, e.Index)
			if p.term == e.Term {
				p.fut.resolve(result, nil)
			} else {
				p.fut.resolve(nil, ErrProposalLost)
			}
		}
		n.applied = e.Index
	}
}

func (n *Node) collectReads(states []consensus.ReadState) {
	for _, rs := range states {
		if len(rs.RequestCtx) != readCtxBytes || binary.BigEndian.Uint64(rs.RequestCtx[:8]) != n.readEpoch {
			continue
		}
		id := binary.BigEndian.Uint64(rs.RequestCtx[8:])
		pr, ok := n.readsByID[id]
		if !ok {
			continue
		}
		delete(n.readsByID, id)
		pr.index = rs.Index
		n.readWait = append(n.readWait, pr)
	}
}

// serveReads resolves every confirmed read whose index is applied.
func (n *Node) serveReads() {
	kept := n.readWait[:0]
	for _, pr := range n.readWait {
		if n.applied >= pr.index {
			pr.resolve(nil)
			continue
		}
		kept = append(kept, pr)
	}
	clear(n.readWait[len(kept):])
	n.readWait = kept
}

// publish makes the loop's state visible to other goroutines and wakes waiters.
func (n *Node) publish(ss *consensus.SoftState) {
	st := n.raft.Status()
	// What the state machine holds, not what the core handed out.
	st.Applied = n.applied
	old := n.status.Swap(&st)
	if ss != nil || st.Term != old.Term {
		n.failUnconfirmedReads(st)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if st.Applied != old.Applied {
		close(n.appliedCh)
		n.appliedCh = make(chan struct{})
	}
	if ss != nil || st.LeadTransferee != old.LeadTransferee {
		close(n.leaderCh)
		n.leaderCh = make(chan struct{})
	}
}

// failUnconfirmedReads fails unconfirmed reads asked of a leader that is
// gone or asked in an earlier term (the same node re-elected counts: its core
// dropped them when the term changed); the reader may retry at once.
func (n *Node) failUnconfirmedReads(st consensus.Status) {
	n.log.Info("leader or term changed", zap.Uint64("node_id", uint64(n.cfg.ID)),
		zap.Uint64("leader", uint64(st.Lead)), zap.Stringer("role", st.Role), zap.Uint64("term", uint64(st.Term)))
	for id, pr := range n.readsByID {
		if pr.lead != st.Lead || pr.term != st.Term || (st.Role != consensus.RoleLeader && pr.lead == n.cfg.ID) {
			delete(n.readsByID, id)
			pr.resolve(ErrLeaderChanged)
		}
	}
}

// failAll resolves every outstanding future when the loop stops.
func (n *Node) failAll(err error) {
	for idx, p := range n.pending {
		delete(n.pending, idx)
		p.fut.resolve(nil, err)
	}
	for id, pr := range n.readsByID {
		delete(n.readsByID, id)
		pr.resolve(err)
	}
	for _, pr := range n.readWait {
		pr.resolve(err)
	}
	n.readWait = nil
	for _, f := range n.readBatch {
		f.resolve(nil, err)
	}
	n.readBatch = nil
}
