// TestLimits keeps the relations between the server's limits and those of
// the lock table and the SDK that depend on them.
package server

import (
	"testing"
	"time"

	"github.com/raftlock/raftlock/client"
	"github.com/raftlock/raftlock/locks"
)

func TestLimits(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
		why  string
	}{
		{"follow-up ids fit", IdempotencyKeyBytesMax+len("#release") <= locks.RequestIDBytesMax,
			"an Idempotency-Key with its follow-up suffix must fit a request id"},
		{"body limit is the lock table's", BodyBytesMax == locks.BodyBytesMax, "one body limit"},
		{"wait is the lock table's", WaitMax == time.Duration(locks.WaitMax), "one wait limit"},
		{"default block within max", BlockWaitDefault > 0 && BlockWaitDefault <= WaitMax, "a blocking GET's default wait"},
		{"keepalive comments beat the SDK's idle limit", ObserveKeepaliveInterval < client.ObserveIdleMax/2,
			"an idle event stream must send two comments within the SDK's idle limit"},
		{"lease tick below the shortest ttl", LeaseTickInterval < time.Duration(locks.TTLMin)/5,
			"an expiry is proposed at most a tick late"},
		{"checkpoints below the longest ttl", CheckpointInterval < time.Duration(locks.TTLMax), "checkpoints bound lease stretch"},
		{"prefix within a name", ListPrefixBytesMax <= locks.NameBytesMax, "a prefix longer than a name matches nothing"},
		{"grant waiters within subscribers", GrantWaitersMax <= SubscribersMax, "each grant waiter holds a subscriber slot"},
		{"write timeout past forwarding", ClientWriteTimeout > ForwardTimeout, "a forwarded request that does not wait answers before its write deadline"},
		{"wait margin covers follow-ups", WaitWriteMargin >= ForwardTimeout && WaitWriteMargin >= 2*FollowUpTimeout,
			"a waiting request may forward and propose a cancel and a release after its wait"},
		{"stream writes outlast keepalives", StreamWriteTimeout > 0 && ObserveKeepaliveInterval < ClientIdleTimeout, "an idle stream and connection stay open"},
		{"read header timeout default within bounds", ReadHeaderTimeout >= ReadHeaderTimeoutMin && ReadHeaderTimeout <= ReadHeaderTimeoutMax, "the default is valid"},
		{"client header bytes fit a forward", PeerHeaderBytesMax > HeaderBytesMax, "a forwarded request carries its client's headers"},
		{"per client waits within the node's", WaitsPerClientMax <= WaitsMax, "one client cannot take every slot"},
		{"node waits within the hub", WaitsMax <= SubscribersMax, "the hub serves what the listener lets in"},
		{"default timeouts bound a request", ClientReadTimeout > 0 && ClientIdleTimeout > 0, "no phase of a connection is unbounded"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Errorf("limit relation broken: %s", tc.why)
			}
		})
	}
}
