package boltstore

import "github.com/raftlock/raftlock/consensus"

import "time"

// EntryDataBytesMax is the largest Data of one log entry Save accepts and Open
// reads back. The core must refuse proposals larger than this before they
// reach the log.
const EntryDataBytesMax = 4 << 20

// entryEncodingOverheadBytesMax bounds the bytes a msgpack encoding of an entry
// takes besides its Data: the map header, four short keys, two 9-byte
// integers, the type and the bin header, with room to spare.
const entryEncodingOverheadBytesMax = 64

// entryValueBytesMax is the largest value the log bucket may hold: a checksum
// and an encoded entry of EntryDataBytesMax data.
const entryValueBytesMax = crcBytes + entryEncodingOverheadBytesMax + EntryDataBytesMax

// metaValueBytesMax is the largest framed value in the meta bucket (hard state,
// snapshot metadata); they are a few integers each.
const metaValueBytesMax = 256

// snapshotMetaBytesMax is the largest framed snapshot metadata in the meta
// bucket: an index, a term and the membership with its context.
const snapshotMetaBytesMax = crcBytes + consensus.SnapshotMetaBytesMax

// decodeDepthMax bounds the nesting the msgpack decoder follows in a value
// read from disk. Entries and hard states are flat; unknown nested fields
// deeper than this are corrupt.
const decodeDepthMax = 8

// decodeInitLenMax bounds what the msgpack decoder allocates up front for a
// bin or container whose length header it has not yet checked against the
// input. It admits the largest real entry in one allocation (a smaller bound
// makes the decoder grow the buffer chunk by chunk, copying quadratically),
// and since unframe refuses values above entryValueBytesMax first, a lying
// header costs at most one allocation of this size before it fails.
const decodeInitLenMax = entryValueBytesMax

// LockWaitDefault is how long Open waits for the file lock held by another
// process before it gives up with ErrInUse, when Options.LockWait is zero.
const LockWaitDefault = time.Second

// LockWaitMax is the longest Options.LockWait Open accepts: a node that cannot
// get its data dir should say so, not hang.
const LockWaitMax = time.Minute

// crcBytes is the size of the CRC32C that precedes every encoded value.
const crcBytes = 4

// indexKeyBytes is the size of a log bucket key: a big-endian uint64 index.
const indexKeyBytes = 8

// formatVersion is the on-disk layout this package writes and reads: the
// bbolt file with the journal beside it.
const formatVersion = 2

// formatVersionNoJournal is the layout before the journal, the same bbolt
// file without one. Open reads it and marks it formatVersion, so that a
// build that knows no journal refuses the file rather than miss Saves only
// the journal holds.
const formatVersionNoJournal = 1

// entriesPreallocMax bounds the capacity Entries reserves up front; a larger
// answer grows as it is read (maxBytes usually stops it much earlier).
const entriesPreallocMax = 256

// logFillPercent is the fill factor of the log bucket's pages. Keys only ever
// grow at the end (a truncation deletes the tail first), so pages can be
// packed nearly full, like bbolt advises for sequential inserts.
const logFillPercent = 0.95

// tailCacheBytesMax bounds the entries (by consensus.Entry.Size) the store
// keeps in memory after writing them. The core reads recent entries twice
// soon after they are written, to send them to followers and to apply them
// once committed; this many bytes cover many Readies of a busy node.
const tailCacheBytesMax = 8 << 20

// journalDirtyBytesMax bounds the entries (by consensus.Entry.Size) the
// journal holds before they are flushed into bbolt. A Save whose entries
// alone exceed it bypasses the journal. It is at most half the tail cache,
// which must hold every journaled entry for reads and for the flush. The
// bound also bounds a flush, which runs on the Save that reaches it: about
// 2,000 small entries, 5 to 30 ms here depending on the load (8,000 took up
// to 120 ms), once per that many entries; the flush's two fdatasyncs are a
// negligible share of the 2,000 Saves' flushes.
const journalDirtyBytesMax = 256 << 10

// journalBytesMax bounds the journal file: a record that would end past it
// is written after a flush, at offset 0. A record of entries within
// journalDirtyBytesMax (encoding adds a few bytes per entry) fits.
const journalBytesMax = 4 * journalDirtyBytesMax

// journalGrowBytes is the step in which the journal file grows ahead of its
// records, so that a record is written over bytes already in the file.
const journalGrowBytes = 1 << 20
