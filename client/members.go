package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

// Members lists the cluster's members as the leader sees them (with each
// member's match index).
func (c *Client) Members(ctx context.Context) (wire.MemberList, error) {
	var out wire.MemberList
	err := c.call(ctx, &request{method: http.MethodGet, path: "/v1/cluster/members"}, &out)
	return out, err
}

// AddMember adds a learner named name, reached on peerURL (and, for
// clients, clientURL). Adding the same member twice answers the first add.
// ErrChangeInProgress means another change is not finished.
func (c *Client) AddMember(ctx context.Context, name, peerURL, clientURL string) (wire.MemberAdded, error) {
	var out wire.MemberAdded
	body := wire.MemberRequest{Name: name, PeerURL: peerURL, ClientURL: clientURL}
	err := c.call(ctx, &request{method: http.MethodPost, path: "/v1/cluster/members", body: body, mutating: true}, &out)
	return out, err
}

// RemoveMember removes member name (a voter or a learner). Removing the
// leader makes it step down once the change commits.
func (c *Client) RemoveMember(ctx context.Context, name string) (wire.MemberChanged, error) {
	var out wire.MemberChanged
	err := c.call(ctx, &request{method: http.MethodDelete, path: pathOf("/v1/cluster/members/", name), mutating: true}, &out)
	return out, err
}

// PromoteMember makes learner name a voter. The server retries while the
// learner catches up, up to wait (0: the server's default), then answers
// ErrChangeInProgress.
func (c *Client) PromoteMember(ctx context.Context, name string, wait time.Duration) (wire.MemberChanged, error) {
	var out wire.MemberChanged
	rq := &request{method: http.MethodPost, path: pathOf("/v1/cluster/members/", name, "/promote"), mutating: true, wait: wait}
	if wait > 0 {
		rq.query = url.Values{"wait": {wait.String()}}
	}
	err := c.call(ctx, rq, &out)
	return out, err
}

// TransferLeadership hands the leadership to member to ("": the most
// up-to-date voter) and returns the new leader's name.
func (c *Client) TransferLeadership(ctx context.Context, to string) (string, error) {
	var out wire.TransferResult
	err := c.call(ctx, &request{method: http.MethodPost, path: "/v1/cluster/transfer-leadership", body: wire.TransferRequest{To: to}, mutating: true}, &out)
	return out.Leader, err
}
