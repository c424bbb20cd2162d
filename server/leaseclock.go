package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/locks"
)

// runLeaseClock drives the leader's lease clock (DESIGN.md §4) until ctx
// ends: on becoming leader, once its first entry of the term is applied, it
// resets every deadline from the table; while leading it proposes
// ExpireLease for leases past their deadline every LeaseTickInterval and
// CheckpointLeases every CheckpointInterval for those that need one (quiet
// leases and leases whose record stands, not those kept alive in time); on
// losing leadership it stops the clock.
func (n *Node) runLeaseClock(ctx context.Context) {
	for {
		changed := n.drv.LeaderChanged()
		st := n.drv.Status()
		if n.fsm != nil && st.Role == consensus.RoleLeader {
			n.lead(ctx, changed)
		}
		if n.fsm != nil {
			n.fsm.stopLeading()
		}
		select {
		case <-changed:
			n.metrics.leaderChanges.inc()
		case <-ctx.Done():
			return
		}
	}
}

// lead runs the lease clock for one leadership; it returns when the leader
// or role changes or ctx ends.
func (n *Node) lead(ctx context.Context, changed <-chan struct{}) {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Exits when lead returns (cancel).
	go func() {
		select {
		case <-changed:
			cancel()
		case <-lctx.Done():
		}
	}()
	// A read confirms the leadership and returns once an entry of this term
	// is applied here, so the table holds every lease earlier leaders
	// created, with their last checkpoints.
	for {
		err := n.drv.LinearizableRead(lctx)
		if err == nil {
			break
		}
		if lctx.Err() != nil {
			return
		}
		n.log.Debug("lease clock waits for leadership", zap.Error(err))
		select {
		case <-time.After(LeaseTickInterval):
		case <-lctx.Done():
			return
		}
	}
	n.fsm.startLeading()
	n.log.Info("lease clock started", zap.Uint64("term", uint64(n.drv.Status().Term)))
	tick := time.NewTicker(LeaseTickInterval)
	defer tick.Stop()
	checkpoint := time.NewTicker(n.checkpointEvery)
	defer checkpoint.Stop()
	var retry []locks.LeaseID
	for {
		select {
		case <-lctx.Done():
			return
		case <-tick.C:
			retry = n.expireLeases(lctx, append(retry, n.fsm.expired(ExpiriesPerTickMax)...))
		case <-checkpoint.C:
			n.checkpointLeases(lctx)
		}
	}
}

// expireLeases proposes ExpireLease for each of ids, concurrently, and
// returns those whose proposal failed without an answer (to retry next tick:
// the clock reports a lease once).
func (n *Node) expireLeases(ctx context.Context, ids []locks.LeaseID) []locks.LeaseID {
	if len(ids) == 0 {
		return nil
	}
	var mu sync.Mutex
	var failed []locks.LeaseID
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		// Exits when the proposal is applied or fails.
		go func() {
			defer wg.Done()
			res, err := n.propose(ctx, locks.Command{Kind: locks.KindExpireLease, LeaseID: id})
			switch {
			case err != nil:
				mu.Lock()
				failed = append(failed, id)
				mu.Unlock()
			case res.Err == nil:
				n.metrics.expired.inc()
				n.log.Debug("lease expired", zap.Uint64("lease_id", uint64(id)), zap.Int("released", res.Released))
			case !errors.Is(res.Err, locks.ErrNotFound):
				n.log.Error("expire lease refused", zap.Uint64("lease_id", uint64(id)), zap.Error(res.Err))
			}
		}()
	}
	wg.Wait()
	if len(failed) > 0 && ctx.Err() == nil {
		n.log.Warn("lease expiry not committed; retrying", zap.Int("leases", len(failed)))
	}
	return failed
}

// checkpointLeases commits the remaining time of the leases that need a
// checkpoint (locks.LeaseClock.Checkpoints), CheckpointsPerCommandMax per
// entry.
func (n *Node) checkpointLeases(ctx context.Context) {
	select {
	case n.checkpointRound <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-n.checkpointRound }()
	cps := n.fsm.checkpoints()
	if hook := n.checkpointing.Load(); hook != nil && len(cps) > 0 {
		(*hook)(cps)
	}
	for len(cps) > 0 {
		k := min(len(cps), locks.CheckpointsPerCommandMax)
		res, err := n.propose(ctx, locks.Command{Kind: locks.KindCheckpointLeases, Checkpoints: cps[:k]})
		if err == nil {
			err = res.Err
		}
		if err != nil {
			if ctx.Err() == nil {
				n.log.Warn("lease checkpoint not committed", zap.Int("leases", k), zap.Error(err))
			}
			return
		}
		cps = cps[k:]
	}
}

// awaitCheckpointRound returns once no checkpoint round is between taking
// its records and proposing them. A keepalive that found its lease's record
// standing calls it before proposing the clear: the record may have been
// taken just before the keepalive and not be in the log yet, and a clear
// committed before it would leave it standing, so that a next leader could
// expire the lease before the deadline just promised. A round that starts
// later does not record the lease: the keepalive gave it its full ttl.
// It fails with ctx's error if ctx ends first.
func (n *Node) awaitCheckpointRound(ctx context.Context) error {
	select {
	case n.checkpointRound <- struct{}{}:
		<-n.checkpointRound
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
