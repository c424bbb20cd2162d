package server

import (
	"time"

	"github.com/raftlock/raftlock/consensus/transport"
	"github.com/raftlock/raftlock/locks"
)

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
	// SnapshotCountMin is the smallest --snapshot-count: snapshotting the
	// whole table more often than this costs more than replaying the log.
	SnapshotCountMin = 100
	// SnapshotCountMax is the largest --snapshot-count: the log kept between
	// snapshots, and the replay at start, stay bounded.
	SnapshotCountMax = 10_000_000
)

// CompactionTailEntries is how many entries before a snapshot the log keeps
// (issue 8): a follower behind by less catches up from the log, cheaper than
// a snapshot of the whole table.
const CompactionTailEntries = 5_000

// SnapshotDirName is the directory of snapshot files inside the data dir.
const SnapshotDirName = "snap"

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
	// LeaderWaitElections is how many election timeouts a request that
	// needs the leader waits for one to be known before it is answered
	// no_leader: an election usually ends well within it, and the request
	// then goes through instead of making its client wait a Retry-After.
	LeaderWaitElections = 1
	// ForwardAttemptsMax bounds how often one request is forwarded when the
	// leader it was sent to refuses connections (its process died).
	ForwardAttemptsMax = 3
	// DataDirPerm is the mode of a data dir the node creates.
	DataDirPerm = 0o700
	// MaxMsgBytes bounds the entry bytes of one append message to a follower.
	MaxMsgBytes = 1 << 20
	// MaxInflightMsgs bounds the append messages in flight to one follower.
	MaxInflightMsgs = 256
)

// Limits of the client API (DESIGN.md §4, §5). The lock table's own limits
// (names, owner, value, ttl, wait, body) are in package locks; these are the
// server's.
const (
	// BodyBytesMax is the largest request body the client API reads.
	BodyBytesMax = locks.BodyBytesMax
	// IdempotencyKeyBytesMax is the longest Idempotency-Key header. It leaves
	// room under locks.RequestIDBytesMax for the suffix of the follow-up
	// commands one request may propose (cancel of a wait, release of a grant
	// nobody is left to receive).
	IdempotencyKeyBytesMax = 96
	// WaitMax is the longest wait of an acquire, a campaign or a blocking GET.
	WaitMax = time.Duration(locks.WaitMax)
	// BlockWaitDefault is the wait of a blocking GET given an index and no
	// wait.
	BlockWaitDefault = time.Minute
	// SubscribersMax bounds the blocking GETs, waiting acquires and event
	// streams one node serves at once; past it a request gets
	// too_many_requests.
	SubscribersMax = 10_000
	// GrantWaitersMax bounds the queued acquires and campaigns one node waits
	// on at once (each holds a slot of SubscribersMax too).
	GrantWaitersMax = SubscribersMax
	// ObserveKeepaliveInterval is how often an idle event stream gets a
	// comment line, so proxies and clients see it alive.
	ObserveKeepaliveInterval = 15 * time.Second
	// FollowUpTimeout bounds the proposals a request makes after its client
	// went away or its wait ran out (cancel of the wait, release of a grant).
	FollowUpTimeout = 10 * time.Second
	// ShutdownFollowUpTimeout is how long follow-up proposals may still run
	// once the node starts shutting down: less than ShutdownTimeout, so the
	// requests that make them answer (no_leader or their outcome) before
	// the graceful shutdown gives up on them. A removed node, which never
	// learns that its last proposals committed, would otherwise hold them
	// for FollowUpTimeout and overrun the shutdown.
	ShutdownFollowUpTimeout = ShutdownTimeout / 2
	// ForwardTimeout bounds a forwarded request that does not wait (no wait
	// or index query); waiting ones get their wait on top.
	ForwardTimeout = 30 * time.Second
	// ListPrefixBytesMax bounds the prefix of GET /v1/locks.
	ListPrefixBytesMax = locks.NameBytesMax
)

