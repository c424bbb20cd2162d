package locks

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// AccessorID names an ACL token: the index of the entry that created it.
// Zero is no token: the lease of a node without ACLs, or of the bootstrap
// token, which is node configuration and never in the table.
type AccessorID uint64

// Capability is a set of rights an ACL rule grants.
type Capability uint8

// The capabilities. Read, Lock and Elect apply to the lock and election
// names a rule's prefix matches; Admin applies to the whole cluster (leases
// of other tokens, membership, ACL tokens) and implies every other
// capability on every name, so a rule may grant it only with the empty
// prefix.
const (
	// CapRead reads locks and elections (get, list, fence, observe).
	CapRead Capability = 1 << iota
	// CapLock acquires and releases locks.
	CapLock
	// CapElect campaigns, proclaims and resigns in elections.
	CapElect
	// CapAdmin manages ACL tokens and uses any lease.
	CapAdmin

	capAll = CapRead | CapLock | CapElect | CapAdmin
)

// capabilityNames returns the API's names of the capabilities, in bit order.
func capabilityNames() [4]string {
	return [...]string{"read", "lock", "elect", "admin"}
}

// CapabilityNames returns the names the API uses for the capabilities of c,
// in the order read, lock, elect, admin.
func CapabilityNames(c Capability) []string {
	var out []string
	for i, name := range capabilityNames() {
		if c&(1<<i) != 0 {
			out = append(out, name)
		}
	}
	return out
}

// ParseCapability returns the capability named name ("read", "lock",
// "elect" or "admin"), or an ErrInvalidArgument.
func ParseCapability(name string) (Capability, error) {
	names := capabilityNames()
	for i, n := range names {
		if n == name {
			return 1 << i, nil
		}
	}
	return 0, errorf(ErrInvalidArgument, "capability %q is not one of %s", name, strings.Join(names[:], ", "))
}

// ACLRule grants Allow over every lock and election name that starts with
// Prefix (the empty prefix matches every name).
type ACLRule struct {
	// Prefix is 0..NameBytesMax bytes of the name alphabet.
	Prefix string `codec:"p"`
	// Allow is a non-empty set of capabilities.
	Allow Capability `codec:"a"`
}

// ACLToken is an ACL token as the table holds it. Its secret is never in the
// table, only the secret's SHA-256. A token never changes after it is
// created; it is deleted, or it expires.
type ACLToken struct {
	// Accessor is the token's id: the index of its creating entry.
	Accessor AccessorID
	// Name describes the token for people.
	Name string
	// SecretHash is the SHA-256 of the secret, ACLSecretHashBytes long.
	SecretHash []byte
	// Rules are the token's rules, prefixes unique, in the order given. The
	// slice is shared with the table: read it, never modify it.
	Rules []ACLRule
	// CreatedAt is the creating entry's command time, unix nanoseconds.
	CreatedAt int64
	// ExpiresAt is the command time the token stops working at, unix
	// nanoseconds; 0 means never.
	ExpiresAt int64
}

// Admin reports whether the token has the admin capability.
func (tk *ACLToken) Admin() bool {
	for _, r := range tk.Rules {
		if r.Prefix == "" && r.Allow&CapAdmin != 0 {
			return true
		}
	}
	return false
}

// Allows reports whether the token grants c on name. The rule with the
// longest prefix of name decides alone (as in Consul): a rule "jobs/" with
// read and a rule "jobs/secret/" with lock give "jobs/secret/x" lock but not
// read. A name no rule matches is refused. Admin allows everything.
func (tk *ACLToken) Allows(name string, c Capability) bool {
	if tk.Admin() {
		return true
	}
	best := -1
	for i, r := range tk.Rules {
		if strings.HasPrefix(name, r.Prefix) && (best < 0 || len(r.Prefix) > len(tk.Rules[best].Prefix)) {
			best = i
		}
	}
	return best >= 0 && tk.Rules[best].Allow&c == c
}

// AllowsSome reports whether the token grants c on at least one name (or is
// admin): what creating a lease (CapLock or CapElect) or reading the
// cluster's status (CapRead) asks.
func (tk *ACLToken) AllowsSome(c Capability) bool {
	if tk.Admin() {
		return true
	}
	for _, r := range tk.Rules {
		if r.Allow&c != 0 {
			return true
		}
	}
	return false
}

