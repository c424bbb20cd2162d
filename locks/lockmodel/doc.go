// Package lockmodel is the Porcupine linearizability model of raftlock's lock,
// lease and election API as a client sees it (DESIGN.md §4 and §5): operations
// with their inputs and outputs, not the commands inside the log.
//
// It owns five things:
//
//   - Input and Output: one client operation and its answer, as recorded;
//   - Model: the sequential specification, nondeterministic where the server
//     decides alone (a lease may expire at any moment), partitioned per lock and
//     per election so that checking stays fast;
//   - Recorder: a thread-safe history recorder for concurrent test clients;
//   - Check: Porcupine plus cross-partition checks on fencing tokens and lease
//     lifetimes, with an HTML visualization when a history is rejected;
//   - Drive: random concurrent clients for any sequential Server (the lock
//     table behind a mutex), recording a history to Check.
//
// The semantics it enforces, and the freedoms it allows:
//
//  1. A lock or election has at most one holder. A grant needs the lock free
//     and the lease alive; its token is a log index, so it is greater than
//     every index the partition saw before (grant tokens, lease ids, terms):
//     tokens of one lock strictly increase and are never reused. Across locks
//     tokens are ordered but not unique: one expiry or revoke entry hands
//     every lock it frees to that lock's waiter with the same token.
//  2. Release (resign) with the holder's token (term) frees the lock
//     (election); any other token gets not_holder (not_leader). Proclaim
//     needs the leader's term. Fence(N) is valid iff N is the current
//     holder's token (FenceHolderOnly, the default); Options can select
//     FenceHolderOrNewer, where a fence of a free lock is also valid with a
//     token greater than every grant of that lock. Read returns the current
//     holder or free.
//  3. Any lease may expire at any linearization point unless an operation at
//     that point proves it alive (keepalive ok, a grant, a read showing it as
//     holder). Once gone it never comes back; its locks and elections are freed
//     in the same step. The model decides expiry lazily, right before the first
//     operation the expiry could change, which admits exactly the histories an
//     eager choice would.
//  4. A waiting acquire or campaign is linearized at its grant, anywhere between
//     invocation and response; FIFO order among waiters is not checked (the
//     lock table's own tests check it), so the model accepts slightly more.
//  5. An operation whose outcome is unknown (StatusUnknown: timeout, lost
//     connection, no response) may take effect at any point after its
//     invocation or never; Check moves its return to +infinity, or back to
//     the first answer that shows it can no longer take effect (clip.go). A
//     grant of unknown outcome holds an unknown token, pinned by the first
//     operation that observes it.
//  6. An acquire or campaign by the lease that already holds the lock (a
//     retry) may answer with the current token or with lock_held (the lock
//     table's answer); it creates no new token.
//
// Partitioning: every operation on a lock or election name goes to that
// name's partition; lease operations (create, keepalive, revoke) are copied
// into every partition whose operations mention the lease, or form a partition
// of their own. Checking each partition alone is sound (a correct history is
// never rejected) but cannot see one lease's expiry across two locks; Check
// therefore adds n log n checks over the whole history: no index is both a
// created lease's id and a token, indices follow real time across all
// objects, and a lease proven gone is never proven alive afterwards.
//
// Cost: lease expiry is decided lazily, so each partition keeps one model
// state and a history without lost answers checks in about linear time
// (BenchmarkCheck on a loaded 2-CPU machine: 4,900 operations in 0.3s,
// 19,000 in 3-4s). Every operation of unknown outcome that nothing later makes
// inert (an acquire with a lease that lives on, a release nobody supersedes)
// can be linearized anywhere after it, and the search grows exponentially with
// how many such operations overlap: with 6% of answers lost, 1,000
// operations check in 5-40ms and 4,900 in 3-11s, and 19,000 did not finish
// in a minute. Prefer many short histories, or many lock names, to one long
// one.
//
// Locks and elections are separate name spaces. Record one operation per
// logical request, spanning the client's retries under one request id, and
// never record stale reads (?stale=true): they are not linearizable.
//
// lockmodel imports no other raftlock package, so every test can use it. It
// must never be used outside tests to decide anything.
package lockmodel
