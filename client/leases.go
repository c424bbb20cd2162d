package client

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

// CreateLease creates a lease of ttl (0: the server's default). The lease
// lives while KeepAlive calls reach the cluster within every ttl.
func (c *Client) CreateLease(ctx context.Context, ttl time.Duration) (wire.Lease, error) {
	if ttl < 0 {
		return wire.Lease{}, fmt.Errorf("client: ttl %v is negative: %w", ttl, ErrInvalidArgument)
	}
	var out wire.Lease
	err := c.call(ctx, &request{method: http.MethodPost, path: "/v1/leases", body: wire.LeaseRequest{TTL: wire.Duration(ttl)}, mutating: true}, &out)
	return out, err
}

// KeepAlive renews lease id for another ttl. A lease that is gone answers
// ErrNotFound.
func (c *Client) KeepAlive(ctx context.Context, id LeaseID) (wire.Lease, error) {
	var out wire.Lease
	err := c.call(ctx, &request{method: http.MethodPost, path: leasePath(id) + "/keepalive", mutating: true}, &out)
	return out, err
}

// Revoke ends lease id at once, releasing its locks, withdrawing its waits
// and resigning its elections.
func (c *Client) Revoke(ctx context.Context, id LeaseID) error {
	var out wire.Revoked
	return c.call(ctx, &request{method: http.MethodDelete, path: leasePath(id), mutating: true}, &out)
}

// Lease returns lease id with its remaining time and the locks it holds.
func (c *Client) Lease(ctx context.Context, id LeaseID) (wire.LeaseInfo, error) {
	var out wire.LeaseInfo
	err := c.call(ctx, &request{method: http.MethodGet, path: leasePath(id)}, &out)
	return out, err
}

func leasePath(id LeaseID) string {
	return "/v1/leases/" + strconv.FormatUint(uint64(id), 10)
}
