package consensus_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/raftlock/raftlock/consensus"
)

// Example drives a one-node core through the driver contract: persist, send,
// apply, advance. A proposal commits only once the Ready carrying it was
// persisted and advanced.
func Example() {
	st := consensus.NewMemoryStorage()
	r, err := consensus.New(consensus.Config{
		ID: 1, Voters: []consensus.NodeID{1}, Storage: st,
		ElectionTicks: 10, HeartbeatTicks: 1, Rand: rand.New(rand.NewPCG(1, 2)),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	handle := func() {
		for r.HasReady() {
			rd := r.Ready()
			if !rd.HardState.IsEmpty() {
				st.SetHardState(rd.HardState) // 1. persist (one fsynced transaction)
			}
			if err := st.Append(rd.Entries); err != nil {
				fmt.Println(err)
				return
			}
			_ = rd.Messages // 2. send: a one-node cluster has no peers
			for _, e := range rd.CommittedEntries {
				if e.Type == consensus.EntryNormal { // 3. apply
					fmt.Printf("apply %d: %s\n", e.Index, e.Data)
				}
			}
			r.Advance(rd) // 4. advance
		}
	}
	for r.Status().Role != consensus.RoleLeader {
		r.Tick()
		handle()
	}
	if _, _, err := r.Propose([]byte("hello")); err != nil {
		fmt.Println(err)
		return
	}
	handle()
	fmt.Println("commit", r.Status().Commit)
	// Output:
	// apply 2: hello
	// commit 2
}
