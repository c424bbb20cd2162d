package consensus

import "fmt"

// Index is the position of an entry in the Raft log; the first entry is 1.
type Index uint64

// Term is a Raft term: a logical clock that only grows.
type Term uint64

// NodeID names a member of the cluster; 0 means none.
type NodeID uint64

// None is the NodeID meaning no node (no vote, no known leader).
const None NodeID = 0

// EntryType says how the driver treats an entry's Data.
type EntryType uint8

const (
	// EntryNormal carries a command for the state machine.
	EntryNormal EntryType = iota
	// EntryNoop is the empty entry a new leader appends to commit its term
	// (§5.4.2, Figure 8). The driver never hands it to the state machine.
	EntryNoop
	// EntryConfChange carries a Membership (EncodeMembership): the
	// configuration every node uses from the moment the entry is in its log
	// (§6). The driver hands it to the application when it is applied.
	EntryConfChange
)

// Entry is one record of the replicated log.
type Entry struct {
	Index Index     `codec:"i"`
	Term  Term      `codec:"t"`
	Type  EntryType `codec:"y"`
	Data  []byte    `codec:"d"`
}

// Size is the entry's approximate encoded size in bytes, used for batching.
func (e *Entry) Size() uint64 {
	// Index, term, type and framing are a few bytes each.
	return uint64(len(e.Data)) + entryOverheadBytes
}

// HardState is the state that must be on disk before any message that depends on
// it leaves: the current term, the vote in it, and the highest known commit index.
type HardState struct {
	Term   Term   `codec:"t"`
	Vote   NodeID `codec:"v"`
	Commit Index  `codec:"c"`
}

// IsEmpty reports whether hs is the zero HardState.
func (hs HardState) IsEmpty() bool { return hs == HardState{} }

// MessageType is the kind of a Message.
type MessageType uint8

const (
	// MsgApp is AppendEntries: Index/LogTerm are prevLogIndex/prevLogTerm.
	MsgApp MessageType = iota + 1
	// MsgAppResp answers MsgApp. On success Index is the follower's new match
	// index; on Reject, Index is the rejected prevLogIndex and RejectHint/LogTerm
	// are the conflict hints for fast backtracking.
	MsgAppResp
	// MsgVote is RequestVote: Index/LogTerm are the candidate's last index/term.
	MsgVote
	// MsgVoteResp answers MsgVote.
	MsgVoteResp
	// MsgPreVote asks whether a vote would be granted at Term without anyone
	// raising their term (§9.6 pre-vote).
	MsgPreVote
	// MsgPreVoteResp answers MsgPreVote.
	MsgPreVoteResp
	// MsgHeartbeat keeps followers quiet and carries the commit index the
	// follower may learn: the leader's, capped at the follower's match index.
	// Context, when set, numbers a ReadIndex confirmation round.
	MsgHeartbeat
	// MsgHeartbeatResp answers MsgHeartbeat; it counts as contact for CheckQuorum
	// and for ReadIndex confirmation (Context echoes the heartbeat's).
	MsgHeartbeatResp
	// MsgReadIndex asks the leader for a read index on a follower's behalf.
	MsgReadIndex
	// MsgReadIndexResp carries the read index (Index) back to the follower,
	// with the request's Context.
	MsgReadIndexResp
	// MsgSnap is InstallSnapshot: Snapshot names the leader's latest
	// snapshot (index, term, voters). The snapshot's data never travels in
	// the message: the transport streams it beside the message and hands the
	// message to the receiving node only once the data is durable there.
	// The follower answers with a MsgAppResp.
	MsgSnap
	// MsgTimeoutNow tells an up-to-date voter to campaign at once (leadership
	// transfer, §3.10 of the Raft thesis). Its vote requests carry
	// transferContext, so voters that still hear from the old leader answer
	// them instead of ignoring them as leader stickiness would.
	MsgTimeoutNow
)

var messageTypeNames = [...]string{
	MsgApp: "MsgApp", MsgAppResp: "MsgAppResp", MsgVote: "MsgVote", MsgVoteResp: "MsgVoteResp",
	MsgPreVote: "MsgPreVote", MsgPreVoteResp: "MsgPreVoteResp", MsgHeartbeat: "MsgHeartbeat",
	MsgHeartbeatResp: "MsgHeartbeatResp", MsgReadIndex: "MsgReadIndex",
	MsgReadIndexResp: "MsgReadIndexResp", MsgSnap: "MsgSnap", MsgTimeoutNow: "MsgTimeoutNow",
}

