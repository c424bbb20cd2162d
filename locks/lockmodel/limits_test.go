package lockmodel

// TestLimits proves the relations between the package's limits and the code
// they bound: the expiry subsets tried per step are exactly every subset of
// at most two candidates, once each, so a step yields at most
// StatesPerStepMax states.

import "testing"

func TestLimits(t *testing.T) {
	for n := range 3 {
		seen := map[int]bool{}
		for _, level := range expiryLevels(n) {
			for _, mask := range level {
				if seen[mask] {
					t.Errorf("expiryLevels(%d) tries mask %b twice; want once", n, mask)
				}
				seen[mask] = true
			}
		}
		if len(seen) != 1<<n {
			t.Errorf("expiryLevels(%d) tries %d subsets; want %d", n, len(seen), 1<<n)
		}
	}
	if StatesPerStepMax < 1<<2 {
		t.Errorf("StatesPerStepMax = %d; want >= %d, the subsets of two expiries", StatesPerStepMax, 1<<2)
	}
	if DriveClientsMax*DriveOpsPerClientMax > RecorderOperationsMax {
		t.Errorf("DriveClientsMax*DriveOpsPerClientMax = %d; want <= RecorderOperationsMax %d", DriveClientsMax*DriveOpsPerClientMax, RecorderOperationsMax)
	}
	if RecorderOperationsMax < 1 || ViolationsMax < 1 {
		t.Errorf("RecorderOperationsMax = %d, ViolationsMax = %d; want both >= 1", RecorderOperationsMax, ViolationsMax)
	}
}
