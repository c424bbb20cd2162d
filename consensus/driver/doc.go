// Package driver runs a Raft core as a live node: one goroutine that ticks the
// core on a wall clock, steps inbound messages, takes proposals and reads, and
// carries out every Ready in the order the core's contract demands: persist (one
// fsynced write through the Store), send (through the Transport), apply (to the
// StateMachine), advance.
//
// It owns proposal futures (resolved at apply time with the state machine's
// result) and linearizable reads (ReadIndex, then wait for the applied index).
// It knows nothing of locks or HTTP: the state machine and the transport are
// interfaces declared here and implemented elsewhere.
//
// It also owns snapshots and compaction (snapshot.go): every SnapshotEntries
// applied entries (paced by SnapshotDutyFactor for a large state machine) the
// state machine writes a snapshot file on a goroutine of its own while the
// loop keeps ticking, heartbeating and replicating; entries committed
// meanwhile wait in a backlog, so the snapshot is of exactly one applied
// index. Once the file is durable the store records it and the log is
// compacted up to CompactionTailEntries before it. A snapshot received from
// the leader (Ready.Snapshot) is installed in the store before the Ready's
// writes and the state machine restored from it before anything is applied;
// at start the state machine is restored from the latest snapshot and the
// core starts with its index applied.
package driver
