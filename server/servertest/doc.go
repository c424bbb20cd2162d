// Package servertest runs raftlock clusters inside one test process: N real
// server.Nodes, each with its own bbolt log in a temporary directory, talking
// HTTP/2 (h2c) over loopback listeners bound on 127.0.0.1:0. A node can be
// stopped (its goroutines end; its fsynced log stays) and restarted on the
// same addresses and data dir, so tests can fail leaders and let followers
// fall behind. Recorder is a state machine that records what it applied;
// with Options.Locks the nodes run the lock table instead, and tests drive
// them over the HTTP API at URL(i), which stays the same across restarts.
//
// It is for tests and benchmarks only; nothing in the product imports it. It
// must never reach into a node's internals: it sees what the server package
// exports and what the HTTP API answers.
package servertest
