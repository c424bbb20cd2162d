package consensus

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"go.uber.org/zap"
)

// ErrNotLeader is returned by Propose on a node that is not the leader;
// Status().Lead names the leader when one is known.
var ErrNotLeader = errors.New("consensus: not the leader")

// ErrNoLeader is returned when an operation needs a leader and none is known.
var ErrNoLeader = errors.New("consensus: no leader")

// ErrProposalDropped is returned when the leader refuses a proposal it cannot
// take now (for example, its uncommitted tail is full).
var ErrProposalDropped = errors.New("consensus: proposal dropped")

// ErrInvalidConfig is returned by New for a Config it cannot run with.
var ErrInvalidConfig = errors.New("consensus: invalid config")

// ErrInvalidMessage is returned by Step for a message no correct peer sends:
// an unknown type, the wrong recipient, an unknown sender, entries that do not
// follow prevLogIndex, and the like. The message changed nothing.
var ErrInvalidMessage = errors.New("consensus: invalid message")

// Config configures a Raft core.
type Config struct {
	// ID is this node's id; never None.
	ID NodeID
	// Voters is the cluster's initial voting membership, the same on every
	// node started with the cluster; it is used only while neither a
	// snapshot nor a membership entry in the log says otherwise. A node that
	// joins a running cluster starts with no voters: it follows the leader
	// that contacts it and learns the membership from the log it receives.
	Voters []NodeID
	// Storage is the stable log and hard state the core reads.
	Storage Storage
	// ElectionTicks is the election timeout T in ticks; each node draws its
	// timeout from [T, 2T) after every reset.
	ElectionTicks int
	// HeartbeatTicks is the leader's heartbeat interval in ticks; < ElectionTicks.
	HeartbeatTicks int
	// Rand is the only source of randomness (election jitter).
	Rand *rand.Rand
	// MaxMsgBytes bounds the entry bytes in one MsgApp (at least one entry is
	// sent); zero means MaxMsgBytesDefault.
	MaxMsgBytes uint64
	// MaxInflightMsgs bounds the MsgApps in flight to one follower in pipeline
	// mode; zero means MaxInflightMsgsDefault.
	MaxInflightMsgs int
	// Applied is the last index the state machine applied before this start
	// (0 when it is rebuilt from the log).
	Applied Index
	// Logger is optional; nil logs nothing.
	Logger *zap.Logger

	// testSkipCurrentTermCommit makes the leader count replicas for entries of
	// any term: the Figure 8 bug, for the simulator to prove it catches it.
	testSkipCurrentTermCommit bool
	// testSkipUpToDateCheck grants votes and pre-votes without the §5.4.1
	// check, for the simulator to prove it catches the lost entries.
	testSkipUpToDateCheck bool
}

// validate checks cfg and returns an ErrInvalidConfig error naming the field.
func (cfg *Config) validate() error {
	switch {
	case cfg.ID == None:
		return fmt.Errorf("%w: ID is None", ErrInvalidConfig)
	case len(cfg.Voters) > VotersMax:
		return fmt.Errorf("%w: %d voters, max %d", ErrInvalidConfig, len(cfg.Voters), VotersMax)
	case len(cfg.Voters) > 0 && !slices.Contains(cfg.Voters, cfg.ID):
		return fmt.Errorf("%w: ID %d not among the voters %v", ErrInvalidConfig, cfg.ID, cfg.Voters)
	case cfg.Storage == nil:
		return fmt.Errorf("%w: no storage", ErrInvalidConfig)
	case cfg.Rand == nil:
		return fmt.Errorf("%w: no rand", ErrInvalidConfig)
	case cfg.HeartbeatTicks <= 0:
		return fmt.Errorf("%w: heartbeat ticks %d, min 1", ErrInvalidConfig, cfg.HeartbeatTicks)
	case cfg.ElectionTicks <= cfg.HeartbeatTicks:
		return fmt.Errorf("%w: election ticks %d, must exceed heartbeat ticks %d", ErrInvalidConfig, cfg.ElectionTicks, cfg.HeartbeatTicks)
	case cfg.MaxInflightMsgs < 0 || cfg.MaxInflightMsgs > MaxInflightMsgsMax:
		return fmt.Errorf("%w: max in-flight messages %d, want 0..%d", ErrInvalidConfig, cfg.MaxInflightMsgs, MaxInflightMsgsMax)
	}
	seen := make(map[NodeID]bool, len(cfg.Voters))
	for _, id := range cfg.Voters {
		if id == None {
			return fmt.Errorf("%w: voter None", ErrInvalidConfig)
		}
		if seen[id] {
			return fmt.Errorf("%w: voter %d listed twice", ErrInvalidConfig, id)
		}
		seen[id] = true
	}
	return nil
}

