package client

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

// Access control. A Client with Config.Token sends it on every request as
// "Authorization: Bearer <token>"; a cluster with access control on answers
// ErrUnauthorized without a valid one and ErrForbidden when the token's
// rules do not allow the request. Neither is retried.

// bearerTransport adds the Authorization header to every request.
type bearerTransport struct {
	base   http.RoundTripper
	header string
}

// RoundTrip sends a copy of r with the header set: a RoundTripper must not
// change the request it is given.
func (b *bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.Header.Set(wire.HeaderAuthorization, b.header)
	return b.base.RoundTrip(r2)
}

// withToken wraps base so every request carries token; an empty token
// leaves base as it is.
func withToken(base http.RoundTripper, token string) (http.RoundTripper, error) {
	if token == "" {
		return base, nil
	}
	if n := len(token); n > TokenBytesMax {
		return nil, fmt.Errorf("client: token is %d bytes, max %d: %w", n, TokenBytesMax, ErrInvalidArgument)
	}
	for i := 0; i < len(token); i++ {
		if token[i] < '!' || token[i] > '~' {
			return nil, fmt.Errorf("client: token has a byte outside printable ASCII at %d (a newline from a file?): %w", i, ErrInvalidArgument)
		}
	}
	return &bearerTransport{base: base, header: wire.BearerPrefix + token}, nil
}

// CreateACLToken creates an ACL token named name with rules, expiring after
// ttl (0: never); it needs an admin token. The answer's Secret is the only
// copy of the token's secret: the cluster keeps its hash alone. A retry
// after a lost answer creates a second token; list and delete the orphan.
func (c *Client) CreateACLToken(ctx context.Context, name string, rules []wire.ACLRule, ttl time.Duration) (wire.ACLToken, error) {
	if ttl < 0 {
		return wire.ACLToken{}, fmt.Errorf("client: ttl %v is negative: %w", ttl, ErrInvalidArgument)
	}
	var out wire.ACLToken
	body := wire.ACLTokenRequest{Name: name, Rules: rules, TTL: wire.Duration(ttl)}
	err := c.call(ctx, &request{method: http.MethodPost, path: "/v1/acl/tokens", body: body, mutating: true}, &out)
	return out, err
}

// ACLTokens lists every ACL token, without secrets; it needs an admin token.
func (c *Client) ACLTokens(ctx context.Context) ([]wire.ACLToken, error) {
	var out wire.ACLTokenList
	if err := c.call(ctx, &request{method: http.MethodGet, path: "/v1/acl/tokens"}, &out); err != nil {
		return nil, err
	}
	return out.Tokens, nil
}

// DeleteACLToken deletes ACL token id (ErrNotFound when there is none); it
// needs an admin token. Leases the token created stay.
func (c *Client) DeleteACLToken(ctx context.Context, id uint64) error {
	var out wire.ACLTokenDeleted
	return c.call(ctx, &request{method: http.MethodDelete, path: "/v1/acl/tokens/" + strconv.FormatUint(id, 10), mutating: true}, &out)
}
