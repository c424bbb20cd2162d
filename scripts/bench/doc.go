// Command bench is raftlock's benchmark (issue 11): it starts a 3-node
// raftlock cluster of real `raftlock serve` processes on loopback, with
// default durability, and with --vs-etcd a 3-member etcd cluster on other
// loopback ports, runs the same workloads against both, alternating run by
// run, and prints a table with the raftlock/etcd ratio of each figure,
// beside the machine facts (nproc, fsync latency in the data dir, load
// average) and every node's RSS. scripts/bench.sh builds raftlock and this
// program and runs it; docs/performance.md explains the workloads and holds
// the baseline.
//
// Workloads: uncontended lock pairs at C clients (SDK, and raw HTTP for
// raftlock), 16 clients contending for one lock, lease create+revoke,
// keepalives over 10,000 live leases (with a check that none expired while
// renewed), leader SIGKILLs under 16 clients (first grant after the kill,
// longest gap), and RSS while holding N locks.
//
// Each system is driven as its users would: raftlock through the SDK in
// client/ (a Client, Session and Mutex per benchmark client), etcd through
// clientv3's concurrency package (a Client, Session and Mutex per client).
//
// `bench node` is a raftlock node of the same server package as `raftlock
// serve`, CPU-profiled for its whole life: --profile runs a workload against
// a cluster of them and prints `go tool pprof -top` of the leader, because
// the raftlock binary serves no /debug/pprof.
//
// This is its own module (the etcd client and gRPC stay out of raftlock's
// go.mod); it must never be imported, and it only ever sends traffic to the
// loopback clusters it started itself.
package main
