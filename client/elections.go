package client

import (
	"context"
	"net/http"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

// CampaignOptions shape a Campaign.
type CampaignOptions struct {
	// LeaseID is the lease to lead with; 0 makes the server create a lease
	// of TTL for this election alone.
	LeaseID LeaseID
	// TTL is the ttl of that lease when LeaseID is 0 (0: the server's default).
	TTL time.Duration
	// Value is what the leader announces (e.g. "host:port").
	Value string
	// Wait, when positive, queues the campaign for up to Wait (at most
	// WaitMax) instead of failing with ErrLockHeld.
	Wait time.Duration
}

// Campaign asks to lead election name. A led election answers ErrLockHeld
// (after the wait, if one was asked for). The answer's Term is the new
// leader's term: its fencing token.
func (c *Client) Campaign(ctx context.Context, name string, opts CampaignOptions) (wire.Elected, error) {
	if err := checkDurations(opts.TTL, opts.Wait); err != nil {
		return wire.Elected{}, err
	}
	body := wire.CampaignRequest{LeaseID: uint64(opts.LeaseID), TTL: wire.Duration(opts.TTL), Value: opts.Value, Wait: wire.Duration(opts.Wait)}
	var out wire.Elected
	err := c.call(ctx, &request{method: http.MethodPost, path: pathOf("/v1/elections/", name, "/campaign"), body: body, mutating: true, wait: opts.Wait}, &out)
	return out, err
}

// Proclaim changes the value of election name led with term; any other term
// answers ErrNotLeader.
func (c *Client) Proclaim(ctx context.Context, name string, term Token, value string) (wire.Elected, error) {
	var out wire.Elected
	err := c.call(ctx, &request{method: http.MethodPost, path: pathOf("/v1/elections/", name, "/proclaim"), body: wire.ProclaimRequest{Term: uint64(term), Value: value}, mutating: true}, &out)
	return out, err
}

// Resign gives up election name led with term; any other term answers
// ErrNotLeader.
func (c *Client) Resign(ctx context.Context, name string, term Token) error {
	var out wire.Resigned
	return c.call(ctx, &request{method: http.MethodPost, path: pathOf("/v1/elections/", name, "/resign"), body: wire.ResignRequest{Term: uint64(term)}, mutating: true}, &out)
}

// Leader returns election name; Leader is nil when nobody leads it.
func (c *Client) Leader(ctx context.Context, name string) (wire.ElectionInfo, error) {
	var out wire.ElectionInfo
	err := c.call(ctx, &request{method: http.MethodGet, path: pathOf("/v1/elections/", name)}, &out)
	return out, err
}

// Cluster returns the answering node's view of the cluster.
func (c *Client) Cluster(ctx context.Context) (wire.Cluster, error) {
	var out wire.Cluster
	err := c.call(ctx, &request{method: http.MethodGet, path: "/v1/cluster"}, &out)
	return out, err
}
