// Command chaos is raftlock's fault-injection harness (issue 9). It starts N
// real `raftlock serve` processes on loopback, each with its own data dir,
// runs C concurrent clients against random nodes, injects faults on a
// schedule drawn from a seed, records every operation, and then judges the
// run:
//
//  1. the whole history is linearizable under locks/lockmodel (the HTML
//     visualization is written to the results dir when it is not);
//  2. per lock and election, grants' tokens strictly increase in real time;
//  3. the fenced resource, a store inside the harness that every client
//     believing it holds a lock writes to, accepted writes in token order
//     only, each from the client the token was granted to;
//  4. every acknowledged create, acquire, release, campaign, proclaim,
//     resign and revoke is in the committed log with the answer the client
//     got (grants at the index that is their token);
//  5. every node's committed log agrees with every other's, and the lock
//     table replayed from each node's log is identical at the same index;
//  6. liveness: once the last fault heals, every node names the same leader
//     and a write commits within LivenessTimeout.
//
// The exit status is 0 when every verdict holds, 1 on a violation (with the
// seed and the command line that replays the schedule), 2 on bad flags, 3
// when the harness itself failed (a node did not start, a log did not open)
// and 4 when the linearizability check ran out of time.
//
// # Clients
//
// Clients speak raw HTTP, not the SDK: the SDK retries and keeps sessions
// alive on its own, which hides the outcome of individual requests. Here one
// logical request keeps one Idempotency-Key over its attempts; each attempt
// has its own timeout; an answer of no_leader or timeout, a refused or cut
// connection, is retried on another random node until OpDeadline; a request
// that never got a definite answer is recorded as of unknown outcome.
//
// # Faults
//
// Every node's --initial-cluster points at proxies, one per directed link
// (i reaching j), which the harness can cut (a cut link stops moving bytes,
// like a network that drops packets: TCP streams stall and resume intact
// when it heals) or slow down. The schedule (schedule.go) is a function of
// the seed, the node count and the duration alone; which node "the leader"
// is, is resolved when the fault fires. Fault kinds: SIGKILL and restart
// (leader favoured), SIGSTOP/SIGCONT pauses, a leader paused for longer than
// the lease ttl, majority/minority partitions, an isolated leader, a bridge
// (two sides that only one node connects), flapping partitions, slow
// links, and a node that loses its data dir (wipe.go): it is killed, its
// data deleted, removed from the membership through the others, and started
// again empty with --join, to come back as a learner that promotes itself.
// A node must never come back empty under its old identity without the
// removal: having forgotten its vote, it could vote twice in a term.
//
// # Process hygiene
//
// The harness signals only the processes it started, by pid. Each runs in
// its own process group with a parent-death signal (Linux), and the harness
// kills every child on return, on SIGINT/SIGTERM and on a panic in any of its
// goroutines. Every loop is bounded by the run's duration or a named limit;
// every address is on 127.0.0.1.
package main
