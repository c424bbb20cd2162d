package consensus

// TestLimits keeps the relations between the core's limits (STYLE.md §5).

import (
	"math"
	"testing"
)

func TestLimits(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{"default window within the max", MaxInflightMsgsDefault >= 1 && MaxInflightMsgsDefault <= MaxInflightMsgsMax},
		{"uncommitted bytes hold a full default MsgApp", UncommittedBytesMax >= MaxMsgBytesDefault},
		{"uncommitted entries hold a full window of one-entry MsgApps", UncommittedEntriesMax >= MaxInflightMsgsDefault},
		{"committed batch holds a full default MsgApp", CommittedBytesMax >= MaxMsgBytesDefault},
		{"reads may pend", PendingReadsMax >= 1},
		{"terms leave room to campaign", uint64(TermMax) < math.MaxUint64},
		{"a read context is a uint64", readContextBytes == 8},
		{"the unstable tail shrinks by a real factor", unstableShrinkFactor >= 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Fatalf("limit relation %q does not hold", tc.name)
			}
		})
	}
}
