package server

import "time"

// Limits on configuration values. Config.Validate rejects a value outside
// them with an error naming both numbers.
const (
	// NameBytesMax bounds a member name (--id and the names in --initial-cluster).
	NameBytesMax = 64
	// MembersMax bounds the members of --initial-cluster. Raft clusters are
	// three or five nodes; seven is the largest that still makes sense.
	MembersMax = 7
	// HeartbeatIntervalMin is the shortest --heartbeat-interval: below it the
	// tick loop and the fsync of every Ready compete for the same millisecond.
	HeartbeatIntervalMin = time.Millisecond
	// HeartbeatIntervalMax is the longest --heartbeat-interval.
	HeartbeatIntervalMax = time.Minute
	// ElectionHeartbeatsMin is the least number of heartbeat intervals in one
	// election timeout: fewer and a follower gives up on a live leader after
	// a couple of lost heartbeats.
	ElectionHeartbeatsMin = 5
	// ElectionHeartbeatsMax bounds the election timeout in heartbeat intervals
	// (the core counts it in ticks).
	ElectionHeartbeatsMax = 1000
)

// Limits on the node at run time.
const (
	// ShutdownTimeout bounds how long Run waits for in-flight client requests
	// after its context ends before it closes their connections.
	ShutdownTimeout = 5 * time.Second
	// ReadHeaderTimeout bounds how long a client or peer may take to send the
	// headers of a request.
	ReadHeaderTimeout = 10 * time.Second
	// RetryAfterSeconds is the Retry-After a 503 carries: about one election.
	RetryAfterSeconds = 1
	// DataDirPerm is the mode of a data dir the node creates.
	DataDirPerm = 0o700
	// MaxMsgBytes bounds the entry bytes of one append message to a follower.
	MaxMsgBytes = 1 << 20
	// MaxInflightMsgs bounds the append messages in flight to one follower.
	MaxInflightMsgs = 256
)
