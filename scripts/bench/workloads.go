package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// workload is one row of the table: how to open its workers on a target.
type workload struct {
	key  string
	unit string
	open func(ctx context.Context, t target) ([]worker, error)
	// after, when set, runs once per target after its last run and
	// returns a note for the report (the keepalive workload's expiries).
	after func(ctx context.Context, t target) string
	// sequential workloads run one system at a time (their state on one
	// system must not wait out the other's runs).
	sequential bool
}

// uncontended: c clients, each locking and unlocking a lock of its own.
func uncontended(c int, raw bool) workload {
	w := workload{key: fmt.Sprintf("lock C=%d", c), unit: "pairs/s"}
	if raw {
		w.key += " raw HTTP"
	}
	w.open = func(ctx context.Context, t target) ([]worker, error) {
		return openWorkers(ctx, c, func(ctx context.Context, i int) (worker, error) {
			name := lockName("u", i)
			if raw {
				return t.rawLocker(ctx, name)
			}
			return t.locker(ctx, name)
		})
	}
	return w
}

// contended: contendedClients clients with a session each block on one lock;
// every op is a hand-off.
func contended() workload {
	return workload{
		key: fmt.Sprintf("contended %d on 1 lock", contendedClients), unit: "hand-offs/s",
		open: func(ctx context.Context, t target) ([]worker, error) {
			return openWorkers(ctx, contendedClients, func(ctx context.Context, i int) (worker, error) {
				return t.locker(ctx, lockName("c", 0))
			})
		},
	}
}

// leaseCycle: leaseClients clients creating and revoking leases.
func leaseCycle() workload {
	return workload{
		key: fmt.Sprintf("lease create+revoke C=%d", leaseClients), unit: "pairs/s",
		open: func(ctx context.Context, t target) ([]worker, error) {
			return openWorkers(ctx, leaseClients, func(ctx context.Context, i int) (worker, error) {
				return t.leaseCycler(ctx)
			})
		},
	}
}

// keepaliveState is the keepalive workload's leases on one target.
type keepaliveState struct {
	ids []uint64
	// lastAck is the send time (UnixNano) of each lease's last acknowledged
	// keepalive (or of its create).
	lastAck []atomic.Int64
	cursor  atomic.Uint64
	// lost counts keepalives that found their lease gone; spurious those of
	// them sent less than a ttl after the lease's last acknowledged renewal.
	lost, spurious atomic.Int64
	// youngestLoss is the smallest age (ns since the last acknowledged
	// renewal) at which a lease was found gone.
	youngestLoss atomic.Int64
	created      time.Duration
}

// keepalives: n live leases of ttl, renewed round-robin by leaseClients
// clients as fast as they go; after the runs every lease must still be
// alive, and none may have been lost less than a ttl after a renewal.
func keepalives(n int, ttl time.Duration, out func(format string, args ...any)) workload {
	states := map[string]*keepaliveState{}
	w := workload{key: fmt.Sprintf("keepalive, %d leases, C=%d", n, leaseClients), unit: "keepalives/s", sequential: true}
	w.open = func(ctx context.Context, t target) ([]worker, error) {
		st := &keepaliveState{ids: make([]uint64, n), lastAck: make([]atomic.Int64, n)}
		st.youngestLoss.Store(math.MaxInt64)
		states[t.name()] = st
		start := time.Now()
		failed, err := parallel(ctx, n, func(ctx context.Context, i int) error {
			sent := time.Now()
			id, err := t.createLease(ctx, int64(ttl.Seconds()))
			st.ids[i] = id
			st.lastAck[i].Store(sent.UnixNano())
			return err
		})
		st.created = time.Since(start)
		if err != nil {
			return nil, fmt.Errorf("bench: %s: %d of %d leases not created: %w", t.name(), failed, n, err)
		}
		out("%s: created %d leases of ttl %v in %v (%.0f/s)\n", t.name(), n, ttl, st.created.Round(time.Millisecond), float64(n)/st.created.Seconds())
		return openWorkers(ctx, leaseClients, func(ctx context.Context, i int) (worker, error) {
			ka, closeFn, err := t.keepaliver(ctx)
			if err != nil {
				return worker{}, err
			}
			return worker{op: func(ctx context.Context) error { return st.renew(ctx, ka, ttl) }, close: closeFn}, nil
		})
	}
	w.after = func(ctx context.Context, t target) string {
		st := states[t.name()]
		alive, cerr := countAlive(ctx, t, st.ids)
		failed, rerr := parallel(ctx, len(st.ids), func(ctx context.Context, i int) error {
			return t.revokeLease(ctx, st.ids[i])
		})
		note := fmt.Sprintf("%d/%d leases alive at the end; %d lost during the runs, %d of them spuriously (renewed less than %v before)",
			alive, len(st.ids), st.lost.Load(), st.spurious.Load(), ttl)
		if st.lost.Load() > 0 {
			note += fmt.Sprintf("; the youngest loss was %v after its last renewal", time.Duration(st.youngestLoss.Load()).Round(time.Millisecond))
		}
		if err := errors.Join(cerr, rerr); err != nil {
			note += fmt.Sprintf("; final check or cleanup failed (%d revokes failed): %v", failed, err)
		}
		return note
	}
	return w
}

// renew sends one keepalive to the next lease in turn.
func (st *keepaliveState) renew(ctx context.Context, ka func(context.Context, uint64) (bool, error), ttl time.Duration) error {
	i := int((st.cursor.Add(1) - 1) % uint64(len(st.ids)))
	sent := time.Now()
	alive, err := ka(ctx, st.ids[i])
	if err != nil {
		return err
	}
	if !alive {
		st.lost.Add(1)
		age := sent.Sub(time.Unix(0, st.lastAck[i].Load()))
		for {
			y := st.youngestLoss.Load()
			if int64(age) >= y || st.youngestLoss.CompareAndSwap(y, int64(age)) {
				break
			}
		}
		if age < ttl {
			st.spurious.Add(1)
		}
		return fmt.Errorf("bench: lease %d expired", st.ids[i])
	}
	st.lastAck[i].Store(sent.UnixNano())
	return nil
}

// countAlive renews every lease once, leaseClients streams at a time, and
// returns how many were alive.
func countAlive(ctx context.Context, t target, ids []uint64) (int, error) {
	var alive atomic.Int64
	_, err := parallel(ctx, leaseClients, func(ctx context.Context, w int) error {
		ka, closeFn, err := t.keepaliver(ctx)
		if err != nil {
			return err
		}
		for i := w; i < len(ids); i += leaseClients {
			ok, err := ka(ctx, ids[i])
			if err != nil {
				return errors.Join(err, closeFn())
			}
			if ok {
				alive.Add(1)
			}
		}
		return closeFn()
	})
	return int(alive.Load()), err
}
