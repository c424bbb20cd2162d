package snapfile

import "github.com/raftlock/raftlock/consensus"

// SnapshotBytesMax bounds a snapshot file Receive accepts and Load reads: a
// million locks take about 100 MiB, so this leaves room for far larger tables
// while stopping a peer from filling the disk.
const SnapshotBytesMax = 16 << 30

// metaBytesMax bounds the encoded metadata in a file: an index, a term and
// the membership with its context.
const metaBytesMax = consensus.SnapshotMetaBytesMax

// bufferBytes is the size of the buffers between the files and their readers
// and writers.
const bufferBytes = 256 << 10

// decodeDepthMax bounds the msgpack nesting of the metadata (a map holding
// one array).
const decodeDepthMax = 4

// headerBytes is the fixed part before the metadata: magic and metaLen.
const headerBytes = magicBytes + 4

// trailerBytes is the fixed part after the payload: payLen and crc.
const trailerBytes = 8 + 4

// magicBytes is the length of the magic string.
const magicBytes = 8

// dirPerm is the mode of a snapshot directory Open creates.
const dirPerm = 0o700

// filePerm is the mode of a snapshot file.
const filePerm = 0o600
