// Package server is a raftlock node: it turns a Config into a running process
// part, wiring the durable log (consensus/boltstore), the peer transport
// (consensus/transport) and the Raft driver (consensus/driver) together, and
// serving the client listener (echo) with the health and cluster endpoints.
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
//     ends, then stops accepting, lets the driver finish its current Ready
//     (whose write is already fsynced) and closes everything it opened.
//   - The HTTP error shape {"error":{"code","message"}} and the one table that
//     maps errors to (status, code).
//
// What it must never do: decide anything Raft decides (roles, commitment,
// terms come from the driver's Status), read a clock to judge safety, or log
// and return the same error.
package server
