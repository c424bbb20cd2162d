package server

import (
	"errors"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/locks"
)

// StateMachine is the replicated state a node applies committed commands to,
// in log order, on every node. A node runs the lock table (lockFSM) unless
// Options.FSM plugs in another one (tests record what was applied). Apply
// must be deterministic and must not block: it runs on the Raft loop.
type StateMachine interface {
	// Apply applies the command committed at index and returns its result,
	// which the proposer's Propose returns.
	Apply(index consensus.Index, data []byte) any
	// Snapshot writes the whole state as of the last Apply to w.
	Snapshot(w io.Writer) error
	// Restore replaces the whole state with the snapshot r holds, reading r
	// to its end; on error the state is unchanged.
	Restore(r io.Reader) error
}

// lockFSM adapts the lock table to the driver: it applies entries, wakes the
// requests waiting on what an entry changed (through the hub, without
// blocking), and, while this node leads, keeps the lease clock in step with
// the leases the log creates and removes. Handlers read the table through it.
type lockFSM struct {
	hub *hub
	// start is the origin of the lease clock's monotonic readings.
	start time.Time

	mu    sync.Mutex
	table *locks.Table
	clock *locks.LeaseClock
	// leading is true between startLeading and stopLeading: the clock holds
	// a deadline for every lease of the table.
	leading bool
	// keys is scratch for Apply.
	keys []string
}

func newLockFSM(h *hub) *lockFSM {
	return &lockFSM{hub: h, start: time.Now(), table: locks.NewTable(), clock: locks.NewLeaseClock()}
}

// now is the lease clock's reading: monotonic time since start.
func (f *lockFSM) now() locks.Duration { return locks.Duration(time.Since(f.start)) }

// Apply implements StateMachine. The result is a locks.Result.
func (f *lockFSM) Apply(index consensus.Index, data []byte) any {
	f.mu.Lock()
	res := f.table.Apply(locks.Index(index), data)
	f.keys = f.keys[:0]
	var grants []grant
	for _, ch := range f.table.Changes() {
		switch ch.Kind {
		case locks.ObjectLease:
			f.keys = append(f.keys, leaseKey(ch.LeaseID))
			f.trackLease(ch.LeaseID)
		case locks.ObjectLock, locks.ObjectElection:
			election := ch.Kind == locks.ObjectElection
			f.keys = append(f.keys, objectKey(ch.Name, election))
			info := f.info(ch.Name, election)
			if info.Held && info.Holder.Token == locks.Token(index) {
				grants = append(grants, grant{key: grantKey{name: ch.Name, election: election, lease: info.Holder.LeaseID}, holder: info.Holder})
			}
		}
	}
	f.mu.Unlock()
	f.hub.notify(f.keys, grants)
	return res
}

// trackLease keeps the clock in step with lease id after an entry changed
// it: a new lease is timed from now, a removed one forgotten. f.mu is held.
func (f *lockFSM) trackLease(id locks.LeaseID) {
	if !f.leading {
		return
	}
	info, ok := f.table.Lease(id)
	if !ok {
		f.clock.Forget(id)
		return
	}
	if _, tracked := f.clock.Remaining(id, f.now()); !tracked {
		f.clock.Track(id, info.TTL, f.now())
	}
}

func (f *lockFSM) info(name string, election bool) locks.LockInfo {
	if election {
		return f.table.Election(name)
	}
	return f.table.Lock(name)
}

// read runs fn on the table under the lock; fn must not block.
func (f *lockFSM) read(fn func(t *locks.Table)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.table)
}

// startLeading resets the lease clock from the table (DESIGN.md §4: every
// deadline is now + the checkpointed remaining time, or now + ttl).
func (f *lockFSM) startLeading() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock.Reset(f.now(), f.table.LeaseTimers())
	f.leading = true
}

// stopLeading stops the lease clock; a later leadership resets it.
func (f *lockFSM) stopLeading() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leading = false
	f.clock.Reset(0, nil)
}

// errLeaseExpiring: the leader's clock passed the lease's deadline and its
// ExpireLease is on its way, but the table still holds the lease.
var errLeaseExpiring = errors.New("server: lease expiry in progress")

// keepalive resets lease id's deadline. It fails with ErrNotLeaseClock when
// the clock is not running here, with errLeaseExpiring while the lease's
// expiry is on its way, and with locks.ErrNotFound when the lease is gone.
func (f *lockFSM) keepalive(id locks.LeaseID) (ttl locks.Duration, clearCheckpoint bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.leading {
		return 0, false, errNoLeaseClock
	}
	ttl, clearCheckpoint, ok := f.clock.Keepalive(id, f.now())
	if !ok {
		if _, exists := f.table.Lease(id); exists {
			return 0, false, errLeaseExpiring
		}
		return 0, false, notFoundf("lease %d not found", id)
	}
	return ttl, clearCheckpoint, nil
}

// remaining is the time left of lease info as this node knows it: the
// clock's deadline while leading, else the checkpointed remaining time or
// the ttl.
func (f *lockFSM) remaining(info locks.LeaseInfo) locks.Duration {
	if f.leading {
		if rem, ok := f.clock.Remaining(info.ID, f.now()); ok {
			return rem
		}
	}
	if info.Checkpointed > 0 {
		return info.Checkpointed
	}
	return info.TTL
}

// expired lists up to limit leases past their deadline (see
// locks.LeaseClock.Expired); nil when not leading.
func (f *lockFSM) expired(limit int) []locks.LeaseID {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.leading {
		return nil
	}
	return f.clock.Expired(f.now(), limit)
}

// checkpoints lists the remaining time of the leases that need a record
// (locks.LeaseClock.Checkpoints); nil when not leading.
func (f *lockFSM) checkpoints() []locks.Checkpoint {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.leading {
		return nil
	}
	return f.clock.Checkpoints(f.now())
}

// stats counts the table's contents, for metrics.
func (f *lockFSM) stats() locks.Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.table.Stats()
}

// objectKey is the hub key of a lock or an election.
func objectKey(name string, election bool) string {
	if election {
		return "e/" + name
	}
	return "l/" + name
}

// leaseKey is the hub key of a lease.
func leaseKey(id locks.LeaseID) string { return "s/" + strconv.FormatUint(uint64(id), 10) }

// lease returns lease id with its remaining time (see remaining).
func (f *lockFSM) lease(id locks.LeaseID) (locks.LeaseInfo, locks.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	info, ok := f.table.Lease(id)
	if !ok {
		return info, 0, false
	}
	return info, f.remaining(info), true
}
