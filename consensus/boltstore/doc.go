// Package boltstore is the durable storage of a raftlock node: the Raft log and
// hard state in one bbolt file with a write-ahead journal in front of it,
// read by the consensus core through the consensus.Storage interface and
// written by the driver through Save.
//
// # What it owns
//
//   - The file and its exclusive lock. Open takes bbolt's flock, so a second
//     process pointed at the same data dir fails fast with ErrInUse instead of
//     corrupting the log.
//   - The on-disk layout (below).
//   - Verification: Open scans the whole log once and refuses to start on a
//     bad checksum, a key that does not match its entry, a gap, or a term that
//     goes down, with an error naming the file and the index (ErrCorrupt).
//   - Durability: Save appends one Ready (hard state and entries) to the
//     journal, a write-ahead file beside the bbolt file, and fdatasyncs it
//     once (journal.go). bbolt's own commit is two fdatasyncs (the new
//     pages, then the meta page that points at them), so a Save through the
//     journal asks the disk for half the flushes. What the journal holds is
//     written into bbolt in one fsynced transaction (a flush) once it
//     reaches journalDirtyBytesMax of entries, before a snapshot is recorded
//     or installed, before a compaction and at Close; Open replays what a
//     crash left in it. A Ready too large for the journal is committed to
//     bbolt directly. The driver batches many proposals into one Ready, so
//     a busy node pays one journal write per Ready, never one per entry.
//   - An in-memory index of first and last index and of the term of every
//     entry (kept as runs of equal terms), so Term, FirstIndex and LastIndex
//     never open a transaction, and a bounded cache of the most recently
//     written entries (tailCacheBytesMax), so the reads that follow a write
//     (replication, apply) do not either. Older entries are read through a
//     bbolt read transaction.
//
// # On-disk layout, format version 2
//
// A framed value is the CRC32C (Castagnoli, 4 bytes big-endian) of a msgpack
// encoding, followed by that encoding.
//
//	bucket "log"
//	    8-byte big-endian index -> framed consensus.Entry
//	bucket "meta"
//	    "version"   -> 8-byte big-endian format version
//	    "hardstate" -> framed consensus.HardState (absent on a fresh node)
//	    "compacted" -> framed {index, term} of the entry just before the
//	                   first stored one, removed by Compact or ApplySnapshot
//	                   (absent while nothing was removed)
//	    "snapshot"  -> framed consensus.SnapshotMeta of the latest snapshot
//	                   (absent while there is none)
//	    "journal"   -> 8-byte big-endian number of the last journal record
//	                   bbolt holds (absent: none yet)
//
//	file <path>.journal
//	    records, each a 4-byte big-endian length and a framed
//	    {sequence number, hard state, entries}; the ones numbered above
//	    meta "journal", in a consecutive run from offset 0, are the Saves
//	    bbolt does not hold yet
//
// Version 1 was the same bbolt file without the journal; Open reads it and
// marks it version 2, so that an older build refuses the file instead of
// missing Saves that only the journal holds.
//
// The snapshot's data is the caller's, in a file beside this one, durable
// before SetSnapshot or ApplySnapshot records it. Later additions (an applied
// hint, membership) get keys of their own in "meta" and never change the
// meaning of these.
//
// # What it must never do
//
//   - Acknowledge a Save before its record or transaction is durable, or offer a way to
//     skip the fsync in production (the unexported noSync option exists for
//     benchmarks and tests of this package only).
//   - Trust bytes read from the file: every value is checked and bounded
//     before use; a malformed value is ErrCorrupt, never a panic.
//   - Delete an entry at or below the stored commit index by truncation: that
//     is a bug in the caller and panics with "invariant violated".
//   - Know about locks, leases or the transport. It imports only consensus.
//
// A Store is safe for concurrent use; the driver is its only writer.
package boltstore
