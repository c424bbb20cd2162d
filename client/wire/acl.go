package wire

import "time"

// The capabilities an ACL rule may allow. Read, lock and elect apply to the
// lock and election names that start with the rule's prefix; admin (only
// with the empty prefix) covers ACL tokens, cluster membership and the
// leases of every token, and implies the others on every name.
const (
	CapabilityRead  = "read"
	CapabilityLock  = "lock"
	CapabilityElect = "elect"
	CapabilityAdmin = "admin"
)

// HeaderAuthorization carries an ACL token's secret as "Bearer <secret>".
const HeaderAuthorization = "Authorization"

// BearerPrefix starts the value of HeaderAuthorization.
const BearerPrefix = "Bearer "

// ACLRule grants Allow on every lock and election name starting with Prefix
// ("" matches every name). Of the rules whose prefix matches a name, the
// longest prefix decides alone.
type ACLRule struct {
	Prefix string   `json:"prefix"`
	Allow  []string `json:"allow"`
}

// ACLTokenRequest is the body of POST /v1/acl/tokens. Without TTL the token
// never expires.
type ACLTokenRequest struct {
	Name  string    `json:"name"`
	Rules []ACLRule `json:"rules"`
	TTL   Duration  `json:"ttl,omitempty"`
}

// ACLToken is a token as POST /v1/acl/tokens answers it (with its Secret,
// the only time the secret is shown) and GET /v1/acl/tokens lists it
// (without). ExpiresAt is absent for a token that never expires.
type ACLToken struct {
	ID        uint64     `json:"id"`
	Name      string     `json:"name"`
	Secret    string     `json:"secret,omitempty"`
	Rules     []ACLRule  `json:"rules"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// ACLTokenList answers GET /v1/acl/tokens.
type ACLTokenList struct {
	Tokens []ACLToken `json:"tokens"`
}

// ACLTokenDeleted answers DELETE /v1/acl/tokens/{id}.
type ACLTokenDeleted struct {
	Deleted bool `json:"deleted"`
}
