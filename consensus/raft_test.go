package consensus

// These tests drive small clusters of cores through the in-test network of
// corenet_test.go and check elections, replication, commitment, pre-vote,
// leader stickiness, CheckQuorum and the durability rule of Advance.

import (
	"slices"
	"testing"
)

func TestThreeNodesElectAndCommit(t *testing.T) {
	nw := newCoreNet(t, 3)
	nw.elect(1)
	if got := nw.leaders(); !slices.Equal(got, []NodeID{1}) {
		t.Fatalf("leaders() = %v; want [1]", got)
	}
	want := []string{"a", "b", "c"}
	for _, d := range want {
		nw.propose(1, d)
	}
	for _, id := range nw.ids {
		st := nw.nodes[id].Status()
		if st.Lead != 1 || st.Term != 1 {
			t.Errorf("node %d: Status() lead %d term %d; want lead 1 term 1", id, st.Lead, st.Term)
		}
		if st.Commit != 4 || st.Applied != 4 {
			t.Errorf("node %d: commit %d applied %d; want 4 and 4", id, st.Commit, st.Applied)
		}
		if got := nw.appliedData(id); !slices.Equal(got, want) {
			t.Errorf("node %d applied %q; want %q", id, got, want)
		}
	}
}