// String returns the type's name, as in "MsgApp".
func (t MessageType) String() string {
	if int(t) < len(messageTypeNames) && messageTypeNames[t] != "" {
		return messageTypeNames[t]
	}
	return fmt.Sprintf("MessageType(%d)", uint8(t))
}

// Valid reports whether t is a message type a peer may send.
func (t MessageType) Valid() bool { return t >= MsgApp && t <= MsgTimeoutNow }

// Message is what Raft nodes send each other. The meaning of Index, LogTerm and
// Context depends on Type (see the MessageType constants).
type Message struct {
	Type       MessageType `codec:"y"`
	To         NodeID      `codec:"to"`
	From       NodeID      `codec:"fr"`
	Term       Term        `codec:"t"`
	LogTerm    Term        `codec:"lt"`
	Index      Index       `codec:"i"`
	Entries    []Entry     `codec:"e"`
	Commit     Index       `codec:"c"`
	Reject     bool        `codec:"r"`
	RejectHint Index       `codec:"rh"`
	Context    []byte      `codec:"x"`
	// Snapshot is set on MsgSnap only.
	Snapshot *SnapshotMeta `codec:"s,omitempty"`
}

// SnapshotMeta describes a snapshot of the state machine: it holds the effect
// of every entry up to and including Index, whose term is Term, in a cluster
// whose membership at Index was Voters, Outgoing, Learners and ConfContext
// (see Membership). The core handles only this metadata; the snapshot's data
// lives outside it (a file beside the log).
type SnapshotMeta struct {
	Index       Index    `codec:"i"`
	Term        Term     `codec:"t"`
	Voters      []NodeID `codec:"v"`
	Outgoing    []NodeID `codec:"o,omitempty"`
	Learners    []NodeID `codec:"l,omitempty"`
	ConfContext []byte   `codec:"x,omitempty"`
}

// Membership returns the membership the snapshot records (sharing its slices).
func (s *SnapshotMeta) Membership() Membership {
	return Membership{Voters: s.Voters, Outgoing: s.Outgoing, Learners: s.Learners, Context: s.ConfContext}
}

// SetMembership records m as the snapshot's membership (sharing its slices).
func (s *SnapshotMeta) SetMembership(m Membership) {
	s.Voters, s.Outgoing, s.Learners, s.ConfContext = m.Voters, m.Outgoing, m.Learners, m.Context
}

// IsEmpty reports whether s names no snapshot.
func (s SnapshotMeta) IsEmpty() bool { return s.Index == 0 }

// ReadState says that a read requested with RequestCtx is linearizable once the
// local state machine has applied Index.
type ReadState struct {
	Index      Index
	RequestCtx []byte
}

// Role is a node's part in the protocol.
type Role uint8

const (
	// RoleFollower follows a leader or waits for one.
	RoleFollower Role = iota
	// RolePreCandidate is polling for a pre-vote without raising its term.
	RolePreCandidate
	// RoleCandidate has raised its term and asks for votes.
	RoleCandidate
	// RoleLeader replicates the log.
	RoleLeader
)

// String returns the role's name, as in "pre-candidate".
func (r Role) String() string {
	switch r {
	case RoleFollower:
		return "follower"
	case RolePreCandidate:
		return "pre-candidate"
	case RoleCandidate:
		return "candidate"
	case RoleLeader:
		return "leader"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// SoftState is the volatile state a Ready reports when it changed.
type SoftState struct {
	Lead NodeID
	Role Role
}

// Ready is a batch of work the core hands the driver; see the package doc for
// the order in which the driver must carry it out.
type Ready struct {
	// SoftState is non-nil when the leader or role changed.
	SoftState *SoftState
	// HardState is to be persisted when it is not empty.
	HardState HardState
	// Entries are to be persisted, replacing any stored suffix from Entries[0].Index.
	Entries []Entry
	// Messages are to be sent after HardState and Entries are durable.
	Messages []Message
	// CommittedEntries are to be applied in order, after step 1 made Entries durable.
	CommittedEntries []Entry
	// ReadStates are reads that may be served once their Index is applied.
	ReadStates []ReadState
	// Snapshot, when set, is a snapshot received from the leader to install
	// before anything else of this Ready: its data is already on disk (the
	// transport put it there); the driver makes it the start of the stored
	// log, discarding every stored entry, then restores the state machine
	// from it. CommittedEntries is empty in such a Ready.
	Snapshot *SnapshotMeta
}
