package boltstore

import "errors"

// ErrCorrupt is wrapped by every error about bytes on disk that fail
// verification: a bad checksum, an undecodable value, a key that does not
// match its entry, a gap or a decreasing term. The error names the file and,
// for log entries, the index.
var ErrCorrupt = errors.New("corrupt")

// ErrInUse is returned by Open when another process holds the file's lock.
var ErrInUse = errors.New("boltstore: data dir in use by another raftlock process")

// ErrVersion is returned by Open for a file written in a layout this build
// does not read.
var ErrVersion = errors.New("boltstore: unsupported format version")

// ErrGap is returned by Save when the first entry would leave a hole after the
// last stored index.
var ErrGap = errors.New("boltstore: entries leave a gap in the log")

// ErrTooLarge is returned by Save for an entry whose Data exceeds
// EntryDataBytesMax.
var ErrTooLarge = errors.New("boltstore: entry too large")

// ErrClosed is returned by every method of a closed Store.
var ErrClosed = errors.New("boltstore: store closed")

// ErrFailed is returned by Save after an earlier Save failed to commit. After a
// failed fsync the state of the file is unknown, so the store refuses further
// writes; the node must restart and let Open verify what is on disk.
var ErrFailed = errors.New("boltstore: store failed by an earlier write error")
