package main

import (
	"context"
	"errors"
)

// errUnsupported marks a workload variant a system does not have (the raw
// HTTP locker of etcd).
var errUnsupported = errors.New("not supported by this system")

// worker is one benchmark client: op is one measured operation, close
// releases what the client holds (its session).
type worker struct {
	op    func(ctx context.Context) error
	close func() error
}

// leaseSet is the keepalive workload's live leases, shared by its workers.
type leaseSet struct {
	ids []uint64
}

// target is one system under test, with its cluster running.
type target interface {
	// name is "raftlock" or "etcd".
	name() string
	// cluster is the running node processes.
	cluster() *cluster
	// locker is a client as the system's users write one: a session and a
	// mutex on lock; op = lock (blocking) + unlock.
	locker(ctx context.Context, lock string) (worker, error)
	// rawLocker is the cheapest client of lock: op = one acquire and one
	// release round trip, no session. errUnsupported where there is none.
	rawLocker(ctx context.Context, lock string) (worker, error)
	// leaseCycler's op creates a lease and revokes it.
	leaseCycler(ctx context.Context) (worker, error)
	// createLease creates one lease of ttl for the keepalive workload.
	createLease(ctx context.Context, ttlSeconds int64) (uint64, error)
	// keepaliver's op renews one lease and reports whether it was alive.
	keepaliver(ctx context.Context) (func(ctx context.Context, id uint64) (alive bool, err error), func() error, error)
	// revokeLease revokes one lease.
	revokeLease(ctx context.Context, id uint64) error
	// holdLock makes lock held by lease (the memory workload).
	holdLock(ctx context.Context, lease uint64, lock string) error
	// close releases the target's shared clients (not the cluster).
	close() error
}
