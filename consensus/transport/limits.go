package transport

import "github.com/raftlock/raftlock/consensus"

import "time"

// Bounds on what one peer request may carry. The receiver enforces them on
// bytes it does not trust; the sender splits its queue so that it never builds
// a body the receiver would refuse.
const (
	// BodyBytesMax bounds a request body the handler reads. It must exceed
	// BatchBytesMax plus the encoding overhead the size estimate leaves out,
	// and one MsgApp of the core's MaxMsgBytes (1 MiB by default), which the
	// sender may put in a batch of its own.
	BodyBytesMax = 16 << 20
	// BatchBytesMax is the estimated size at which the sender closes a batch.
	// A message larger than this alone still goes, alone, when its encoded
	// body fits in BodyBytesMax. It equals the core's default MaxMsgBytes: a
	// batch crosses a slow link well within RequestTimeout, and a heartbeat
	// or vote queued behind a batch waits for at most this much. Measured
	// throughput with 4 MiB batches was no better (BenchmarkSendMsgApp).
	BatchBytesMax = 1 << 20
	// BatchMessagesMax bounds the messages in one request body.
	BatchMessagesMax = 4096
	// BatchEntriesMax bounds the entries across all messages of one request
	// body. A decoded entry is about 50 bytes even when its encoding is one
	// byte, so this (not only BodyBytesMax) bounds the memory one request
	// costs: about 3 MiB of entries. The sender's byte bound splits batches
	// before it (TestLimits).
	BatchEntriesMax = 1 << 16
	// DecodeDepthMax bounds how deeply msgpack containers may nest in a body.
	// A batch needs 4: batch, message, entries, entry.
	DecodeDepthMax = 8
	// BodyInitialBytes is the buffer the handler starts a body in; it
	// doubles as bytes arrive, up to the declared length.
	BodyInitialBytes = 64 << 10
	// ServerStreamsMax bounds the requests one peer connection may have in
	// flight at once (a sender has one), and so the bodies read at once.
	ServerStreamsMax = 16
	// ReceiveWindowBytes is the HTTP/2 flow-control window the server grants
	// a peer connection and each of its requests (the most HTTP/2 allows
	// configuring, under 4 MiB): a few full batches may be in flight
	// before the server reads them, so a batch crosses a link in about one
	// round trip, and the bytes buffered per connection stay bounded.
	ReceiveWindowBytes = 4<<20 - 1
	// QueueMessagesMax bounds the messages waiting for one peer. Send drops
	// beyond it and reports the peer unreachable.
	QueueMessagesMax = 4096
	// ErrorBodyBytesMax bounds the bytes of a refusal the sender reads back
	// (for its log) and the bytes of a refusal the handler writes.
	ErrorBodyBytesMax = 512
)

// Timing of requests, reconnects and logs.
const (
	// RequestTimeout bounds one POST to a peer, dialing included.
	RequestTimeout = 5 * time.Second
	// DialTimeout bounds connecting to a peer.
	DialTimeout = 2 * time.Second
	// ProbeTimeout bounds the connection attempt that checks whether a peer
	// whose connection broke is gone (refused) or merely closed it.
	ProbeTimeout = 500 * time.Millisecond
	// ProbeSettle is how long a probe connection that was accepted is
	// watched for the reset of a process that is going away.
	ProbeSettle = 100 * time.Millisecond
	// PingInterval is how long a connection to a peer may stay silent before
	// the client pings it.
	PingInterval = 5 * time.Second
	// PingTimeout is how long a ping may go unanswered before the client
	// closes the connection.
	PingTimeout = 5 * time.Second
	// BackoffMin is the pause after a peer's first failed request.
	BackoffMin = 50 * time.Millisecond
	// BackoffMax caps the pause between attempts to a failing peer; each
	// consecutive failure doubles the pause up to it, and jitter draws the
	// actual pause from [d/2, d).
	BackoffMax = 2 * time.Second
	// FailureLogEvery is how many consecutive failures of a peer pass between
	// two warnings after the first (rate-limited logging).
	FailureLogEvery = 64
	// RejectLogEvery is how many refused inbound requests pass between two
	// warnings after the first.
	RejectLogEvery = 64
	// ServerReadHeaderTimeout bounds reading a request's headers.
	ServerReadHeaderTimeout = 10 * time.Second
	// ServerReadTimeout bounds reading a whole request, body included.
	ServerReadTimeout = 30 * time.Second
	// ServerIdleTimeout closes a peer connection idle this long.
	ServerIdleTimeout = 2 * time.Minute
	// ShutdownTimeout bounds a graceful stop of Serve before connections are
	// closed hard.
	ShutdownTimeout = 5 * time.Second
)

// Bounds and timing of snapshot streams.
const (
	// SnapshotStreamTimeout bounds one snapshot stream, sending or
	// receiving: a 16 GiB snapshot (snapfile.SnapshotBytesMax) needs about
	// 30 MB/s to make it.
	SnapshotStreamTimeout = 10 * time.Minute
	// SnapshotReceivesMax bounds the snapshot streams a node receives at
	// once; one leader sends one per follower, so two leave room for a
	// stream of a deposed leader still finishing.
	SnapshotReceivesMax = 2
	// SnapshotMessageBytesMax bounds the MsgSnap that opens a stream: a
	// message with a snapshot's metadata (membership and its context).
	SnapshotMessageBytesMax = consensus.SnapshotMetaBytesMax + messageOverheadBytes
)

// messageOverheadBytes approximates an encoded message's bytes besides its
// entries and context: eleven small fields with their one- or two-byte keys.
const messageOverheadBytes = 64
