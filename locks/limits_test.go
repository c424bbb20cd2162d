package locks

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestLimits checks the relations between the limits of limits.go.
func TestLimits(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{"TTLMin <= TTLDefault", TTLMin <= TTLDefault},
		{"TTLDefault <= TTLMax", TTLDefault <= TTLMax},
		{"TTLMin > 0", TTLMin > 0},
		{"WaitMax > 0", WaitMax > 0},
		{"BodyBytesMax >= ValueBytesMax + NameBytesMax + OwnerBytesMax", BodyBytesMax >= ValueBytesMax+NameBytesMax+OwnerBytesMax},
		{"CommandBytesMax >= BodyBytesMax", CommandBytesMax >= BodyBytesMax},
		{"WaitersPerLockMax <= WaitersMax", WaitersPerLockMax <= WaitersMax},
		{"LeasesMax >= LocksMax (a lease per held lock)", LeasesMax >= LocksMax},
		{"ObjectsPerLeaseMax <= LocksMax", ObjectsPerLeaseMax <= LocksMax},
		{"DedupRetention > WaitMax", DedupRetention > WaitMax},
		{"DedupRecordsMax > 0", DedupRecordsMax > 0},
		{"ListMax > 0", ListMax > 0},
		{"RequestIDBytesMax > 0", RequestIDBytesMax > 0},
		{"BodyBytesMax fits the largest token request (rules of NameBytesMax prefixes, ~64 bytes of JSON each)", BodyBytesMax >= ACLRulesPerTokenMax*(NameBytesMax+64)+ACLNameBytesMax},
		{"ACLTokenTTLMin > 0", ACLTokenTTLMin > 0},
		{"ACLTokenTTLMin <= ACLTokenTTLMax", ACLTokenTTLMin <= ACLTokenTTLMax},
		{"ACLTokensMax > 0", ACLTokensMax > 0},
		{"Duration matches time.Duration", time.Duration(Second) == time.Second && time.Duration(Hour) == time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Errorf("limit relation %s does not hold", tc.name)
			}
		})
	}
}

// TestLargestCommandsFit: the largest valid commands encode within
// CommandBytesMax, so Apply never refuses what ValidateCommand passed.
func TestLargestCommandsFit(t *testing.T) {
	cps := make([]Checkpoint, CheckpointsPerCommandMax)
	for i := range cps {
		cps[i] = Checkpoint{LeaseID: LeaseID(1<<63) + LeaseID(i), Remaining: TTLMax}
	}
	big := func(n int) string { return strings.Repeat("x", n) }
	bigRules := func() []ACLRule {
		rs := make([]ACLRule, ACLRulesPerTokenMax)
		for i := range rs {
			rs[i] = ACLRule{Prefix: fmt.Sprintf("%03d", i) + big(NameBytesMax-3), Allow: CapRead | CapLock | CapElect}
		}
		return rs
	}
	cases := []struct {
		name string
		c    Command
	}{
		{"checkpoints", Command{Kind: KindCheckpointLeases, Checkpoints: cps, RequestID: big(RequestIDBytesMax), Time: 1 << 62}},
		{"acl token", Command{Kind: KindCreateACLToken, ACLName: big(ACLNameBytesMax), SecretHash: testHash(1), TTL: ACLTokenTTLMax, ACLRules: bigRules(), RequestID: big(RequestIDBytesMax), Time: 1 << 62}},
		{"acquire", Command{Kind: KindAcquire, Name: big(NameBytesMax), Owner: big(OwnerBytesMax), Value: big(ValueBytesMax), Election: true, Wait: true, LeaseID: 1 << 63, RequestID: big(RequestIDBytesMax), Time: 1 << 62}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := EncodeCommand(tc.c)
			if err != nil {
				t.Fatalf("EncodeCommand(%s) = %v; want no error", tc.name, err)
			}
			if len(b) > CommandBytesMax {
				t.Errorf("EncodeCommand(%s) is %d bytes; want at most %d", tc.name, len(b), CommandBytesMax)
			}
		})
	}
}