// Status is a snapshot of a core's state for observers (health, metrics, tests).
type Status struct {
	ID        NodeID
	Role      Role
	Term      Term
	Vote      NodeID
	Lead      NodeID
	Commit    Index
	Applied   Index
	LastIndex Index
	// QuorumActive is true on a leader that heard from a quorum (itself
	// included) within the last election timeout.
	QuorumActive bool
	// LeadTransferee is the voter a leader is handing over to, or None.
	LeadTransferee NodeID
	// ConfIndex is the index of the membership entry in effect (0 for the
	// initial voters); ConfPending says it is not committed yet or is a
	// joint configuration: the change is not finished.
	ConfIndex   Index
	ConfPending bool
	// TimeoutCampaigns counts the campaigns this core started because its
	// election timer fired (or fast failover brought it forward);
	// TransferCampaigns those a leadership transfer asked for. Both count
	// from the core's start.
	TimeoutCampaigns  uint64
	TransferCampaigns uint64
}

// Raft is the deterministic Raft core. It is not safe for concurrent use: its
// owner (the driver or the simulator) serializes every call.
type Raft struct {
	id NodeID
	// conf says which membership is in effect; members caches its voters
	// and learners, sorted: every loop over the cluster follows it, never
	// a map.
	conf    confLog
	members []NodeID
	log     *raftLog

	// term never decreases; vote is the candidate voted for in term.
	// Invariant: vote changes from None at most once per term.
	term Term
	vote NodeID
	lead NodeID
	role Role

	// prs is the leader's progress per member (itself included, even when
	// it is leaving the cluster); nil otherwise.
	prs map[NodeID]*progress
	// leadTransferee is the voter a leader hands over to (None when not
	// transferring); transferElapsed counts the ticks since it began.
	leadTransferee  NodeID
	transferElapsed int
	// leaderLost is set by ForgetLeader and cleared when a leader is heard
	// from again (or this node leads): until then every campaign that did
	// not win is retried after the short delay, not a full timeout.
	leaderLost bool
	// timeoutCampaigns and transferCampaigns count campaigns by cause.
	timeoutCampaigns, transferCampaigns uint64
	// votes holds the (pre-)vote answers of the current campaign.
	votes map[NodeID]bool

	msgs       []Message
	readStates []ReadState
	reads      readQueue

	electionTicks  int
	heartbeatTicks int
	// electionElapsed counts ticks since the last reset: on a follower since it
	// last heard from the leader (or granted a vote); on a leader since the
	// current CheckQuorum window began.
	electionElapsed           int
	heartbeatElapsed          int
	randomizedElectionTimeout int
	rand                      *rand.Rand

	maxMsgBytes uint64
	maxInflight int
	// uncommittedBytes approximates the bytes proposed to this leader and not
	// applied yet (bounded by UncommittedBytesMax).
	uncommittedBytes uint64
	// appendPending says entries were proposed since the last broadcast;
	// commitPending says the commit index moved since then. Ready flushes
	// both as one MsgApp per follower.
	appendPending bool
	commitPending bool
	// committedInTerm is set once the leader's commit index reaches an entry
	// of its own term; ReadIndex waits for it.
	committedInTerm bool

	prevSoft SoftState
	prevHard HardState
	matchBuf []Index
	logger   *zap.Logger

	skipCurrentTermCommit bool
	skipUpToDateCheck     bool
}

