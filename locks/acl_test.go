package locks

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// ACL tests: create_acl_token and delete_acl_token through Apply (results,
// refusals with their limits, expiry pruning, lookups by hash), leases that
// remember their creator, the longest-prefix rule of Allows, and that two
// tables fed the same commands hold the same tokens byte for byte.

// testHash is the SHA-256 of a secret numbered n.
func testHash(n int) []byte {
	h := sha256.Sum256([]byte(fmt.Sprintf("secret-%d", n)))
	return h[:]
}

func rules(rs ...ACLRule) []ACLRule { return rs }

func TestCreateACLToken(t *testing.T) {
	h := newHarness(t)
	r := h.ok(Command{Kind: KindCreateACLToken, ACLName: "ci", SecretHash: testHash(1), TTL: dur(time.Minute),
		ACLRules: rules(ACLRule{Prefix: "jobs/", Allow: CapRead | CapLock})})
	if r.Accessor != AccessorID(h.next) {
		t.Fatalf("create_acl_token accessor = %d; want the entry's index %d", r.Accessor, h.next)
	}
	if want := h.now + int64(time.Minute); r.ExpiresAt != want {
		t.Errorf("create_acl_token ExpiresAt = %d; want %d", r.ExpiresAt, want)
	}
	tk, ok := h.tbl.ACLTokenByHash(testHash(1))
	if !ok || tk.Accessor != r.Accessor || tk.Name != "ci" || tk.CreatedAt != h.now || len(tk.Rules) != 1 {
		t.Fatalf("ACLTokenByHash(secret 1) = %+v, %t; want token %d named ci", tk, ok, r.Accessor)
	}
	if _, ok := h.tbl.ACLTokenByHash(testHash(2)); ok {
		t.Errorf("ACLTokenByHash(unknown) found a token")
	}
	if got, ok := h.tbl.ACLToken(r.Accessor); !ok || !bytes.Equal(got.SecretHash, testHash(1)) {
		t.Errorf("ACLToken(%d) = %+v, %t; want the token", r.Accessor, got, ok)
	}
	// Without a ttl it never expires.
	r2 := h.ok(Command{Kind: KindCreateACLToken, ACLName: "ops", SecretHash: testHash(2), ACLRules: rules(ACLRule{Allow: CapAdmin})})
	if r2.ExpiresAt != 0 {
		t.Errorf("create_acl_token without ttl: ExpiresAt = %d; want 0", r2.ExpiresAt)
	}
	list := h.tbl.ACLTokens()
	if len(list) != 2 || list[0].Accessor != r.Accessor || list[1].Accessor != r2.Accessor {
		t.Errorf("ACLTokens() = %+v; want tokens %d and %d in order", list, r.Accessor, r2.Accessor)
	}
	if !list[1].Admin() || list[0].Admin() {
		t.Errorf("Admin() = %t, %t; want false, true", list[0].Admin(), list[1].Admin())
	}
}

