package driver

// Bounds on the queues that feed the node loop from outside. A full inbound
// queue drops the message (Raft tolerates loss); a full proposal or read queue
// makes the caller wait on its context.
const (
	// InboundQueueMax bounds peer messages waiting for the loop.
	InboundQueueMax = 4096
	// ProposalQueueMax bounds proposals waiting for the loop.
	ProposalQueueMax = 4096
	// ReadQueueMax bounds linearizable reads waiting for the loop.
	ReadQueueMax = 4096
	// OpQueueMax bounds the membership, transfer and progress requests
	// waiting for the node loop; callers block (with their context) beyond.
	OpQueueMax = 64
	// LoopBatchMax bounds the inputs the loop takes before handling a Ready,
	// so a flood of input cannot starve persistence and apply.
	LoopBatchMax = 1024
)

// Snapshots and compaction (DESIGN.md §3.5, issue 8).
const (
	// SnapshotEntriesDefault is Config.SnapshotEntries when zero: the
	// entries applied between two snapshots of the state machine.
	SnapshotEntriesDefault = 10_000
	// CompactionTailEntriesDefault is Config.CompactionTailEntries when
	// zero: the entries before a snapshot the log keeps, so a follower a
	// little behind catches up from the log rather than by a snapshot.
	CompactionTailEntriesDefault = 5_000
	// SnapshotDutyFactor paces snapshots of a large state machine: a new one
	// starts only after this many times the last one's duration has passed
	// since it ended, so snapshotting takes at most about a tenth of the
	// time (applying waits while one is written), however often
	// SnapshotEntries entries are applied.
	SnapshotDutyFactor = 10
)

// ReadTimeoutTicks is how long an unconfirmed linearizable read may wait for
// the leader's answer before the driver fails it (two election timeouts):
// past that the leader has dropped it or is gone, and the caller may retry.
func ReadTimeoutTicks(electionTicks int) uint64 { return 2 * uint64(electionTicks) }