// New returns a core that starts as a follower from the state in cfg.Storage.
func New(cfg Config) (*Raft, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	hs, err := cfg.Storage.InitialState()
	if err != nil {
		return nil, fmt.Errorf("consensus: storage initial state: %w", err)
	}
	l, err := newLog(cfg.Storage, hs.Commit, cfg.Applied)
	if err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	r := &Raft{
		id:                    cfg.ID,
		log:                   l,
		term:                  hs.Term,
		vote:                  hs.Vote,
		electionTicks:         cfg.ElectionTicks,
		heartbeatTicks:        cfg.HeartbeatTicks,
		rand:                  cfg.Rand,
		maxMsgBytes:           cfg.MaxMsgBytes,
		maxInflight:           cfg.MaxInflightMsgs,
		votes:                 make(map[NodeID]bool, len(cfg.Voters)),
		prevHard:              hs,
		prevSoft:              SoftState{Lead: None, Role: RoleFollower},
		matchBuf:              make([]Index, 0, len(cfg.Voters)),
		logger:                logger.With(zap.Uint64("node_id", uint64(cfg.ID))),
		skipCurrentTermCommit: cfg.testSkipCurrentTermCommit,
		skipUpToDateCheck:     cfg.testSkipUpToDateCheck,
	}
	if r.maxMsgBytes == 0 {
		r.maxMsgBytes = MaxMsgBytesDefault
	}
	if r.maxInflight == 0 {
		r.maxInflight = MaxInflightMsgsDefault
	}
	if err := r.loadMembership(cfg.Voters); err != nil {
		return nil, err
	}
	r.becomeFollower(hs.Term, None)
	r.logger.Info("raft started", zap.Stringer("membership", r.membership()),
		zap.Uint64("term", uint64(r.term)), zap.Uint64("vote", uint64(r.vote)),
		zap.Uint64("commit", uint64(r.log.committed)), zap.Uint64("applied", uint64(r.log.applied)),
		zap.Uint64("last_index", uint64(r.log.lastIndex())))
	return r, nil
}

// Tick advances the core's logical clock by one tick.
func (r *Raft) Tick() {
	if r.role == RoleLeader {
		r.tickLeader()
	} else {
		r.tickElection()
	}
	r.checkInvariants()
}

// Step hands the core a message from a peer. Messages with a stale term are
// answered or ignored as Raft prescribes. A malformed message (unknown type,
// wrong recipient, unknown sender, entries that do not follow prevLogIndex...)
// returns an error wrapping ErrInvalidMessage and changes nothing; so does a
// well-formed one no correct peer could send now (an acknowledgement past our
// log, a second leader in our term). Any other error is a Storage read failure.
// Step never panics on what a peer sends.
func (r *Raft) Step(m Message) error {
	if err := r.validate(m); err != nil {
		return err
	}
	if ce := r.logger.Check(zap.DebugLevel, "step"); ce != nil {
		ce.Write(zap.Stringer("type", m.Type), zap.Uint64("peer", uint64(m.From)),
			zap.Uint64("msg_term", uint64(m.Term)), zap.Uint64("term", uint64(r.term)),
			zap.Uint64("index", uint64(m.Index)), zap.Int("entries", len(m.Entries)))
	}
	err := r.step(m)
	r.checkInvariants()
	return err
}

