// Package locks is raftlock's replicated state machine (DESIGN.md §4): the
// lock table of leases, locks with FIFO queues of waiters, elections, and the
// request-id records of exactly-once apply; plus LeaseClock, the leader-side
// timer of lease deadlines.
//
// # What it must never do
//
// locks imports nothing of raftlock and knows nothing of Raft. It never reads
// a clock, starts a goroutine, does I/O beyond the io.Writer/io.Reader handed
// to Snapshot and Restore, logs, or draws random numbers. Time enters only as
// values: the proposing leader's wall time inside each Command, and monotonic
// readings passed to LeaseClock. Nothing here is safe for concurrent use; the
// owner (the server's apply loop) serializes access.
//
// # Applying the log
//
// The server encodes a Command with EncodeCommand (which runs ValidateCommand;
// call it before proposing), proposes the bytes, and feeds every committed
// entry to Table.Apply(index, data) in log order. Apply validates again, is
// deterministic, never panics on bad bytes and never blocks. Its Result carries
// Err (nil, or wrapping one sentinel: ErrInvalidArgument, ErrTooLarge,
// ErrNotFound, ErrLockHeld, ErrNotHolder, ErrStaleToken, ErrNotLeader; Code
// maps it to the DESIGN.md §5 code) and the payload of the command. After each
// Apply, Table.Changes lists the locks, elections and leases that entry changed,
// so the server can wake blocking queries and event streams; every object also
// carries ModifyIndex, the index of the last entry that changed it.
//
// Identifiers: a lease's id is the index of the entry that created it; a
// grant's fencing token (an election's term) is the index of the entry that
// granted it, so tokens of one lock strictly increase and are never reused.
//
// # Commands
//
//   - CreateLease{TTL}: Result.LeaseID, Result.TTL. TTL 0 means TTLDefault.
//   - RevokeLease{LeaseID} (client) and ExpireLease{LeaseID} (the leader's
//     LeaseClock): in that one entry, the lease's waits are withdrawn, then its
//     locks and elections are freed in sorted order (locks first), each handed
//     to its first waiter whose lease is alive at that step. ErrNotFound when
//     the lease is gone. Result.Released counts what was freed.
//   - CheckpointLeases{Checkpoints}: records each lease's remaining time; see
//     LeaseClock for how the leader uses it.
//   - Acquire{Name, LeaseID | TTL, Owner, Value, Wait, Election}: grants a
//     free lock (Result.Token, Result.Holder); on a held one refuses with
//     ErrLockHeld and the current Result.Holder, or with Wait enqueues the lease
//     (Result.Queued). LeaseID 0 creates a lease of TTL for this object alone
//     (Result.LeaseID = the entry's index); releasing the object or cancelling
//     its wait revokes that lease. With Election, Name is an election (a
//     separate namespace) and Value its value: this is campaign.
//   - Release{Name, Token}: frees lock Name held with Token, else ErrNotHolder.
//   - CancelWait{Name, LeaseID, Election}: withdraws the wait
//     (Result.Withdrawn); if the grant won the race, Result.Granted is set with
//     the grant in Result.Token and Result.Holder, and the lock stays held (the
//     server answers with it, or releases it if its client is gone). ErrNotFound
//     when the lease neither waits nor holds.
//   - Proclaim{Name, Token, Value} and Resign{Name, Token}: change the value of
//     or give up election Name led with term Token, else ErrNotLeader.
//   - CreateACLToken{ACLName, ACLRules, SecretHash, TTL}: adds an ACL token
//     whose accessor is the entry's index (Result.Accessor; Result.ExpiresAt
//     is the command time + TTL, 0 without one). Tokens expired at the
//     command's time are deleted first. Only the SHA-256 of the secret is in
//     the log and the table; ACLTokenByHash finds a token by it.
//   - DeleteACLToken{Accessor}: deletes the token, else ErrNotFound. Its
//     leases stay.
//
// CreateLease and Acquire (without LeaseID) carry the Creator of the new
// lease, the ACL token it belongs to; the server lets only that token (or an
// admin) use the lease. The table stores the rules and offers Allows (the
// longest matching prefix decides) but authorizes nothing itself: the
// server does, before it proposes.
//
// The wait duration is not in the log: the server proposes CancelWait when it
// runs out (at most WaitMax) or the client goes away. A queued acquire's grant
// arrives in a later entry as a Change of that lock; the server reads Lock and
// compares the holder's lease id with the one its waiter queued.
//
// # Exactly once
//
// A Command with a RequestID that was applied before returns the first result
// (Result.Duplicate set) and changes nothing; the same id with a different
// command is ErrInvalidArgument. Refusals are recorded too, so a retry after
// ErrLockHeld with the same id gets ErrLockHeld again: a new attempt needs a
// new id. One record changes after the fact: when a queued acquire's lease
// is granted the lock, its record becomes that grant (Result.Queued false,
// Token and Holder set), so a retry learns the acquire took effect even when
// the lease has expired since. RequestResult reads a record. Records live
// DedupRetention in command time and at most DedupRecordsMax of them, the
// oldest index evicted first.
//
// # Reads
//
// Lock, Election, Lease, ListLocks, ListLocksWhere, ListElections, Fence,
// LeaseTimers, Stats, Applied, ACLToken, ACLTokenByHash, ACLTokens,
// RequestResult. None
// changes the table.
//
// # Snapshots
//
// Snapshot writes the whole table (leases, locks with their queues, elections,
// dedup records, ACL tokens) to an io.Writer as a stream of msgpack values in
// sorted order: the same table gives the same bytes (testdata/snapshot-v2.msgpack
// pins the format; version 1 snapshots, without tokens, still restore). Restore replaces the table with a snapshot's after validating every
// record; on error (wrapping ErrCorruptSnapshot for bad bytes) the table is
// untouched. Restore never panics on bad bytes.
//
// # Lease expiry
//
// The table never expires a lease by itself: the leader's LeaseClock holds a
// deadline per lease on the node's monotonic clock and reports the ones past
// due, and the server proposes ExpireLease for them. A new leader resets the
// deadlines from the table's LeaseTimers (using checkpointed remaining times);
// a keepalive may first have to commit a CheckpointLeases that clears the
// lease's checkpoint. LeaseClock's documentation lists the protocol.
//
// # Durations
//
// The package cannot import time (STYLE.md §1 and imports_test.go forbid it),
// so Duration is its own int64 nanosecond type with time.Duration's
// representation: convert with time.Duration(d) and locks.Duration(td).
package locks
