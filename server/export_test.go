package server

import (
	"context"

	"github.com/raftlock/raftlock/locks"
)

// ErrorCodes lists the (code, status) pairs of the server's error table, in
// its order, for the external tests that compare it with client/wire and
// openapi.yaml.
func ErrorCodes() []struct {
	Code   string
	Status int
} {
	var out []struct {
		Code   string
		Status int
	}
	for _, r := range errorTable() {
		out = append(out, struct {
			Code   string
			Status int
		}{r.code, r.status})
	}
	return out
}

// OnCheckpointRound makes f run on the leader's checkpoint loop between
// taking a round's records and proposing them (nil removes it).
func (n *Node) OnCheckpointRound(f func(leases []uint64)) {
	if f == nil {
		n.checkpointing.Store(nil)
		return
	}
	hook := func(cps []locks.Checkpoint) {
		ids := make([]uint64, len(cps))
		for i, cp := range cps {
			ids[i] = uint64(cp.LeaseID)
		}
		f(ids)
	}
	n.checkpointing.Store(&hook)
}

// AwaitCheckpointRound returns once no checkpoint round is between taking
// its records and having its proposals answered.
func (n *Node) AwaitCheckpointRound(ctx context.Context) error {
	return n.awaitCheckpointRound(ctx)
}