// Expired reports whether the token has expired at now (unix nanoseconds).
func (tk *ACLToken) Expired(now int64) bool {
	return tk.ExpiresAt != 0 && now >= tk.ExpiresAt
}

// createACLToken adds the token of c with accessor = index. Tokens expired
// at the command's time are deleted first, so they never count against
// ACLTokensMax.
func (t *Table) createACLToken(index Index, c *Command) Result {
	t.pruneACLTokens(c.Time)
	if n := len(t.aclTokens); n >= t.limits.aclTokens {
		return Result{Err: errorf(ErrTooLarge, "table has %d ACL tokens, max %d", n, t.limits.aclTokens)}
	}
	if prev, dup := t.aclByHash[string(c.SecretHash)]; dup {
		return Result{Err: errorf(ErrInvalidArgument, "secret hash is already the hash of ACL token %d", prev)}
	}
	tk := &ACLToken{
		Accessor:   AccessorID(index),
		Name:       c.ACLName,
		SecretHash: append([]byte(nil), c.SecretHash...),
		Rules:      append([]ACLRule(nil), c.ACLRules...),
		CreatedAt:  c.Time,
	}
	if c.TTL != 0 {
		tk.ExpiresAt = expiry(c.Time, c.TTL)
	}
	t.addACLToken(tk)
	return Result{Accessor: tk.Accessor, ExpiresAt: tk.ExpiresAt}
}

// expiry is now + ttl, saturating at the largest time.
func expiry(now int64, ttl Duration) int64 {
	const maxTime = int64(^uint64(0) >> 1)
	if now > maxTime-int64(ttl) {
		return maxTime
	}
	return now + int64(ttl)
}

func (t *Table) addACLToken(tk *ACLToken) {
	if t.aclTokens[tk.Accessor] != nil {
		assertf(false, "ACL token %d created twice", tk.Accessor)
	}
	t.aclTokens[tk.Accessor] = tk
	t.aclByHash[string(tk.SecretHash)] = tk.Accessor
}

// deleteACLToken deletes token id. Its leases stay; only admin may use them.
func (t *Table) deleteACLToken(id AccessorID) Result {
	tk := t.aclTokens[id]
	if tk == nil {
		return Result{Err: errorf(ErrNotFound, "ACL token %d not found", id)}
	}
	t.dropACLToken(tk)
	return Result{Accessor: id}
}

func (t *Table) dropACLToken(tk *ACLToken) {
	delete(t.aclTokens, tk.Accessor)
	delete(t.aclByHash, string(tk.SecretHash))
}

// pruneACLTokens deletes the tokens expired at now, in accessor order.
func (t *Table) pruneACLTokens(now int64) {
	for _, tk := range t.sortedACLTokens() {
		if tk.Expired(now) {
			t.dropACLToken(tk)
		}
	}
}

func (t *Table) sortedACLTokens() []*ACLToken {
	out := make([]*ACLToken, 0, len(t.aclTokens))
	for _, tk := range t.aclTokens {
		out = append(out, tk)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Accessor < out[j].Accessor })
	return out
}

// ACLTokenByHash returns the token whose secret hashes to hash (expired or
// not: the caller compares ExpiresAt with its clock).
func (t *Table) ACLTokenByHash(hash []byte) (ACLToken, bool) {
	id, ok := t.aclByHash[string(hash)]
	if !ok {
		return ACLToken{}, false
	}
	return *t.aclTokens[id], true
}

// ACLToken returns token id.
func (t *Table) ACLToken(id AccessorID) (ACLToken, bool) {
	tk := t.aclTokens[id]
	if tk == nil {
		return ACLToken{}, false
	}
	return *tk, true
}

// ACLTokens returns every token in accessor order.
func (t *Table) ACLTokens() []ACLToken {
	sorted := t.sortedACLTokens()
	out := make([]ACLToken, len(sorted))
	for i, tk := range sorted {
		out[i] = *tk
	}
	return out
}

