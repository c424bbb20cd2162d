// These tests prove the client API of DESIGN.md §5 on an in-process 3-node
// cluster, through the leader and through a follower (which forwards and
// passes back the leader's X-Raftlock-Leader): every endpoint's success
// shape, every error code a request can cause with its status, Retry-After
// and holder, every limit (body 64 KiB, names, ttl, wait, Idempotency-Key)
// and unknown JSON fields. Each answer is also checked against openapi.yaml
// (status documented for the route, required fields present, types right).
package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/raftlock/raftlock/client/wire"
)

// apiCase is one request and what its answer must be.
type apiCase struct {
	name   string
	method string
	path   string
	body   any
	header []string
	status int
	code   string   // error code; "" for a success
	fields []string // keys the body must have
}

func TestAPIEndpoints(t *testing.T) {
	ctx := testContext(t)
	c, leader := startLocks(t, ctx, 3)
	ac := newAPIClient(t)
	spec := loadSpec(t)
	for _, via := range []struct {
		name string
		slot int
	}{{"leader", leader}, {"follower", (leader + 1) % 3}} {
		t.Run(via.name, func(t *testing.T) {
			runAPICases(t, ctx, ac, spec, c.URL(via.slot), c.URL(leader), via.name)
		})
	}
}

func runAPICases(t *testing.T, ctx context.Context, ac *apiClient, spec *openAPI, base, leaderURL, p string) {
	send := func(tc apiCase) answer {
		t.Helper()
		a := ac.must(ctx, tc.method, base+tc.path, tc.body, tc.header...)
		if a.Status != tc.status || a.code() != tc.code {
			t.Fatalf("%s %s = %d %q (%s); want %d %q", tc.method, tc.path, a.Status, a.code(), a.Raw, tc.status, tc.code)
		}
		for _, f := range tc.fields {
			if _, ok := a.Body[f]; !ok {
				t.Errorf("%s %s: answer %s has no %q", tc.method, tc.path, a.Raw, f)
			}
		}
		if tc.code != "" {
			if msg, _ := a.Body["error"].(map[string]any)["message"].(string); msg == "" {
				t.Errorf("%s %s: error %s has no message", tc.method, tc.path, a.Raw)
			}
		}
		if got := a.Header.Get(wire.HeaderLeader); a.Status < 300 && !strings.Contains(tc.path, "stale=true") && got != leaderURL {
			t.Errorf("%s %s: %s = %q; want %q", tc.method, tc.path, wire.HeaderLeader, got, leaderURL)
		}
		spec.check(t, tc.method, tc.path, a)
		return a
	}
	lock := "/v1/locks/" + p + "-db"
	// A lease, and a lock held through it.
	lease := send(apiCase{name: "create lease", method: "POST", path: "/v1/leases", body: `{"ttl":"30s"}`, status: 201, fields: []string{"lease_id", "ttl"}})
	id := itoa(lease.num("lease_id"))
	acq := send(apiCase{method: "POST", path: lock + "/acquire", body: map[string]any{"lease_id": lease.num("lease_id"), "owner": "w1"},
		status: 200, fields: []string{"name", "token", "lease_id", "owner"}})
	token := acq.num("token")
	if acq.num("lease_id") != lease.num("lease_id") || acq.Body["owner"] != "w1" || acq.Body["name"] != p+"-db" {
		t.Errorf("acquire = %s; want the lease %s, owner w1, name %s-db", acq.Raw, id, p)
	}
	held := send(apiCase{method: "POST", path: lock + "/acquire", body: `{"ttl":"5s"}`, status: 409, code: wire.CodeLockHeld})
	if h, _ := held.Body["error"].(map[string]any)["holder"].(map[string]any); h == nil || uint64(h["token"].(float64)) != token {
		t.Errorf("lock_held answer %s; want the holder with token %d", held.Raw, token)
	}
	got := send(apiCase{method: "GET", path: lock, status: 200, fields: []string{"name", "held", "holder", "waiters", "index"}})
	if got.Body["held"] != true || got.Header.Get(wire.HeaderIndex) == "" {
		t.Errorf("GET %s = %s %v; want held with %s", lock, got.Raw, got.Header, wire.HeaderIndex)
	}
	send(apiCase{method: "GET", path: lock + "?stale=true", status: 200, fields: []string{"held"}})
	list := send(apiCase{method: "GET", path: "/v1/locks?prefix=" + p + "-", status: 200, fields: []string{"locks"}})
	if ls, _ := list.Body["locks"].([]any); len(ls) != 1 {
		t.Errorf("GET /v1/locks?prefix=%s- = %s; want one lock", p, list.Raw)
	}
	send(apiCase{method: "GET", path: lock + "/fence?token=" + itoa(token), status: 200, fields: []string{"valid"}})
	send(apiCase{method: "GET", path: lock + "/fence?token=" + itoa(token-1), status: 409, code: wire.CodeStaleToken})
	send(apiCase{method: "GET", path: "/v1/leases/" + id, status: 200, fields: []string{"lease_id", "ttl", "remaining", "locks"}})
	send(apiCase{method: "POST", path: "/v1/leases/" + id + "/keepalive", status: 200, fields: []string{"lease_id", "ttl"}})
	send(apiCase{method: "POST", path: lock + "/release", body: map[string]any{"token": token + 1000}, status: 409, code: wire.CodeNotHolder})
	send(apiCase{method: "POST", path: lock + "/release", body: map[string]any{"token": token}, status: 200, fields: []string{"released"}})
	send(apiCase{method: "DELETE", path: "/v1/leases/" + id, status: 200, fields: []string{"revoked"}})
	send(apiCase{method: "DELETE", path: "/v1/leases/" + id, status: 404, code: wire.CodeNotFound})
	send(apiCase{method: "POST", path: "/v1/leases/" + id + "/keepalive", status: 404, code: wire.CodeNotFound})
	send(apiCase{method: "GET", path: "/v1/leases/" + id, status: 404, code: wire.CodeNotFound})

	// Elections.
	el := "/v1/elections/" + p + "-svc"
	won := send(apiCase{method: "POST", path: el + "/campaign", body: `{"value":"a:1","ttl":"10s"}`, status: 200, fields: []string{"name", "value", "term", "lease_id"}})
	term := won.num("term")
	send(apiCase{method: "POST", path: el + "/campaign", body: `{"value":"b:2"}`, status: 409, code: wire.CodeLockHeld})
	send(apiCase{method: "POST", path: el + "/proclaim", body: map[string]any{"term": term, "value": "a:2"}, status: 200, fields: []string{"value", "term"}})
	send(apiCase{method: "POST", path: el + "/proclaim", body: map[string]any{"term": term + 1, "value": "x"}, status: 409, code: wire.CodeNotLeader})
	e := send(apiCase{method: "GET", path: el, status: 200, fields: []string{"name", "leader", "index"}})
	if ld, _ := e.Body["leader"].(map[string]any); ld == nil || ld["value"] != "a:2" {
		t.Errorf("GET %s = %s; want leader value a:2", el, e.Raw)
	}
	send(apiCase{method: "POST", path: el + "/resign", body: map[string]any{"term": term + 1}, status: 409, code: wire.CodeNotLeader})
	send(apiCase{method: "POST", path: el + "/resign", body: map[string]any{"term": term}, status: 200, fields: []string{"resigned"}})

	// Idempotency: a repeated key gets the first answer and changes nothing.
	key := []string{wire.HeaderIdempotencyKey, p + "-key-1"}
	first := send(apiCase{method: "POST", path: lock + "/acquire", body: `{"ttl":"10s"}`, header: key, status: 200})
	again := send(apiCase{method: "POST", path: lock + "/acquire", body: `{"ttl":"10s"}`, header: key, status: 200})
	if first.num("token") != again.num("token") || first.num("lease_id") != again.num("lease_id") {
		t.Errorf("retry with the same %s = %s; want the first answer %s", wire.HeaderIdempotencyKey, again.Raw, first.Raw)
	}
	send(apiCase{method: "POST", path: lock + "/acquire", body: `{"ttl":"11s"}`, header: key, status: 400, code: wire.CodeInvalidArgument})
	send(apiCase{method: "POST", path: lock + "/release", body: map[string]any{"token": first.num("token")}, status: 200})

	// Limits and malformed requests.
	big := strings.Repeat("x", 64<<10)
	for _, tc := range []apiCase{
		{name: "unknown field", method: "POST", path: lock + "/acquire", body: `{"ttl":"5s","colour":"red"}`, status: 400, code: wire.CodeInvalidArgument},
		{name: "not json", method: "POST", path: lock + "/acquire", body: `{"ttl":`, status: 400, code: wire.CodeInvalidArgument},
		{name: "trailing data", method: "POST", path: lock + "/acquire", body: `{} {}`, status: 400, code: wire.CodeInvalidArgument},
		{name: "numeric ttl", method: "POST", path: "/v1/leases", body: `{"ttl":10}`, status: 400, code: wire.CodeInvalidArgument},
		{name: "ttl below min", method: "POST", path: "/v1/leases", body: `{"ttl":"500ms"}`, status: 400, code: wire.CodeInvalidArgument},
		{name: "ttl above max", method: "POST", path: "/v1/leases", body: `{"ttl":"2h"}`, status: 400, code: wire.CodeInvalidArgument},
		{name: "wait above max", method: "POST", path: lock + "/acquire", body: `{"wait":"6m"}`, status: 400, code: wire.CodeInvalidArgument},
		{name: "negative wait", method: "POST", path: lock + "/acquire", body: `{"wait":"-1s"}`, status: 400, code: wire.CodeInvalidArgument},
		{name: "name too long", method: "POST", path: "/v1/locks/" + strings.Repeat("n", 257) + "/acquire", body: `{}`, status: 400, code: wire.CodeInvalidArgument},
		{name: "name charset", method: "GET", path: "/v1/locks/a%20b", status: 400, code: wire.CodeInvalidArgument},
		{name: "owner too long", method: "POST", path: lock + "/acquire", body: map[string]any{"owner": strings.Repeat("o", 257)}, status: 400, code: wire.CodeInvalidArgument},
		{name: "value too long", method: "POST", path: el + "/campaign", body: map[string]any{"value": strings.Repeat("v", 4097)}, status: 400, code: wire.CodeInvalidArgument},
		{name: "body too large", method: "POST", path: lock + "/acquire", body: `{"owner":"` + big + `"}`, status: 413, code: wire.CodeTooLarge},
		{name: "key too long", method: "POST", path: "/v1/leases", body: `{}`, header: []string{wire.HeaderIdempotencyKey, strings.Repeat("k", 97)}, status: 400, code: wire.CodeInvalidArgument},
		{name: "key with space", method: "POST", path: "/v1/leases", body: `{}`, header: []string{wire.HeaderIdempotencyKey, "a b"}, status: 400, code: wire.CodeInvalidArgument},
		{name: "lease id not a number", method: "GET", path: "/v1/leases/abc", status: 400, code: wire.CodeInvalidArgument},
		{name: "lease not found", method: "GET", path: "/v1/leases/999999", status: 404, code: wire.CodeNotFound},
		{name: "acquire on missing lease", method: "POST", path: lock + "/acquire", body: `{"lease_id":999999}`, status: 404, code: wire.CodeNotFound},
		{name: "lease_id with ttl", method: "POST", path: lock + "/acquire", body: `{"lease_id":1,"ttl":"5s"}`, status: 400, code: wire.CodeInvalidArgument},
		{name: "release without token", method: "POST", path: lock + "/release", body: `{}`, status: 400, code: wire.CodeInvalidArgument},
		{name: "fence without token", method: "GET", path: lock + "/fence", status: 400, code: wire.CodeInvalidArgument},
		{name: "bad index", method: "GET", path: lock + "?index=x&wait=1s", status: 400, code: wire.CodeInvalidArgument},
		{name: "bad wait", method: "GET", path: lock + "?index=1&wait=forever", status: 400, code: wire.CodeInvalidArgument},
		{name: "bad stale", method: "GET", path: lock + "?stale=maybe", status: 400, code: wire.CodeInvalidArgument},
		{name: "prefix too long", method: "GET", path: "/v1/locks?prefix=" + strings.Repeat("p", 257), status: 400, code: wire.CodeInvalidArgument},
		{name: "unknown route", method: "GET", path: "/v1/nothing", status: 404, code: wire.CodeNotFound},
		{name: "wrong method", method: "PUT", path: lock + "/acquire", status: 400, code: wire.CodeInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) { send(tc) })
	}
}
