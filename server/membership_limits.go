package server

import "time"

// Limits of membership changes and leadership transfer (issue 8).
const (
	// PromoteWaitDefault is how long POST .../promote retries while the
	// learner catches up, when the request gives no ?wait=.
	PromoteWaitDefault = 30 * time.Second
	// PromoteWaitMax bounds ?wait= of POST .../promote.
	PromoteWaitMax = 5 * time.Minute
	// TransferElectionTimeouts bounds a leadership transfer, by the API and
	// at SIGTERM, in election timeouts: the core gives the target one to
	// take over; the second covers the new leader's first heartbeat.
	TransferElectionTimeouts = 2
	// JoinTimeout bounds `serve --join`'s request to add this node.
	JoinTimeout = time.Minute
	// JoinRequestTimeout bounds one attempt of a join request; the leader
	// may hold a promotion up to PromoteWaitDefault.
	JoinRequestTimeout = PromoteWaitDefault + 10*time.Second
	// JoinRetryPause is the pause between two attempts of a join request.
	JoinRetryPause = 200 * time.Millisecond
	// JoinAnswerBytesMax bounds an answer to a join request.
	JoinAnswerBytesMax = 1 << 20
	// JoinFileBytesMax bounds the join file read at start.
	JoinFileBytesMax = 64 << 10
	// SelfPromoteRetryMax is how long a joined learner waits between two
	// requests to promote itself.
	SelfPromoteRetryMax = 5 * time.Second
)