func TestCreateACLTokenRefused(t *testing.T) {
	ok := rules(ACLRule{Prefix: "a", Allow: CapRead})
	manyRules := make([]ACLRule, ACLRulesPerTokenMax+1)
	for i := range manyRules {
		manyRules[i] = ACLRule{Prefix: fmt.Sprintf("p%d", i), Allow: CapRead}
	}
	cases := []struct {
		name string
		c    Command
		want error
		msg  string
	}{
		{"no name", Command{ACLRules: ok, SecretHash: testHash(1)}, ErrInvalidArgument, "name is empty"},
		{"long name", Command{ACLName: strings.Repeat("n", ACLNameBytesMax+1), ACLRules: ok, SecretHash: testHash(1)}, ErrInvalidArgument, "129 bytes, max 128"},
		{"control in name", Command{ACLName: "a\nb", ACLRules: ok, SecretHash: testHash(1)}, ErrInvalidArgument, "control character"},
		{"no rules", Command{ACLName: "t", SecretHash: testHash(1)}, ErrInvalidArgument, "no rules"},
		{"too many rules", Command{ACLName: "t", ACLRules: manyRules, SecretHash: testHash(1)}, ErrInvalidArgument, "65 rules, max 64"},
		{"bad prefix byte", Command{ACLName: "t", ACLRules: rules(ACLRule{Prefix: "a b", Allow: CapRead}), SecretHash: testHash(1)}, ErrInvalidArgument, "prefix has byte"},
		{"long prefix", Command{ACLName: "t", ACLRules: rules(ACLRule{Prefix: strings.Repeat("p", NameBytesMax+1), Allow: CapRead}), SecretHash: testHash(1)}, ErrInvalidArgument, "257 bytes, max 256"},
		{"same prefix twice", Command{ACLName: "t", ACLRules: rules(ACLRule{Prefix: "a", Allow: CapRead}, ACLRule{Prefix: "a", Allow: CapLock}), SecretHash: testHash(1)}, ErrInvalidArgument, "appears twice"},
		{"empty allow", Command{ACLName: "t", ACLRules: rules(ACLRule{Prefix: "a"}), SecretHash: testHash(1)}, ErrInvalidArgument, "allow is empty"},
		{"unknown capability", Command{ACLName: "t", ACLRules: rules(ACLRule{Prefix: "a", Allow: 1 << 6}), SecretHash: testHash(1)}, ErrInvalidArgument, "unknown capability"},
		{"admin with prefix", Command{ACLName: "t", ACLRules: rules(ACLRule{Prefix: "a", Allow: CapAdmin}), SecretHash: testHash(1)}, ErrInvalidArgument, "empty prefix"},
		{"short hash", Command{ACLName: "t", ACLRules: ok, SecretHash: []byte("x")}, ErrInvalidArgument, "1 bytes, want 32"},
		{"no hash", Command{ACLName: "t", ACLRules: ok}, ErrInvalidArgument, "0 bytes, want 32"},
		{"ttl too short", Command{ACLName: "t", ACLRules: ok, SecretHash: testHash(1), TTL: ACLTokenTTLMin - 1}, ErrInvalidArgument, "ttl"},
		{"ttl too long", Command{ACLName: "t", ACLRules: ok, SecretHash: testHash(1), TTL: ACLTokenTTLMax + 1}, ErrInvalidArgument, "ttl"},
		{"lease field", Command{ACLName: "t", ACLRules: ok, SecretHash: testHash(1), LeaseID: 1}, ErrInvalidArgument, "does not take lease_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			tc.c.Kind = KindCreateACLToken
			r := h.do(tc.c)
			if !errors.Is(r.Err, tc.want) || !strings.Contains(r.Err.Error(), tc.msg) {
				t.Fatalf("Apply(create_acl_token %s) = %v; want %v containing %q", tc.name, r.Err, tc.want, tc.msg)
			}
			if verr := ValidateCommand(tc.c); !errors.Is(verr, tc.want) {
				t.Errorf("ValidateCommand(%s) = %v; want %v (the server's check must agree)", tc.name, verr, tc.want)
			}
			if n := len(h.tbl.ACLTokens()); n != 0 {
				t.Errorf("after a refused create, %d tokens; want 0", n)
			}
		})
	}
}

func TestACLTokensMaxAndDuplicateHash(t *testing.T) {
	h := newHarness(t)
	h.tbl.limits.aclTokens = 2
	mk := func(n int, ttl Duration) Result {
		return h.do(Command{Kind: KindCreateACLToken, ACLName: "t", SecretHash: testHash(n), TTL: ttl, ACLRules: rules(ACLRule{Allow: CapRead})})
	}
	if r := mk(1, 0); r.Err != nil {
		t.Fatalf("create 1 = %v", r.Err)
	}
	if r := mk(1, 0); !errors.Is(r.Err, ErrInvalidArgument) {
		t.Fatalf("create with a used secret hash = %v; want %v", r.Err, ErrInvalidArgument)
	}
	if r := mk(2, Second); r.Err != nil {
		t.Fatalf("create 2 = %v", r.Err)
	}
	if r := mk(3, 0); !errors.Is(r.Err, ErrTooLarge) || !strings.Contains(r.Err.Error(), "2 ACL tokens, max 2") {
		t.Fatalf("create past the max = %v; want %v with both numbers", r.Err, ErrTooLarge)
	}
	// Token 2 expires: the next create (2s later in command time) prunes it
	// and fits.
	h.now += int64(2 * time.Second)
	if r := mk(3, 0); r.Err != nil {
		t.Fatalf("create after token 2 expired = %v; want room", r.Err)
	}
	if _, ok := h.tbl.ACLTokenByHash(testHash(2)); ok {
		t.Errorf("expired token 2 is still in the table after a create")
	}
}

