package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/locks"
)

// Paths of the ACL token API. Every route needs the admin capability.
const (
	PathACLTokens = "/v1/acl/tokens"
	PathACLToken  = "/v1/acl/tokens/:id"
)

// registerACL mounts the ACL token endpoints; like the lock API they are
// served on the leader.
func (n *Node) registerACL(e *echo.Echo) {
	lead := n.leaderRoute
	e.POST(PathACLTokens, n.createACLToken, limitBody, lead)
	e.GET(PathACLTokens, n.listACLTokens, lead)
	e.DELETE(PathACLToken, n.deleteACLToken, limitBody, lead)
}

// createACLToken is POST /v1/acl/tokens {"name", "rules", "ttl"?}: 201 with
// the token and its secret, the only time the secret is shown. The node
// draws ACLSecretRandomBytes random bytes for the secret and proposes only
// its SHA-256.
//
// An Idempotency-Key is not used: a retry cannot be answered with the
// first secret, which nobody stored. A client that lost the answer creates
// another token and deletes the orphan (it is listed).
func (n *Node) createACLToken(c echo.Context) error {
	if !n.aclOn() {
		return errACLOff
	}
	var req wire.ACLTokenRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	rules, err := aclRules(req.Rules)
	if err != nil {
		return err
	}
	secret := newSecret()
	sum := sha256.Sum256([]byte(secret))
	cmd := locks.Command{Kind: locks.KindCreateACLToken, ACLName: req.Name, ACLRules: rules, SecretHash: sum[:], TTL: locks.Duration(req.TTL)}
	res, err := n.propose(c.Request().Context(), cmd)
	if err != nil {
		return err
	}
	if res.Err != nil {
		return refusal(res, false)
	}
	p := principalFrom(c.Request().Context())
	n.auditLog().Info("acl token created", zap.Uint64("accessor", uint64(res.Accessor)), zap.String("name", req.Name),
		zap.String("principal", p.accessorLabel()), zap.String("remote_addr", c.Request().RemoteAddr))
	tk := locks.ACLToken{Accessor: res.Accessor, Name: req.Name, Rules: rules, CreatedAt: cmd.Time, ExpiresAt: res.ExpiresAt}
	n.fsm.read(func(t *locks.Table) {
		if stored, ok := t.ACLToken(res.Accessor); ok {
			tk = stored
		}
	})
	out := wireACLToken(tk)
	out.Secret = secret
	return c.JSON(http.StatusCreated, out)
}

// newSecret draws a token secret: ACLSecretRandomBytes random bytes in hex.
func newSecret() string {
	b := make([]byte, ACLSecretRandomBytes)
	_, err := rand.Read(b)
	// crypto/rand.Read never returns an error (it crashes the process instead).
	assertf(err == nil, "crypto/rand: %v", err)
	return hex.EncodeToString(b)
}

// aclRules converts the rules of a request; the table validates the rest.
func aclRules(in []wire.ACLRule) ([]locks.ACLRule, error) {
	if n := len(in); n > locks.ACLRulesPerTokenMax {
		return nil, invalidArgf("token has %d rules, max %d", n, locks.ACLRulesPerTokenMax)
	}
	out := make([]locks.ACLRule, 0, len(in))
	for i, r := range in {
		var allow locks.Capability
		for _, name := range r.Allow {
			c, err := locks.ParseCapability(name)
			if err != nil {
				return nil, invalidArgf("rule %d: %v", i, err)
			}
			allow |= c
		}
		out = append(out, locks.ACLRule{Prefix: r.Prefix, Allow: allow})
	}
	return out, locks.ValidateACLRules(out)
}

// listACLTokens is GET /v1/acl/tokens: every token without its secret, in
// id order.
func (n *Node) listACLTokens(c echo.Context) error {
	if !n.aclOn() {
		return errACLOff
	}
	if err := n.readBarrier(c); err != nil {
		return err
	}
	out := wire.ACLTokenList{Tokens: []wire.ACLToken{}}
	n.fsm.read(func(t *locks.Table) {
		for _, tk := range t.ACLTokens() {
			out.Tokens = append(out.Tokens, wireACLToken(tk))
		}
	})
	return c.JSON(http.StatusOK, out)
}

// deleteACLToken is DELETE /v1/acl/tokens/{id}: 200, or 404. The token's
// leases stay; only an admin may use them afterwards.
func (n *Node) deleteACLToken(c echo.Context) error {
	if !n.aclOn() {
		return errACLOff
	}
	raw := c.Param("id")
	id, err := strconv.ParseUint(raw, 10, 64)
	if err != nil || id == 0 {
		return invalidArgf("token id %q is not a number in [1, 2^64)", raw)
	}
	key, err := requestID(c)
	if err != nil {
		return err
	}
	res, err := n.propose(c.Request().Context(), locks.Command{Kind: locks.KindDeleteACLToken, RequestID: key, Accessor: locks.AccessorID(id)})
	if err != nil {
		return err
	}
	if res.Err != nil {
		return refusal(res, false)
	}
	p := principalFrom(c.Request().Context())
	n.auditLog().Info("acl token deleted", zap.Uint64("accessor", id),
		zap.String("principal", p.accessorLabel()), zap.String("remote_addr", c.Request().RemoteAddr))
	return c.JSON(http.StatusOK, wire.ACLTokenDeleted{Deleted: true})
}

// wireACLToken is tk as the API shows it, without a secret.
func wireACLToken(tk locks.ACLToken) wire.ACLToken {
	out := wire.ACLToken{ID: uint64(tk.Accessor), Name: tk.Name, Rules: make([]wire.ACLRule, 0, len(tk.Rules)),
		CreatedAt: time.Unix(0, tk.CreatedAt).UTC()}
	for _, r := range tk.Rules {
		out.Rules = append(out.Rules, wire.ACLRule{Prefix: r.Prefix, Allow: locks.CapabilityNames(r.Allow)})
	}
	if tk.ExpiresAt != 0 {
		exp := time.Unix(0, tk.ExpiresAt).UTC()
		out.ExpiresAt = &exp
	}
	return out
}