// step applies the term rules of §5.1 (with pre-vote and leader stickiness)
// and dispatches m to its role.
func (r *Raft) step(m Message) error {
	switch {
	case m.Term > r.term:
		if (m.Type == MsgVote || m.Type == MsgPreVote) && r.inLease() && !isTransferVote(m) {
			// Leader stickiness: a node that hears from a live leader neither
			// votes nor raises its term, so a rejoining node cannot depose it.
			if ce := r.logger.Check(zap.DebugLevel, "vote ignored in leader lease"); ce != nil {
				ce.Write(zap.Uint64("peer", uint64(m.From)), zap.Uint64("msg_term", uint64(m.Term)))
			}
			return nil
		}
		switch {
		case m.Type == MsgPreVote:
			// A pre-vote request never changes our term.
		case m.Type == MsgPreVoteResp && !m.Reject:
			// A granted pre-vote carries the term we asked for; counted below.
		case m.Type == MsgApp || m.Type == MsgHeartbeat || m.Type == MsgSnap:
			r.becomeFollower(m.Term, m.From)
		default:
			r.becomeFollower(m.Term, None)
		}
	case m.Term < r.term:
		r.stepStale(m)
		return nil
	}
	if m.Type == MsgVote || m.Type == MsgPreVote {
		return r.handleVoteRequest(m)
	}
	switch r.role {
	case RoleLeader:
		return r.stepLeader(m)
	case RoleCandidate, RolePreCandidate:
		return r.stepCandidate(m)
	default:
		return r.stepFollower(m)
	}
}

// stepStale answers a message from a lower term where the answer helps: a
// stale leader learns our term and steps down, and a pre-candidate with a
// stale term learns it and can campaign at a term that counts
// (etcd-io/etcd#8243). Everything else from a lower term is dropped.
func (r *Raft) stepStale(m Message) {
	switch m.Type {
	case MsgApp, MsgHeartbeat, MsgSnap:
		r.send(Message{Type: MsgAppResp, To: m.From})
	case MsgPreVote:
		r.send(Message{Type: MsgPreVoteResp, To: m.From, Term: r.term, Reject: true})
	}
}

// stepFollower handles a current-term message on a follower.
func (r *Raft) stepFollower(m Message) error {
	switch m.Type {
	case MsgApp:
		r.electionElapsed = 0
		r.lead = m.From
		r.leaderLost = false
		return r.handleAppend(m)
	case MsgHeartbeat:
		r.electionElapsed = 0
		r.lead = m.From
		r.leaderLost = false
		r.handleHeartbeat(m)
	case MsgSnap:
		r.electionElapsed = 0
		r.lead = m.From
		r.leaderLost = false
		return r.handleSnapshot(m)
	case MsgReadIndexResp:
		r.readStates = append(r.readStates, ReadState{Index: m.Index, RequestCtx: m.Context})
	case MsgTimeoutNow:
		r.handleTimeoutNow(m)
	}
	return nil
}

// stepLeader handles a current-term message on the leader.
func (r *Raft) stepLeader(m Message) error {
	switch {
	case m.Type == MsgApp || m.Type == MsgHeartbeat || m.Type == MsgSnap:
		// Election Safety makes this impossible from a correct peer.
		return fmt.Errorf("%w: %s from %d at term %d, this node leads that term", ErrInvalidMessage, m.Type, m.From, m.Term)
	case m.Type == MsgAppResp && m.Index > r.log.lastIndex():
		// A follower answers only about indexes we sent it.
		return fmt.Errorf("%w: MsgAppResp from %d about index %d past last index %d", ErrInvalidMessage, m.From, m.Index, r.log.lastIndex())
	}
	pr := r.prs[m.From]
	if pr == nil {
		// Not a member (any more): a removed node's late answer.
		return nil
	}
	pr.recentActive = true
	pr.ticksSinceHeard = 0
	switch m.Type {
	case MsgAppResp:
		return r.handleAppendResponse(m, pr)
	case MsgHeartbeatResp:
		r.handleHeartbeatResponse(m, pr)
	case MsgReadIndex:
		if err := r.leaderRead(m.From, m.Context); err != nil {
			// Too many reads pending: the follower's caller times out, as
			// it would had the request been lost.
			if ce := r.logger.Check(zap.DebugLevel, "read from follower dropped"); ce != nil {
				ce.Write(zap.Uint64("peer", uint64(m.From)), zap.Error(err))
			}
		}
	}
	return nil
}

