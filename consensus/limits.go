package consensus

import "math"

// entryOverheadBytes approximates an encoded entry's bytes besides its Data:
// index, term, type and msgpack framing.
const entryOverheadBytes = 24

// MaxMsgBytesDefault is the Config.MaxMsgBytes used when the field is zero:
// the entry bytes one MsgApp carries at most (at least one entry is always sent).
const MaxMsgBytesDefault = 1 << 20

// MaxInflightMsgsDefault is the Config.MaxInflightMsgs used when the field is
// zero: how many MsgApps a leader pipelines to one follower before it waits for
// acknowledgements.
const MaxInflightMsgsDefault = 256

// MaxInflightMsgsMax bounds Config.MaxInflightMsgs: the in-flight window of each
// follower is a ring of this many indexes at most.
const MaxInflightMsgsMax = 1 << 16

// UncommittedEntriesMax bounds the entries a leader holds beyond its commit
// index; Propose returns ErrProposalDropped past it.
const UncommittedEntriesMax = 1 << 16

// UncommittedBytesMax bounds the entry bytes a leader accepted by Propose that
// have not been applied yet; Propose returns ErrProposalDropped past it. One
// proposal is always accepted when nothing is outstanding, however large.
const UncommittedBytesMax = 64 << 20

// CommittedBytesMax bounds the entry bytes of Ready.CommittedEntries (at least
// one entry is handed out when any is committed and unapplied).
const CommittedBytesMax = 4 << 20

// PendingReadsMax bounds the ReadIndex requests a leader holds while it
// confirms its leadership; ReadIndex returns ErrProposalDropped past it.
const PendingReadsMax = 4096

// unstableShrinkFactor says when the unstable tail's backing array is copied
// into a smaller one after entries became stable: when its capacity exceeds
// this many times its length.
const unstableShrinkFactor = 4

// readContextBytes is the size of the context a leader puts in a heartbeat to
// confirm pending reads: a big-endian uint64 sequence number.
const readContextBytes = 8

// TermMax is the highest term a message may carry. Campaigning adds one to a
// term, so a peer claiming the largest uint64 would otherwise wrap it to zero.
const TermMax = math.MaxUint64 - 1<<32

// VotersMax bounds the voters a snapshot's metadata may list: more than any
// sensible cluster, few enough that checking them for duplicates is cheap.
const VotersMax = 64

// LearnersMax bounds the learners a membership may list.
const LearnersMax = 16

// ConfContextBytesMax bounds the application's context a membership entry
// (and a snapshot's metadata) carries: the member directory of VotersMax +
// LearnersMax members with their names and addresses fits well within it.
const ConfContextBytesMax = 64 << 10

// PromoteLagEntriesMax is how far behind the leader's last index a learner
// may be and still be promoted: a voter that lags further would slow commits
// (or stall them, in a small cluster) while it catches up.
const PromoteLagEntriesMax = 1024

// SnapshotMetaBytesMax bounds a snapshot's encoded metadata (SnapshotMeta):
// an index, a term, up to 2*VotersMax+LearnersMax ids of at most ten bytes
// each and a context of ConfContextBytesMax, with room for framing. The
// transport, the snapshot files and the store refuse larger metadata.
const SnapshotMetaBytesMax = ConfContextBytesMax + (2*VotersMax+LearnersMax)*10 + 256