func TestDeleteACLToken(t *testing.T) {
	h := newHarness(t)
	id := h.ok(Command{Kind: KindCreateACLToken, ACLName: "t", SecretHash: testHash(1), ACLRules: rules(ACLRule{Allow: CapLock})}).Accessor
	lease := h.ok(Command{Kind: KindCreateLease, Creator: id}).LeaseID
	if r := h.do(Command{Kind: KindDeleteACLToken, Accessor: id}); r.Err != nil || r.Accessor != id {
		t.Fatalf("delete_acl_token(%d) = %+v, %v; want accessor %d", id, r, r.Err, id)
	}
	if _, ok := h.tbl.ACLTokenByHash(testHash(1)); ok {
		t.Errorf("deleted token still found by hash")
	}
	if r := h.do(Command{Kind: KindDeleteACLToken, Accessor: id}); !errors.Is(r.Err, ErrNotFound) {
		t.Errorf("delete_acl_token(%d) again = %v; want %v", id, r.Err, ErrNotFound)
	}
	// The token's lease stays, still naming its creator.
	if li, ok := h.tbl.Lease(lease); !ok || li.Creator != id {
		t.Errorf("Lease(%d) after its token was deleted = %+v, %t; want creator %d", lease, li, ok, id)
	}
	if r := h.do(Command{Kind: KindDeleteACLToken}); !errors.Is(r.Err, ErrInvalidArgument) {
		t.Errorf("delete_acl_token without accessor = %v; want %v", r.Err, ErrInvalidArgument)
	}
}

func TestLeaseCreator(t *testing.T) {
	h := newHarness(t)
	l := h.ok(Command{Kind: KindCreateLease, Creator: 7}).LeaseID
	single := h.ok(Command{Kind: KindAcquire, Name: "a", Creator: 8}).LeaseID
	queued := h.ok(Command{Kind: KindAcquire, Name: "a", Creator: 9, Wait: true}).LeaseID
	plain := h.ok(Command{Kind: KindCreateLease}).LeaseID
	for _, tc := range []struct {
		id   LeaseID
		want AccessorID
	}{{l, 7}, {single, 8}, {queued, 9}, {plain, 0}} {
		if li, ok := h.tbl.Lease(tc.id); !ok || li.Creator != tc.want {
			t.Errorf("Lease(%d).Creator = %d (found %t); want %d", tc.id, li.Creator, ok, tc.want)
		}
	}
	if r := h.do(Command{Kind: KindAcquire, Name: "b", LeaseID: l, Creator: 7}); !errors.Is(r.Err, ErrInvalidArgument) {
		t.Errorf("acquire with lease_id and creator = %v; want %v", r.Err, ErrInvalidArgument)
	}
	if r := h.do(Command{Kind: KindRelease, Name: "a", Token: 2, Creator: 7}); !errors.Is(r.Err, ErrInvalidArgument) {
		t.Errorf("release with creator = %v; want %v", r.Err, ErrInvalidArgument)
	}
}

