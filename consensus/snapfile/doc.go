// Package snapfile keeps a raftlock node's state machine snapshots: one file
// per snapshot in a directory beside the Raft log, named after the snapshot's
// term and index.
//
// # What it owns
//
//   - The file format (below) and its checks. A snapshot is written to a temp
//     file, fsynced, renamed to its final name and the directory fsynced
//     (Writer.Commit), so a final name always holds a whole snapshot. A
//     snapshot received from a peer (Receive) takes the same path after its
//     size, checksum and metadata are verified; a damaged one is never
//     renamed into place.
//   - Reading: Load hands the state machine the payload and checks the
//     checksum as it goes; Raw hands the transport the whole file to stream.
//   - Pruning: Prune removes snapshots older than the one in use and temp
//     files left by a crash.
//
// # File format, version 1
//
//	magic     8 bytes  "RLSNAP" 0x00 0x01
//	metaLen   4 bytes  big-endian length of meta
//	meta      msgpack consensus.SnapshotMeta
//	payload   the state machine's bytes (its own format)
//	payLen    8 bytes  big-endian length of payload
//	crc       4 bytes  big-endian CRC32C (Castagnoli) of every byte before it
//
// # What it must never do
//
//   - Rename a file into place before it is durable, or one whose checksum,
//     size or metadata does not match.
//   - Trust bytes read from disk or a peer: every length is bounded and
//     checked; damage is ErrCorrupt, never a panic.
//   - Know about locks, the transport or the driver. It imports only consensus.
//
// A Dir is safe for concurrent use: the driver writes and loads snapshots
// while the transport streams and receives others.
package snapfile
