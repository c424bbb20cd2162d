package consensus

// These tests prove assertf: silent when the invariant holds (without heap
// allocations, so it may sit on hot paths), and a panic naming the values
// when it does not.

import "testing"

func TestAssertfPanicsWithValues(t *testing.T) {
	defer func() {
		got, _ := recover().(string)
		want := "invariant violated: commit 7 > last index 5 on leader (100%)"
		if got != want {
			t.Fatalf("assertf panic = %q; want %q", got, want)
		}
	}()
	assertf(false, "commit %d > last index %d on %s (100%%)", Index(7), Index(5), RoleLeader)
}

func TestAssertfHoldingAllocatesNothing(t *testing.T) {
	a, b := Index(3), Index(4)
	allocs := testing.AllocsPerRun(100, func() {
		assertf(a < b, "index %d not below %d", a, b)
	})
	if allocs != 0 {
		t.Fatalf("assertf(true, ...) allocations = %v; want 0", allocs)
	}
}
