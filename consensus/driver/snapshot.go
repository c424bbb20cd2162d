package driver

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/consensus/snapfile"
)

// SnapshotStats describe the node's snapshots since it started.
type SnapshotStats struct {
	// Index is the index of the latest snapshot (taken or installed); 0 when none.
	Index consensus.Index
	// Taken and Installed count the snapshots this node wrote of its own
	// state machine and those it installed from a leader.
	Taken, Installed uint64
	// LastBytes is the size of the latest snapshot file written here.
	LastBytes int64
	// LastDuration is how long the latest snapshot or install held the
	// node loop.
	LastDuration time.Duration
}

// SnapshotStats returns the node's snapshot counters.
func (n *Node) SnapshotStats() SnapshotStats { return *n.snapStats.Load() }

// restoreAtStart restores the state machine from the store's latest snapshot,
// if there is one, and returns its metadata: the core starts with it applied.
func restoreAtStart(cfg Config, log *zap.Logger) (consensus.SnapshotMeta, error) {
	meta, err := cfg.Store.Snapshot()
	if err != nil {
		return consensus.SnapshotMeta{}, fmt.Errorf("driver: stored snapshot: %w", err)
	}
	if meta.IsEmpty() {
		return meta, nil
	}
	if cfg.Snapshots == nil {
		return consensus.SnapshotMeta{}, fmt.Errorf("driver: the store names snapshot %d but snapshots are off", meta.Index)
	}
	start := time.Now()
	if err := restoreFSM(cfg.Snapshots, cfg.FSM, meta); err != nil {
		return consensus.SnapshotMeta{}, err
	}
	log.Info("state machine restored from snapshot", zap.Uint64("snapshot_index", uint64(meta.Index)),
		zap.Uint64("snapshot_term", uint64(meta.Term)), zap.Duration("took", time.Since(start)))
	return meta, nil
}

// restoreFSM replaces fsm's state with the snapshot at meta.
func restoreFSM(dir *snapfile.Dir, fsm StateMachine, meta consensus.SnapshotMeta) error {
	p, err := dir.Load(meta)
	if err != nil {
		return fmt.Errorf("driver: snapshot %d: %w", meta.Index, err)
	}
	err = fsm.Restore(p)
	if err = errors.Join(err, p.Close()); err != nil {
		// A failed Close means the file was damaged after the state machine
		// read what it needed: its state cannot be trusted, and the node
		// stops rather than serve it.
		return fmt.Errorf("driver: restore from snapshot %d: %w", meta.Index, err)
	}
	return nil
}

// restore is step 3 for a Ready that carries a snapshot: the state machine
// takes the snapshot's state, proposals it covers get their answer, and
// older snapshot files go.
func (n *Node) restore(meta consensus.SnapshotMeta) error {
	if n.cfg.Snapshots == nil {
		return fmt.Errorf("driver: leader sent snapshot %d but snapshots are off", meta.Index)
	}
	start := time.Now()
	if err := restoreFSM(n.cfg.Snapshots, n.cfg.FSM, meta); err != nil {
		return err
	}
	took := time.Since(start)
	for idx, p := range n.pending {
		if idx <= meta.Index {
			// Proposed while this node led; whether it committed is in the
			// snapshot, not in an entry this node will apply. A retry with
			// the same request id is safe.
			delete(n.pending, idx)
			p.fut.resolve(nil, fmt.Errorf("driver: proposal at %d covered by an installed snapshot: %w", idx, ErrLeaderChanged))
		}
	}
	n.applied = meta.Index
	n.snap = meta
	st := *n.snapStats.Load()
	st.Index, st.LastDuration = meta.Index, took
	st.Installed++
	n.snapStats.Store(&st)
	n.log.Info("snapshot installed", zap.Uint64("snapshot_index", uint64(meta.Index)),
		zap.Uint64("snapshot_term", uint64(meta.Term)), zap.Duration("took", took))
	n.prune(meta)
	return nil
}

// maybeSnapshot snapshots the state machine once SnapshotEntries entries were
// applied since the last snapshot, records it in the store and compacts the
// log up to CompactionTailEntries before it. It runs on the loop, between
// Readys, so the state machine is exactly at the applied index.
func (n *Node) maybeSnapshot() error {
	if n.cfg.Snapshots == nil || uint64(n.applied-n.snap.Index) < n.cfg.SnapshotEntries {
		return nil
	}
	start := time.Now()
	term, err := n.cfg.Store.Term(n.applied)
	if err != nil {
		return fmt.Errorf("driver: snapshot at %d: term: %w", n.applied, err)
	}
	meta := consensus.SnapshotMeta{Index: n.applied, Term: term, Voters: n.cfg.Voters}
	w, err := n.cfg.Snapshots.Create(meta)
	if err != nil {
		return fmt.Errorf("driver: snapshot at %d: %w", meta.Index, err)
	}
	if err := n.cfg.FSM.Snapshot(w); err != nil {
		return errors.Join(fmt.Errorf("driver: snapshot at %d: %w", meta.Index, err), w.Abort())
	}
	size, err := w.Commit()
	if err != nil {
		return fmt.Errorf("driver: snapshot at %d: %w", meta.Index, err)
	}
	written := time.Since(start)
	if err := n.cfg.Store.SetSnapshot(meta); err != nil {
		return fmt.Errorf("driver: record snapshot %d: %w", meta.Index, err)
	}
	n.snap = meta
	if tail := consensus.Index(n.cfg.CompactionTailEntries); meta.Index > tail {
		if err := n.cfg.Store.Compact(meta.Index - tail); err != nil {
			return fmt.Errorf("driver: compact to %d: %w", meta.Index-tail, err)
		}
	}
	took := time.Since(start)
	st := *n.snapStats.Load()
	st.Index, st.LastBytes, st.LastDuration = meta.Index, size, took
	st.Taken++
	n.snapStats.Store(&st)
	n.log.Info("snapshot taken", zap.Uint64("snapshot_index", uint64(meta.Index)),
		zap.Int64("bytes", size), zap.Duration("written", written), zap.Duration("took", took))
	n.prune(meta)
	return nil
}

// prune removes the snapshot files older than meta. A failure costs disk
// space only, so it is logged, not fatal.
func (n *Node) prune(meta consensus.SnapshotMeta) {
	if _, err := n.cfg.Snapshots.Prune(meta); err != nil {
		n.log.Warn("pruning old snapshots failed", zap.Error(err))
	}
}
