package server

import (
	"context"
	"fmt"
	"time"

	"github.com/raftlock/raftlock/locks"
)

// propose stamps cmd with this leader's wall time, validates and encodes it,
// replicates it and returns the lock table's result once it is applied here.
// The error is about the proposal (no leader, timeout, invalid command); a
// refusal of the table is in Result.Err.
func (n *Node) propose(ctx context.Context, cmd locks.Command) (locks.Result, error) {
	if n.fsm == nil {
		return locks.Result{}, errNoLockTable
	}
	cmd.Time = time.Now().UnixNano()
	if err := n.aclStamp(ctx, &cmd); err != nil {
		return locks.Result{}, err
	}
	data, err := locks.EncodeCommand(cmd)
	if err != nil {
		return locks.Result{}, err
	}
	start := time.Now()
	v, err := n.drv.Propose(ctx, data)
	n.metrics.proposal(cmd.Kind, time.Since(start), err)
	if err != nil {
		return locks.Result{}, fmt.Errorf("propose %s: %w", cmd.Kind, err)
	}
	res, ok := v.(locks.Result)
	assertf(ok, "lock table returned %T for %s", v, cmd.Kind)
	return res, nil
}

// linearizable returns once this node has applied every entry committed
// before the call, after confirming its leadership with a quorum (ReadIndex,
// no log write). Reads of the table after it are linearizable.
func (n *Node) linearizable(ctx context.Context) error {
	if n.fsm == nil {
		return errNoLockTable
	}
	if err := n.drv.LinearizableRead(ctx); err != nil {
		return fmt.Errorf("confirm leadership: %w", err)
	}
	return nil
}

// errNoLockTable is returned by the lock API of a node started with another
// state machine (Options.FSM): a wiring bug, so internal.
var errNoLockTable = fmt.Errorf("server: this node runs without the lock table")