// send queues m for the next Ready, stamping our id and, except for pre-vote
// messages whose term the caller chose, our term.
func (r *Raft) send(m Message) {
	m.From = r.id
	if m.Type != MsgPreVote && m.Type != MsgPreVoteResp {
		m.Term = r.term
	}
	r.msgs = append(r.msgs, m)
}

// Propose appends data to the log on a leader and returns the index and term
// of the new entry; the entry is committed only if the entry applied at that
// index later has that term. Followers return ErrNotLeader. The core keeps
// data: the caller must not modify it afterwards.
func (r *Raft) Propose(data []byte) (Index, Term, error) {
	if r.role != RoleLeader {
		return 0, 0, ErrNotLeader
	}
	if r.leadTransferee != None {
		return 0, 0, fmt.Errorf("%w: leadership transfer to %d in progress", ErrProposalDropped, r.leadTransferee)
	}
	if n := r.log.lastIndex() - r.log.committed; n >= UncommittedEntriesMax {
		return 0, 0, fmt.Errorf("%w: %d uncommitted entries, max %d", ErrProposalDropped, n, UncommittedEntriesMax)
	}
	e := Entry{Index: r.log.lastIndex() + 1, Term: r.term, Type: EntryNormal, Data: data}
	size := e.Size()
	if r.uncommittedBytes > 0 && r.uncommittedBytes+size > UncommittedBytesMax {
		return 0, 0, fmt.Errorf("%w: %d uncommitted bytes and %d proposed, max %d", ErrProposalDropped, r.uncommittedBytes, size, UncommittedBytesMax)
	}
	r.uncommittedBytes += size
	r.appendEntry(e)
	// Sent at the next Ready, so proposals made between two Readys travel
	// in one MsgApp per follower.
	r.appendPending = true
	r.checkInvariants()
	return e.Index, e.Term, nil
}

// Status returns the core's current state.
func (r *Raft) Status() Status {
	m, confIndex := r.conf.current()
	return Status{
		ID:           r.id,
		Role:         r.role,
		Term:         r.term,
		Vote:         r.vote,
		Lead:         r.lead,
		Commit:       r.log.committed,
		Applied:      r.log.applied,
		LastIndex:    r.log.lastIndex(),
		QuorumActive: r.quorumActive(),

		LeadTransferee:    r.leadTransferee,
		TimeoutCampaigns:  r.timeoutCampaigns,
		TransferCampaigns: r.transferCampaigns,
		ConfIndex:         confIndex,
		ConfPending:       confIndex > r.log.committed || m.Joint(),
	}
}

// ReportSnapshot tells the leader how sending the snapshot to id ended:
// delivered means the follower received and stored its data (it may not have
// installed it yet). Either way the follower leaves the snapshot state and is
// probed again, after the snapshot when it was delivered, so a lost
// acknowledgement cannot pause it forever; an undelivered snapshot is sent
// again when the probe finds the entries compacted.
func (r *Raft) ReportSnapshot(id NodeID, delivered bool) {
	if r.role != RoleLeader || id == r.id {
		return
	}
	pr, ok := r.prs[id]
	if !ok || pr.state != stateSnapshot {
		return
	}
	r.logger.Info("snapshot reported", zap.Uint64("peer", uint64(id)),
		zap.Uint64("snapshot_index", uint64(pr.pendingSnapshot)), zap.Bool("delivered", delivered))
	pr.snapshotDone(delivered)
	r.checkInvariants()
}

// ReportUnreachable tells the core that a message to id could not be delivered,
// so the leader falls back to probing that follower.
func (r *Raft) ReportUnreachable(id NodeID) {
	if r.role != RoleLeader || id == r.id {
		return
	}
	if pr, ok := r.prs[id]; ok && pr.state == stateReplicate {
		pr.becomeProbe()
	}
}
