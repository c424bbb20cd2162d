// Package transport carries Raft messages between raftlock nodes: HTTP/2 on a
// peer listener of its own (h2c by default, TLS with client certificates when
// configured), request bodies a msgpack-encoded batch of consensus.Message,
// POSTed to MessagesPath.
//
// It owns:
//   - the per-peer send queues, bounded by QueueMessagesMax. Send never blocks
//     the Raft driver: a full queue, or a peer in reconnect backoff, drops the
//     message and reports the peer unreachable (Raft tolerates loss and falls
//     back to probing);
//   - one goroutine per peer that drains its queue into batches (bounded by
//     BatchBytesMax, BatchMessagesMax and BatchEntriesMax) and POSTs them one
//     at a time, each taking everything queued while the previous one was in
//     flight, so messages to a peer keep their order and there is no
//     stop-and-wait per entry;
//   - reconnecting with capped exponential backoff and jitter, and the
//     PeerDown hook when a connection is refused or reset;
//   - the inbound handler, which bounds and validates every body before any
//     message reaches the node (malformed: 400, too large: 413; never a panic);
//   - snapshot streams (snapshot.go): an outgoing MsgSnap becomes one POST to
//     SnapshotPath carrying the message and the snapshot file, read from and
//     written to the node's SnapshotStore in flow-controlled chunks, never
//     whole in memory; the receiver hands the MsgSnap to the node only after
//     the file is stored intact, and the sender reports the outcome
//     (ReportSnapshot). A MsgSnap in an ordinary batch is refused.
//
// It must never block the caller of Send, let one peer delay another, hand the
// node a message that is not addressed to it from a known peer of its cluster,
// retry a message (Raft resends what matters), interpret a message beyond those
// checks, or keep package-level state: several transports run in one process.
package transport