func TestACLTokenAllows(t *testing.T) {
	tk := ACLToken{Rules: rules(
		ACLRule{Prefix: "jobs/", Allow: CapRead | CapLock},
		ACLRule{Prefix: "jobs/secret/", Allow: CapLock},
		ACLRule{Prefix: "svc/", Allow: CapElect | CapRead},
	)}
	cases := []struct {
		name string
		c    Capability
		want bool
	}{
		{"jobs/a", CapRead, true},
		{"jobs/a", CapLock, true},
		{"jobs/a", CapElect, false},
		{"jobs/a", CapRead | CapLock, true},
		{"jobs/secret/x", CapLock, true},
		{"jobs/secret/x", CapRead, false}, // the longest prefix decides alone
		{"jobs", CapRead, false},          // "jobs" does not start with "jobs/"
		{"svc/db", CapElect, true},
		{"svc/db", CapLock, false},
		{"other", CapRead, false},
	}
	for _, tc := range cases {
		t.Run(tc.name+"/"+strings.Join(CapabilityNames(tc.c), "+"), func(t *testing.T) {
			if got := tk.Allows(tc.name, tc.c); got != tc.want {
				t.Errorf("Allows(%q, %v) = %t; want %t", tc.name, CapabilityNames(tc.c), got, tc.want)
			}
		})
	}
	if tk.Admin() || !tk.AllowsSome(CapElect) || tk.AllowsSome(CapAdmin) {
		t.Errorf("Admin() = %t, AllowsSome(elect) = %t, AllowsSome(admin) = %t; want false, true, false", tk.Admin(), tk.AllowsSome(CapElect), tk.AllowsSome(CapAdmin))
	}
	admin := ACLToken{Rules: rules(ACLRule{Allow: CapAdmin})}
	if !admin.Allows("anything", CapRead|CapLock|CapElect) || !admin.AllowsSome(CapLock) {
		t.Errorf("admin token does not allow everything")
	}
	everyone := ACLToken{Rules: rules(ACLRule{Allow: CapRead})}
	if !everyone.Allows("x", CapRead) || everyone.Allows("x", CapLock) {
		t.Errorf("empty prefix rule: Allows(x, read) = %t, Allows(x, lock) = %t; want true, false", everyone.Allows("x", CapRead), everyone.Allows("x", CapLock))
	}
	exp := ACLToken{ExpiresAt: 100}
	if exp.Expired(99) || !exp.Expired(100) || (&ACLToken{}).Expired(1<<62) {
		t.Errorf("Expired: want false before ExpiresAt, true at it, never for 0")
	}
}

func TestParseCapability(t *testing.T) {
	for i, name := range []string{"read", "lock", "elect", "admin"} {
		c, err := ParseCapability(name)
		if err != nil || c != 1<<i {
			t.Errorf("ParseCapability(%q) = %v, %v; want %v", name, c, err, Capability(1<<i))
		}
		if got := CapabilityNames(c); len(got) != 1 || got[0] != name {
			t.Errorf("CapabilityNames(%v) = %v; want [%s]", c, got, name)
		}
	}
	if _, err := ParseCapability("write"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("ParseCapability(write) = %v; want %v", err, ErrInvalidArgument)
	}
}

// TestACLDeterminism: two tables fed the same commands (tokens created,
// expired, deleted, leases of tokens) write the same snapshot bytes, and a
// duplicate create returns the first result.
func TestACLDeterminism(t *testing.T) {
	build := func() *harness {
		h := newHarness(t)
		for i := 1; i <= 20; i++ {
			var ttl Duration
			if i%3 == 0 {
				ttl = Second
			}
			id := h.ok(Command{Kind: KindCreateACLToken, ACLName: fmt.Sprintf("t%d", i), SecretHash: testHash(i), TTL: ttl, RequestID: fmt.Sprintf("c%d", i),
				ACLRules: rules(ACLRule{Prefix: fmt.Sprintf("p%d/", i), Allow: CapLock}, ACLRule{Prefix: "", Allow: CapRead})}).Accessor
			h.ok(Command{Kind: KindAcquire, Name: fmt.Sprintf("p%d/x", i), Creator: id})
			if i%4 == 0 {
				h.ok(Command{Kind: KindDeleteACLToken, Accessor: id})
			}
			h.now += int64(100 * time.Millisecond)
		}
		return h
	}
	a, b := build(), build()
	if !bytes.Equal(snap(t, a.tbl), snap(t, b.tbl)) {
		t.Fatalf("two tables fed the same commands differ")
	}
	// Tokens 3, 6 and 9 expired before later creates and were pruned; 4, 8,
	// 12, 16 and 20 were deleted.
	if got := len(a.tbl.ACLTokens()); got != 20-5-3 {
		t.Errorf("ACLTokens() has %d tokens; want %d", got, 20-5-3)
	}
	first := a.tbl.ACLTokens()[0]
	r := a.do(Command{Kind: KindCreateACLToken, ACLName: "t1", SecretHash: testHash(1), RequestID: "c1",
		ACLRules: rules(ACLRule{Prefix: "p1/", Allow: CapLock}, ACLRule{Prefix: "", Allow: CapRead})})
	if !r.Duplicate || r.Accessor != first.Accessor {
		t.Errorf("repeated create = %+v; want the first result (accessor %d), Duplicate", r, first.Accessor)
	}
}
