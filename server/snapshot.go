package server

import (
	"fmt"
	"io"
)

// Snapshot implements StateMachine: the whole lock table, in the table's own
// format (locks.Table.Snapshot). The driver calls it on the Raft loop, so the
// table is exactly at the applied index; handlers wait for the lock meanwhile.
func (f *lockFSM) Snapshot(w io.Writer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.table.Snapshot(w)
}

// Restore implements StateMachine: the table becomes the snapshot's, and
// every blocking read and event stream wakes to look again (any object may
// have changed). A leader's lease clock restarts from the new table; a
// follower has none.
func (f *lockFSM) Restore(r io.Reader) error {
	f.mu.Lock()
	if err := f.table.Restore(r); err != nil {
		f.mu.Unlock()
		return fmt.Errorf("server: restore the lock table: %w", err)
	}
	if f.leading {
		f.clock.Reset(f.now(), f.table.LeaseTimers())
	}
	f.mu.Unlock()
	f.hub.wakeAll()
	return nil
}

// wakeAll wakes every watcher: after a snapshot replaced the table, any
// object may have changed. Grants are not delivered: a queued acquire waits
// on the leader, which never installs a snapshot.
func (h *hub) wakeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, w := range h.watchers {
		close(w.ch)
		delete(h.watchers, k)
	}
}
