// Package consensus is raftlock's Raft core: a deterministic state machine that
// owns roles, terms, votes, the log, replication progress and commitment.
//
// The core has no goroutines, no clock, no network and no disk. Time enters only
// through Tick, randomness only through the *rand.Rand in Config, messages only
// through Step, and everything the core wants done leaves through a Ready. It
// knows nothing of locks: entries carry opaque bytes.
//
// The driver contract, for every Ready taken from a Raft (HasReady, Ready):
//
//  1. Persist: first, when Ready.Snapshot is set, install it: its data is
//     already durable beside the log (the transport stored it before handing
//     over the MsgSnap); make it the start of the stored log, dropping every
//     stored entry, in one fsynced write. Then write Ready.HardState (when
//     not empty) and Ready.Entries to stable storage in one fsynced
//     transaction. Entries[0].Index may be at or below the last stored index:
//     the stored suffix from that index on is replaced.
//  2. Send: only after step 1 is durable, send Ready.Messages. A vote, a term
//     and an acknowledgement never leave before they are on disk. One
//     exception is allowed (§10.2.1 of the Raft thesis): a leader's MsgApp,
//     MsgHeartbeat and MsgSnap may leave before step 1 when the term they
//     carry and the leader's vote for itself in it are already durable, so
//     the leader writes its log in parallel with its followers (its own copy
//     counts only after Advance).
//     Persisting a HardState that differs from the stored one only in Commit
//     may also wait for the next write: the commit index is re-learned after
//     a restart.
//  3. Apply: when Ready.Snapshot is set, restore the state machine from its
//     data (CommittedEntries is then empty). Apply Ready.CommittedEntries in
//     order to the state machine and hand Ready.ReadStates to the readers
//     waiting on them.
//  4. Advance: call Advance(rd) with the same Ready. Only then does the core count
//     the persisted entries towards its own match index, so in a one-node cluster
//     too nothing commits before it is durable.
//
// What the core implements (DESIGN.md §3.2): roles follower, pre-candidate,
// candidate and leader; pre-vote and CheckQuorum, always on, with leader
// stickiness (a node that heard from a live leader within the election
// timeout ignores vote requests); one persisted vote per term; AppendEntries
// with fast backtracking; per-follower probe and pipelined replication with a
// bounded in-flight window; the current-term commit rule with a no-op entry
// per new leader; ReadIndex (queued until the leader commits in its term,
// confirmed by a heartbeat round, dropped when leadership is lost); and
// ForgetLeader for fast failover; log compaction and InstallSnapshot (§7): a
// follower whose next entry is compacted away gets a MsgSnap naming the latest
// snapshot (Storage.Snapshot) and is paused until it answers or the
// transport calls ReportSnapshot. The core never holds snapshot data, and
// never compacts: the driver snapshots the state machine and compacts the
// storage, never past the stored snapshot. The core never panics on what
// peers send: Step returns ErrInvalidMessage. Membership changes (§6:
// learners, and joint consensus C_old,new -> C_new, each membership used as
// soon as its entry is in the log; ProposeConfChange) and leadership
// transfer (TimeoutNow; TransferLeadership).
//
// The sub-packages hold what touches the outside world: the bbolt store, the
// HTTP/2 transport and the driver loop.
package consensus
