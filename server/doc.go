// Package server is a raftlock node: it turns a Config into a running process
// part, wiring the durable log (consensus/boltstore), the peer transport
// (consensus/transport), the Raft driver (consensus/driver) and the lock
// table (locks) together, and serving the client API of DESIGN.md §5 (echo)
// with the health, cluster and metrics endpoints.
//
// What it owns:
//
//   - Config: every setting of `raftlock serve`, its defaults and its
//     validation (Config.Validate). Flags and RAFTLOCK_* variables are parsed
//     in main.go only; this package has no flag or other package-level state,
//     so several nodes run in one test process.
//   - Node names: members are named on the command line (n1, n2...); each name
//     maps to its consensus.NodeID by NodeIDOf (FNV-1a 64 of the name), the
//     same on every node and across restarts.
//   - The node's lifecycle: New opens the data dir (refusing one held by
//     another process) and binds both listeners; Run serves until its context
//     ends, then stops accepting, ends waits and streams, lets the driver
//     finish its current Ready (whose write is already fsynced) and closes
//     everything it opened.
//   - The lock table's adapter (lockFSM): applies committed entries, feeds
//     the hub that wakes blocking reads, event streams and queued acquires
//     (never blocking the Raft loop), and keeps the leader's lease clock in
//     step with the leases the log creates and removes.
//   - The client API: handlers validate a request (strict JSON, limits,
//     Idempotency-Key as the command's request id), stamp the leader's wall
//     time, propose the command and map the table's result to HTTP through
//     errorTable, the one table from errors to (status, code).
//   - Forwarding: a follower passes a request that needs the leader to the
//     leader's peer listener (PathForwardPrefix), one hop at most; reads are
//     linearizable (ReadIndex on the leader) unless ?stale=true.
//   - The lease clock (runLeaseClock): on the leader only; resets deadlines
//     on taking office, expires leases past their deadline, commits
//     CheckpointLeases of quiet leases every CheckpointInterval; keepalives
//     are answered after a quorum check without a log write, except a late
//     one, which first clears its lease's checkpoint.
//   - Metrics in the Prometheus text format from a registry per node, and
//     the access log (zap: route, code, duration, request id).
//
// What it must never do: decide anything Raft decides (roles, commitment,
// terms come from the driver's Status), read a clock to judge safety (the
// lease clock's monotonic readings only decide when to propose an expiry),
// block the Raft loop, or log and return the same error.
package server