// Intervals of the leader's lease clock (DESIGN.md §4).
const (
	// LeaseTickInterval is how often the leader looks for leases past their
	// deadline; an expiry is proposed at most this late.
	LeaseTickInterval = 100 * time.Millisecond
	// CheckpointInterval is how often the leader commits the remaining time
	// of the leases nobody kept alive in time (locks.LeaseClock.Checkpoints),
	// so that once recorded a leader change extends such a lease by at most
	// this.
	CheckpointInterval = 5 * time.Second
	// ExpiriesPerTickMax bounds the ExpireLease proposals of one tick.
	ExpiriesPerTickMax = 1024
)

// ForwardIdleConnsMax bounds the idle connections a follower keeps to the
// leader's peer listener for forwarding (HTTP/2 multiplexes on few).
const ForwardIdleConnsMax = 4

// Discovery of the other members' client URLs (GET /v1/cluster).
const (
	// MemberFetchTimeout bounds asking one member for its client URL.
	MemberFetchTimeout = 500 * time.Millisecond
	// MemberURLTTL is how long a learned client URL is trusted.
	MemberURLTTL = time.Minute
	// MemberInfoBytesMax bounds a member's answer.
	MemberInfoBytesMax = 4 << 10
)

// Limits of the client listener's HTTP server and its guard (issue 10,
// hardened HTTP; see harden.go).
const (
	// ClientReadTimeout bounds reading a whole request, headers and body
	// (at most BodyBytesMax): a client trickling its body is cut.
	ClientReadTimeout = 30 * time.Second
	// ClientWriteTimeout bounds a request from its headers to the end of
	// its answer, unless it waits (see WaitWriteMargin, StreamWriteTimeout):
	// a request that does not wait answers within ForwardTimeout.
	ClientWriteTimeout = time.Minute
	// ClientIdleTimeout closes a keep-alive connection idle this long.
	ClientIdleTimeout = 2 * time.Minute
	// HeaderBytesMax bounds the header bytes of a client request.
	HeaderBytesMax = 16 << 10
	// ReadHeaderTimeoutMin and ReadHeaderTimeoutMax bound
	// Config.ReadHeaderTimeout.
	ReadHeaderTimeoutMin = 10 * time.Millisecond
	ReadHeaderTimeoutMax = 10 * time.Minute
	// WaitWriteMargin is the time a waiting request (blocking GET, acquire
	// or campaign with a wait) may take to answer past its wait: the
	// forwarding, and the proposals that end a wait (each within
	// FollowUpTimeout).
	WaitWriteMargin = time.Minute
	// StreamWriteTimeout bounds each write of an event stream: a client
	// that stops reading loses its stream this long after the write that
	// stalled.
	StreamWriteTimeout = 30 * time.Second
	// WaitsPerClientMax bounds the waiting requests and event streams one
	// client (a bearer token, or a remote IP without one) has open on one
	// node; past it a request gets too_many_requests.
	WaitsPerClientMax = 256
	// WaitsMax bounds the waiting requests and event streams of all
	// clients on one node's client listener (the hub bounds those it
	// serves, forwarded ones included, by SubscribersMax).
	WaitsMax = SubscribersMax
	// RateLimitMax and RateBurstMax bound --rate-limit (requests per
	// second) and --rate-burst.
	RateLimitMax = 1_000_000
	RateBurstMax = 1_000_000
	// RateKeysMax bounds the clients the rate limit tracks; past it the
	// least recently seen is forgotten (and gets a full bucket back).
	RateKeysMax = 100_000
)

// Limits of the peer listener's HTTP server. Its requests are Raft
// messages (each within the transport's RequestTimeout), snapshot streams
// (which move their own read deadline to transport.SnapshotStreamTimeout),
// and forwarded client requests, which wait and stream like the client's:
// so it has no WriteTimeout, which in HTTP/2 would reset every stream
// older than it.
const (
	// PeerReadTimeout bounds reading one request body, as the transport's
	// own server does.
	PeerReadTimeout = transport.ServerReadTimeout
	// PeerIdleTimeout closes a peer connection idle this long.
	PeerIdleTimeout = transport.ServerIdleTimeout
	// PeerHeaderBytesMax bounds the header bytes of a peer request: a
	// forwarded request carries its client's (up to HeaderBytesMax) and a
	// few of its own.
	PeerHeaderBytesMax = 2 * HeaderBytesMax
)