// validateACLToken checks the fields of create_acl_token.
func validateACLToken(c *Command) error {
	if err := validateACLName(c.ACLName); err != nil {
		return err
	}
	if n := len(c.SecretHash); n != ACLSecretHashBytes {
		return errorf(ErrInvalidArgument, "secret hash is %d bytes, want %d", n, ACLSecretHashBytes)
	}
	if c.TTL != 0 && (c.TTL < ACLTokenTTLMin || c.TTL > ACLTokenTTLMax) {
		return errorf(ErrInvalidArgument, "ACL token ttl is %s, want within [%s, %s]", c.TTL, Duration(ACLTokenTTLMin), Duration(ACLTokenTTLMax))
	}
	return ValidateACLRules(c.ACLRules)
}

func validateACLName(name string) error {
	if name == "" {
		return errorf(ErrInvalidArgument, "ACL token name is empty, min 1 byte")
	}
	if n := len(name); n > ACLNameBytesMax {
		return errorf(ErrInvalidArgument, "ACL token name is %d bytes, max %d", n, ACLNameBytesMax)
	}
	if !utf8.ValidString(name) {
		return errorf(ErrInvalidArgument, "ACL token name is not UTF-8")
	}
	for i, r := range name {
		if unicode.IsControl(r) {
			return errorf(ErrInvalidArgument, "ACL token name has control character %q at %d", r, i)
		}
	}
	return nil
}

// ValidateACLRules checks the rules of a token: 1..ACLRulesPerTokenMax of
// them, each prefix at most NameBytesMax bytes of the name alphabet and
// different from the others, each allow a non-empty set of known
// capabilities, admin only with the empty prefix.
func ValidateACLRules(rules []ACLRule) error {
	if len(rules) == 0 {
		return errorf(ErrInvalidArgument, "ACL token has no rules, min 1")
	}
	if n := len(rules); n > ACLRulesPerTokenMax {
		return errorf(ErrInvalidArgument, "ACL token has %d rules, max %d", n, ACLRulesPerTokenMax)
	}
	seen := make(map[string]bool, len(rules))
	for i, r := range rules {
		if err := validatePrefix(r.Prefix); err != nil {
			return errorf(ErrInvalidArgument, "rule %d: %v", i, err)
		}
		switch {
		case seen[r.Prefix]:
			return errorf(ErrInvalidArgument, "rule %d: prefix %q appears twice", i, r.Prefix)
		case r.Allow == 0:
			return errorf(ErrInvalidArgument, "rule %d: allow is empty", i)
		case r.Allow&^capAll != 0:
			return errorf(ErrInvalidArgument, "rule %d: allow has unknown capability bits %#x", i, uint8(r.Allow&^capAll))
		case r.Allow&CapAdmin != 0 && r.Prefix != "":
			return errorf(ErrInvalidArgument, "rule %d: admin applies to the whole cluster; grant it with the empty prefix, not %q", i, r.Prefix)
		}
		seen[r.Prefix] = true
	}
	return nil
}

func validatePrefix(prefix string) error {
	if n := len(prefix); n > NameBytesMax {
		return errorf(ErrInvalidArgument, "prefix is %d bytes, max %d", n, NameBytesMax)
	}
	for i := 0; i < len(prefix); i++ {
		if !nameByte(prefix[i]) {
			return errorf(ErrInvalidArgument, "prefix has byte %q at %d; allowed are [A-Za-z0-9._:/-]", prefix[i], i)
		}
	}
	return nil
}

// checkACL verifies the token maps against each other.
func (t *Table) checkACL() error {
	if len(t.aclByHash) != len(t.aclTokens) {
		return fmt.Errorf("%d ACL tokens, %d secret hashes", len(t.aclTokens), len(t.aclByHash))
	}
	for id, tk := range t.aclTokens {
		if tk.Accessor != id || id == 0 || Index(id) > t.applied {
			return fmt.Errorf("ACL token %d: accessor %d, applied %d", id, tk.Accessor, t.applied)
		}
		if t.aclByHash[string(tk.SecretHash)] != id {
			return fmt.Errorf("ACL token %d: its secret hash maps to %d", id, t.aclByHash[string(tk.SecretHash)])
		}
	}
	return nil
}
