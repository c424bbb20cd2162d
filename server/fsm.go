package server

import "github.com/raftlock/raftlock/consensus"

// StateMachine is the replicated state a node applies committed commands to,
// in log order, on every node. The lock table plugs in here (issue 5) through
// an adapter; until then a node runs with discardCommands. Apply must be
// deterministic and must not block: it runs on the Raft loop.
type StateMachine interface {
	// Apply applies the command committed at index and returns its result,
	// which the proposer's Propose returns.
	Apply(index consensus.Index, data []byte) any
}

// discardCommands is the state machine of a node with no lock table yet: it
// applies nothing. Nothing can propose to it from outside either: the client
// API that proposes arrives with the lock table.
type discardCommands struct{}

func (discardCommands) Apply(consensus.Index, []byte) any { return nil }
