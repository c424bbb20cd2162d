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
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Errorf("limit relation broken: %s", tc.why)
			}
		})
	}
}
