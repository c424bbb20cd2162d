package consensus

import (
	"errors"
	"math/rand/v2"

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

// Config configures a Raft core.
type Config struct {
	// ID is this node's id; never None.
	ID NodeID
	// Voters is the cluster's voting membership, this node included. Until
	// membership changes land, every node is started with the same Voters.
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
	// MaxMsgBytes bounds the entry bytes in one MsgApp (at least one entry is sent).
	MaxMsgBytes uint64
	// MaxInflightMsgs bounds the MsgApps in flight to one follower in pipeline mode.
	MaxInflightMsgs int
	// Applied is the last index the state machine applied before this start
	// (0 when it is rebuilt from the log).
	Applied Index
	// Logger is optional; nil logs nothing.
	Logger *zap.Logger
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
}

// Raft is the deterministic Raft core. It is not safe for concurrent use: its
// owner (the driver or the simulator) serializes every call.
type Raft struct{}

// New returns a core that starts as a follower from the state in cfg.Storage.
func New(cfg Config) (*Raft, error) { panic("TODO(#3): consensus core") }

// Tick advances the core's logical clock by one tick.
func (r *Raft) Tick() { panic("TODO(#3)") }

// Step hands the core a message from a peer. Messages with a stale term are
// answered or ignored as Raft prescribes; malformed messages return an error.
func (r *Raft) Step(m Message) error { panic("TODO(#3)") }

// Propose appends data to the log on a leader and returns the index and term
// of the new entry; the entry is committed only if the entry applied at that
// index later has that term. Followers return ErrNotLeader.
func (r *Raft) Propose(data []byte) (Index, Term, error) { panic("TODO(#3)") }

// ReadIndex requests a linearizable read; a ReadState with the same rctx
// appears in a later Ready once leadership is confirmed by a quorum.
func (r *Raft) ReadIndex(rctx []byte) error { panic("TODO(#3)") }

// HasReady reports whether Ready would return any work.
func (r *Raft) HasReady() bool { panic("TODO(#3)") }

// Ready returns the pending work; the driver must Advance with it before the next Ready.
func (r *Raft) Ready() Ready { panic("TODO(#3)") }

// Advance tells the core that rd was persisted, sent and applied.
func (r *Raft) Advance(rd Ready) { panic("TODO(#3)") }

// Status returns the core's current state.
func (r *Raft) Status() Status { panic("TODO(#3)") }

// ReportUnreachable tells the core that a message to id could not be delivered,
// so the leader falls back to probing that follower.
func (r *Raft) ReportUnreachable(id NodeID) { panic("TODO(#3)") }
