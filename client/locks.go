package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

// AcquireOptions shape an Acquire.
type AcquireOptions struct {
	// LeaseID is the lease to hold the lock with; 0 makes the server create
	// a lease of TTL for this lock alone, revoked when the lock is released.
	LeaseID LeaseID
	// TTL is the ttl of that lease when LeaseID is 0 (0: the server's default).
	TTL time.Duration
	// Owner is a free-form label shown to others (a host name).
	Owner string
	// Wait, when positive, queues the acquire in the lock's FIFO queue for
	// up to Wait (at most WaitMax) instead of failing with ErrLockHeld.
	Wait time.Duration
}

// Acquire asks for lock name. A held lock answers ErrLockHeld with the
// holder in Error.Holder (after the wait, if one was asked for).
func (c *Client) Acquire(ctx context.Context, name string, opts AcquireOptions) (wire.Acquired, error) {
	if err := checkDurations(opts.TTL, opts.Wait); err != nil {
		return wire.Acquired{}, err
	}
	body := wire.AcquireRequest{LeaseID: uint64(opts.LeaseID), TTL: wire.Duration(opts.TTL), Owner: opts.Owner, Wait: wire.Duration(opts.Wait)}
	var out wire.Acquired
	err := c.call(ctx, &request{method: http.MethodPost, path: pathOf("/v1/locks/", name, "/acquire"), body: body, mutating: true, wait: opts.Wait}, &out)
	return out, err
}

// Release frees lock name held with token; any other token answers
// ErrNotHolder, so a late retry cannot free the next holder's lock.
func (c *Client) Release(ctx context.Context, name string, token Token) error {
	var out wire.Released
	return c.call(ctx, &request{method: http.MethodPost, path: pathOf("/v1/locks/", name, "/release"), body: wire.ReleaseRequest{Token: uint64(token)}, mutating: true}, &out)
}

// Lock returns lock name: whether it is held, by whom, and how many wait.
func (c *Client) Lock(ctx context.Context, name string) (wire.LockInfo, error) {
	var out wire.LockInfo
	err := c.call(ctx, &request{method: http.MethodGet, path: pathOf("/v1/locks/", name)}, &out)
	return out, err
}

// List returns the locks whose names start with prefix ("" for all).
func (c *Client) List(ctx context.Context, prefix string) ([]wire.LockInfo, error) {
	var q url.Values
	if prefix != "" {
		q = url.Values{"prefix": {prefix}}
	}
	var out wire.LockList
	err := c.call(ctx, &request{method: http.MethodGet, path: "/v1/locks", query: q}, &out)
	return out.Locks, err
}

// Fence reports whether token is still the current fencing token of lock
// name: true when it is, false (and no error) when the server answers
// stale_token. A resource guarded by the lock calls it before acting on a
// request that carries the token.
func (c *Client) Fence(ctx context.Context, name string, token Token) (bool, error) {
	q := url.Values{"token": {strconv.FormatUint(uint64(token), 10)}}
	var out wire.Fence
	err := c.call(ctx, &request{method: http.MethodGet, path: pathOf("/v1/locks/", name, "/fence"), query: q}, &out)
	switch {
	case err == nil:
		return out.Valid, nil
	case errors.Is(err, ErrStaleToken):
		return false, nil
	}
	return false, err
}

// checkDurations refuses a negative ttl and a wait outside [0, WaitMax].
func checkDurations(ttl, wait time.Duration) error {
	if ttl < 0 {
		return fmt.Errorf("client: ttl %v is negative: %w", ttl, ErrInvalidArgument)
	}
	if wait < 0 {
		return fmt.Errorf("client: wait %v is negative: %w", wait, ErrInvalidArgument)
	}
	if wait > WaitMax {
		return fmt.Errorf("client: wait is %v, max %v: %w", wait, WaitMax, ErrInvalidArgument)
	}
	return nil
}
