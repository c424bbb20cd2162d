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
	// LastDuration is how long the latest snapshot took from start to
	// record (written off the loop; applying waited that long), or how long
	// the latest install held the loop.
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
	if err := n.waitSnapshot(); err != nil {
		return err
	}
	// Entries waiting in the backlog are at or below the snapshot (the
	// core discarded its log for it): the snapshot holds their effect.
	n.applyBacklog()
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
	n.setMembership(meta.Membership(), meta.Index)
	st := *n.snapStats.Load()
	st.Index, st.LastDuration = meta.Index, took
	st.Installed++
	n.snapStats.Store(&st)
	n.log.Info("snapshot installed", zap.Uint64("snapshot_index", uint64(meta.Index)),
		zap.Uint64("snapshot_term", uint64(meta.Term)), zap.Duration("took", took))
	n.prune(meta)
	return nil
}

// snapJob is a snapshot being written off the loop.
type snapJob struct {
	meta  consensus.SnapshotMeta
	start time.Time
	// done is closed when the goroutine has sent its result.
	done chan struct{}
}

// snapResult is how writing a snapshot ended.
type snapResult struct {
	job  *snapJob
	size int64
	err  error
}

// maybeSnapshot starts a snapshot of the state machine at the applied index
// once SnapshotEntries entries were applied since the last one, and the
// last snapshot's cost leaves room (SnapshotDutyFactor). The state machine
// writes it on a goroutine of its own, so the loop keeps ticking,
// heartbeating, persisting and replicating; only applying waits (entries
// committed meanwhile go to the backlog), which keeps the snapshot at
// exactly the applied index without copy-on-write. finishSnapshot records it.
func (n *Node) maybeSnapshot() error {
	if n.cfg.Snapshots == nil || n.snapping != nil || len(n.backlog) > 0 ||
		uint64(n.applied-n.snap.Index) < n.cfg.SnapshotEntries {
		return nil
	}
	if len(n.Membership().Voters) == 0 {
		// A joining node that has not applied the entry adding it yet
		// knows no membership to record: it snapshots once it has.
		return nil
	}
	if !n.lastSnapEnd.IsZero() && time.Since(n.lastSnapEnd) < SnapshotDutyFactor*n.lastSnapTook {
		return nil
	}
	term, err := n.cfg.Store.Term(n.applied)
	if err != nil {
		return fmt.Errorf("driver: snapshot at %d: term: %w", n.applied, err)
	}
	job := &snapJob{meta: consensus.SnapshotMeta{Index: n.applied, Term: term},
		start: time.Now(), done: make(chan struct{})}
	job.meta.SetMembership(n.Membership().Membership.Clone())
	w, err := n.cfg.Snapshots.Create(job.meta)
	if err != nil {
		return fmt.Errorf("driver: snapshot at %d: %w", job.meta.Index, err)
	}
	n.snapping = job
	// Exits once the file is written; Run waits for it (abandonSnapshot).
	go func() {
		defer close(job.done)
		res := snapResult{job: job}
		if res.err = n.cfg.FSM.Snapshot(w); res.err != nil {
			res.err = errors.Join(res.err, w.Abort())
		} else {
			res.size, res.err = w.Commit()
		}
		n.snapDone <- res // buffered for the one job in flight
	}()
	return nil
}

// finishSnapshot records a written snapshot in the store, compacts the log
// up to CompactionTailEntries before it, and applies the backlog.
func (n *Node) finishSnapshot(res snapResult) error {
	job := res.job
	assertf(job == n.snapping, "snapshot result for %d, writing %d", job.meta.Index, n.snapping.meta.Index)
	n.snapping = nil
	if res.err != nil {
		return fmt.Errorf("driver: snapshot at %d: %w", job.meta.Index, res.err)
	}
	written := time.Since(job.start)
	if err := n.recordSnapshot(job.meta); err != nil {
		return err
	}
	took := time.Since(job.start)
	n.lastSnapEnd, n.lastSnapTook = time.Now(), took
	st := *n.snapStats.Load()
	st.Index, st.LastBytes, st.LastDuration = job.meta.Index, res.size, took
	st.Taken++
	n.snapStats.Store(&st)
	n.log.Info("snapshot taken", zap.Uint64("snapshot_index", uint64(job.meta.Index)),
		zap.Int64("bytes", res.size), zap.Duration("written", written), zap.Duration("took", took),
		zap.Int("backlog", len(n.backlog)))
	n.applyBacklog()
	if err := n.handleReady(); err != nil {
		return err
	}
	n.publish(nil)
	return nil
}

// recordSnapshot records the snapshot at meta in the store and compacts the
// log behind it. A snapshot installed from the leader meanwhile makes it
// out of date: its file goes, nothing else happens.
func (n *Node) recordSnapshot(meta consensus.SnapshotMeta) error {
	// The store records a snapshot (and compacts) only at or below its
	// commit index, which may lag the applied one (persist).
	if err := n.flushHardState(); err != nil {
		return err
	}
	err := n.cfg.Store.SetSnapshot(meta)
	if errors.Is(err, consensus.ErrSnapshotOutOfDate) {
		n.log.Info("snapshot superseded by an installed one", zap.Uint64("snapshot_index", uint64(meta.Index)))
		n.prune(n.snap)
		return nil
	}
	if err != nil {
		return fmt.Errorf("driver: record snapshot %d: %w", meta.Index, err)
	}
	n.snap = meta
	if tail := consensus.Index(n.cfg.CompactionTailEntries); meta.Index > tail {
		if err := n.cfg.Store.Compact(meta.Index - tail); err != nil {
			return fmt.Errorf("driver: compact to %d: %w", meta.Index-tail, err)
		}
	}
	n.prune(meta)
	return nil
}

// applyBacklog applies the entries committed while a snapshot was written.
func (n *Node) applyBacklog() {
	ents := n.backlog
	n.backlog = nil
	n.applyNow(ents)
}

// waitSnapshot waits for the snapshot being written, if any, and records
// it (restoring from a leader's snapshot must not race with it).
func (n *Node) waitSnapshot() error {
	if n.snapping == nil {
		return nil
	}
	<-n.snapping.done
	res := <-n.snapDone
	job := res.job
	n.snapping = nil
	if res.err != nil {
		return fmt.Errorf("driver: snapshot at %d: %w", job.meta.Index, res.err)
	}
	return n.recordSnapshot(job.meta)
}

// abandonSnapshot waits, when Run ends, for the snapshot goroutine to finish
// writing; the snapshot is not recorded (the next start replays from the
// previous one) and its file is pruned later.
func (n *Node) abandonSnapshot() {
	if n.snapping != nil {
		<-n.snapping.done
		<-n.snapDone
		n.snapping = nil
	}
}

// prune removes the snapshot files older than meta. A failure costs disk
// space only, so it is logged, not fatal.
func (n *Node) prune(meta consensus.SnapshotMeta) {
	if _, err := n.cfg.Snapshots.Prune(meta); err != nil {
		n.log.Warn("pruning old snapshots failed", zap.Error(err))
	}
}

// assertf panics with "invariant violated: ..." when cond is false; for
// programmer errors only.
func assertf(cond bool, format string, args ...any) {
	if !cond {
		panic(fmt.Sprintf("invariant violated: "+format, args...))
	}
}
