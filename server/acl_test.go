// These tests prove access control on an in-process 3-node cluster started
// with a bootstrap token: 401 without a token or with an unknown, malformed,
// deleted or expired one (on the leader and on a follower); 403 for a
// missing capability, the same 403 for a lock outside the token's prefixes
// whether it exists or not; listings filtered to what the token may read;
// leases usable only by the token that created them or an admin; the token
// API (create shows the secret once, list never, delete); forwarded
// requests checked again on the leader (sent straight to its peer
// listener); an audit line per denial and per token change; tokens
// surviving a restart of every node; and ACL off by default.
package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/raftlock/raftlock/client"
	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/server"
	"github.com/raftlock/raftlock/server/servertest"
)

const testBootstrap = "bootstrap-secret-for-tests-0123456789"

func bearer(secret string) []string { return []string{"Authorization", "Bearer " + secret} }

// aclCluster starts a 3-node lock cluster with access control on; logs at
// Info and above are recorded in the returned observer.
func aclCluster(t *testing.T, ctx context.Context) (*servertest.Cluster, int, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	c := servertest.Start(t, 3, servertest.Options{Locks: true, BootstrapToken: testBootstrap, Logger: zap.New(core)})
	leader := waitLeader(t, ctx, c)
	if err := servertest.WaitUntil(ctx, func() bool { return c.Node(leader).Status().Applied >= c.Node(leader).Status().Commit }); err != nil {
		t.Fatalf("leader never applied its commit: %v", err)
	}
	return c, leader, logs
}

// createToken creates a token with the bootstrap secret and returns its
// id and secret.
func createToken(t *testing.T, ctx context.Context, ac *apiClient, base string, body map[string]any) (uint64, string) {
	t.Helper()
	a := ac.must(ctx, http.MethodPost, base+server.PathACLTokens, body, bearer(testBootstrap)...)
	secret, _ := a.Body["secret"].(string)
	if a.Status != http.StatusCreated || secret == "" || a.num("id") == 0 {
		t.Fatalf("POST /v1/acl/tokens %v = %d %s; want 201 with id and secret", body, a.Status, a.Raw)
	}
	return a.num("id"), secret
}

func rule(prefix string, allow ...string) map[string]any {
	return map[string]any{"prefix": prefix, "allow": allow}
}

func TestACL(t *testing.T) {
	ctx := testContext(t)
	c, leader, logs := aclCluster(t, ctx)
	ac := newAPIClient(t)
	spec := loadSpec(t)
	lead, follower := c.URL(leader), c.URL((leader+1)%3)

	_, jobs := createToken(t, ctx, ac, lead, map[string]any{"name": "jobs", "rules": []any{rule("jobs/", "read", "lock")}})
	_, jobs2 := createToken(t, ctx, ac, lead, map[string]any{"name": "jobs too", "rules": []any{rule("jobs/", "lock")}})
	_, elect := createToken(t, ctx, ac, lead, map[string]any{"name": "elect", "rules": []any{rule("svc/", "elect")}})
	_, admin := createToken(t, ctx, ac, lead, map[string]any{"name": "ops", "rules": []any{rule("", "admin")}})
	_, reader := createToken(t, ctx, ac, lead, map[string]any{"name": "reader", "rules": []any{rule("", "read")}})

	// State to be hidden: a held lock outside the jobs/ prefix.
	if a := ac.must(ctx, http.MethodPost, lead+"/v1/locks/other%2Fheld/acquire", nil, bearer(testBootstrap)...); a.Status != http.StatusOK {
		t.Fatalf("bootstrap acquire other/held = %d %s; want 200", a.Status, a.Raw)
	}
	if a := ac.must(ctx, http.MethodPost, lead+"/v1/locks/jobs%2Fa/acquire", nil, bearer(jobs)...); a.Status != http.StatusOK {
		t.Fatalf("jobs acquire jobs/a = %d %s; want 200", a.Status, a.Raw)
	}
	if a := ac.must(ctx, http.MethodPost, follower+"/v1/elections/svc%2Fdb/campaign", map[string]any{"value": "v"}, bearer(elect)...); a.Status != http.StatusOK {
		t.Fatalf("elect campaigns for svc/db = %d %s; want 200", a.Status, a.Raw)
	}

	type check struct {
		name   string
		method string
		path   string
		body   any
		header []string
		status int
		code   string
	}
	cases := []check{
		{"no token", http.MethodPost, "/v1/locks/jobs%2Fx/acquire", nil, nil, 401, "unauthorized"},
		{"unknown token", http.MethodPost, "/v1/locks/jobs%2Fx/acquire", nil, bearer("not-a-token"), 401, "unauthorized"},
		{"not bearer", http.MethodGet, "/v1/locks", nil, []string{"Authorization", "Basic " + jobs}, 401, "unauthorized"},
		{"bootstrap prefix", http.MethodGet, "/v1/locks", nil, bearer(testBootstrap[:20]), 401, "unauthorized"},
		{"no token on cluster", http.MethodGet, server.PathCluster, nil, nil, 401, "unauthorized"},
		{"livez open", http.MethodGet, server.PathLivez, nil, nil, 200, ""},
		{"readyz open", http.MethodGet, server.PathReadyz, nil, nil, 200, ""},
		{"metrics open", http.MethodGet, server.PathMetrics, nil, nil, 200, ""},
		{"read in prefix", http.MethodGet, "/v1/locks/jobs%2Fa", nil, bearer(jobs), 200, ""},
		{"fence in prefix", http.MethodGet, "/v1/locks/jobs%2Fa/fence?token=1", nil, bearer(jobs), 409, "stale_token"},
		{"held lock outside prefix", http.MethodGet, "/v1/locks/other%2Fheld", nil, bearer(jobs), 403, "forbidden"},
		{"absent lock outside prefix", http.MethodGet, "/v1/locks/other%2Ffree", nil, bearer(jobs), 403, "forbidden"},
		{"acquire held outside prefix", http.MethodPost, "/v1/locks/other%2Fheld/acquire", nil, bearer(jobs), 403, "forbidden"},
		{"acquire absent outside prefix", http.MethodPost, "/v1/locks/other%2Ffree/acquire", nil, bearer(jobs), 403, "forbidden"},
		{"release outside prefix", http.MethodPost, "/v1/locks/other%2Fheld/release", map[string]any{"token": 1}, bearer(jobs), 403, "forbidden"},
		{"read without read", http.MethodGet, "/v1/locks/jobs%2Fa", nil, bearer(jobs2), 403, "forbidden"},
		{"campaign without elect", http.MethodPost, "/v1/elections/jobs%2Fe/campaign", map[string]any{"value": "v"}, bearer(jobs), 403, "forbidden"},
		{"election read without read", http.MethodGet, "/v1/elections/svc%2Fdb", nil, bearer(elect), 403, "forbidden"},
		{"election read", http.MethodGet, "/v1/elections/svc%2Fdb", nil, bearer(reader), 200, ""},
		{"observe without read", http.MethodGet, "/v1/elections/svc%2Fdb/observe", nil, bearer(elect), 403, "forbidden"},
		{"lock with elect only", http.MethodPost, "/v1/locks/svc%2Fdb/acquire", nil, bearer(elect), 403, "forbidden"},
		{"cluster with read", http.MethodGet, server.PathCluster, nil, bearer(jobs), 200, ""},
		{"cluster without read", http.MethodGet, server.PathCluster, nil, bearer(elect), 403, "forbidden"},
		{"members with read", http.MethodGet, server.PathClusterMembers, nil, bearer(jobs), 200, ""},
		{"members without read", http.MethodGet, server.PathClusterMembers, nil, bearer(elect), 403, "forbidden"},
		{"add member needs admin", http.MethodPost, server.PathClusterMembers, nil, bearer(jobs), 403, "forbidden"},
		{"transfer needs admin", http.MethodPost, server.PathTransferLeadership, nil, bearer(jobs), 403, "forbidden"},
		{"lease with lock", http.MethodPost, server.PathLeases, map[string]any{"ttl": "10s"}, bearer(jobs2), 201, ""},
		{"lease with read only", http.MethodPost, server.PathLeases, map[string]any{"ttl": "10s"}, bearer(reader), 403, "forbidden"},
		{"lease with elect", http.MethodPost, server.PathLeases, map[string]any{"ttl": "10s"}, bearer(elect), 201, ""},
		{"tokens need admin", http.MethodGet, server.PathACLTokens, nil, bearer(jobs), 403, "forbidden"},
		{"create token needs admin", http.MethodPost, server.PathACLTokens, map[string]any{"name": "x", "rules": []any{rule("", "admin")}}, bearer(jobs), 403, "forbidden"},
		{"admin token lists", http.MethodGet, server.PathACLTokens, nil, bearer(admin), 200, ""},
		{"unknown route", http.MethodGet, "/v1/nope", nil, bearer(jobs), 404, "not_found"},
		{"unknown route without token", http.MethodGet, "/v1/nope", nil, nil, 401, "unauthorized"},
		{"wrong method", http.MethodPut, "/v1/locks/jobs%2Fa", nil, bearer(jobs), 400, "invalid_argument"},
		{"admin reads anything", http.MethodGet, "/v1/locks/other%2Fheld", nil, bearer(admin), 200, ""},
		{"bad rule", http.MethodPost, server.PathACLTokens, map[string]any{"name": "x", "rules": []any{rule("a", "write")}}, bearer(admin), 400, "invalid_argument"},
		{"admin with prefix", http.MethodPost, server.PathACLTokens, map[string]any{"name": "x", "rules": []any{rule("a", "admin")}}, bearer(admin), 400, "invalid_argument"},
	}
	for _, via := range []struct {
		name string
		base string
	}{{"leader", lead}, {"follower", follower}} {
		for _, tc := range cases {
			t.Run(via.name+"/"+tc.name, func(t *testing.T) {
				a := ac.must(ctx, tc.method, via.base+tc.path, tc.body, tc.header...)
				if a.Status != tc.status || a.code() != tc.code {
					t.Fatalf("%s %s = %d %q (%s); want %d %q", tc.method, tc.path, a.Status, a.code(), a.Raw, tc.status, tc.code)
				}
				if tc.path != "/v1/nope" { // a 401 on no route is not the spec's business
					spec.check(t, tc.method, tc.path, a)
				}
			})
		}
	}

	t.Run("forbidden reveals nothing", func(t *testing.T) {
		held := ac.must(ctx, http.MethodGet, follower+"/v1/locks/other%2Fheld", nil, bearer(jobs)...)
		free := ac.must(ctx, http.MethodGet, follower+"/v1/locks/other%2Ffree", nil, bearer(jobs)...)
		hm := strings.ReplaceAll(held.Raw, "held", "NAME")
		fm := strings.ReplaceAll(free.Raw, "free", "NAME")
		if hm != fm {
			t.Errorf("403 for a held lock %s differs from 403 for an absent one %s beyond the name", held.Raw, free.Raw)
		}
	})

	t.Run("listing filtered", func(t *testing.T) {
		for _, tc := range []struct {
			secret string
			query  string
			want   string
		}{
			{jobs, "", "jobs/a"},
			{jobs, "?prefix=other", ""},
			{admin, "", "jobs/a,other/held"},
			{jobs2, "", ""}, // lock without read lists nothing
		} {
			a := ac.must(ctx, http.MethodGet, follower+server.PathLocks+tc.query, nil, bearer(tc.secret)...)
			var names []string
			items, _ := a.Body["locks"].([]any)
			for _, it := range items {
				names = append(names, it.(map[string]any)["name"].(string))
			}
			if got := strings.Join(names, ","); a.Status != http.StatusOK || got != tc.want {
				t.Errorf("GET /v1/locks%s = %d [%s]; want 200 [%s]", tc.query, a.Status, got, tc.want)
			}
		}
	})

	t.Run("token list has no secrets", func(t *testing.T) {
		a := ac.must(ctx, http.MethodGet, follower+server.PathACLTokens, nil, bearer(testBootstrap)...)
		if a.Status != http.StatusOK || strings.Contains(a.Raw, "secret") || strings.Contains(a.Raw, jobs) || !strings.Contains(a.Raw, `"jobs too"`) {
			t.Errorf("GET /v1/acl/tokens = %d %s; want 200 listing the tokens without secrets", a.Status, a.Raw)
		}
		spec.check(t, http.MethodGet, server.PathACLTokens, a)
	})

	t.Run("leases", func(t *testing.T) {
		testACLLeases(t, ctx, ac, lead, follower, jobs, jobs2, admin)
	})

	t.Run("forwarded request checked on the leader", func(t *testing.T) {
		testForwardedChecked(t, ctx, c.Node(leader).PeerURL(), jobs)
	})

	t.Run("delete token", func(t *testing.T) {
		id, secret := createToken(t, ctx, ac, lead, map[string]any{"name": "short-lived", "rules": []any{rule("", "read")}})
		if a := ac.must(ctx, http.MethodGet, follower+"/v1/locks/jobs%2Fa", nil, bearer(secret)...); a.Status != http.StatusOK {
			t.Fatalf("new token at once through a follower = %d %s; want 200", a.Status, a.Raw)
		}
		path := server.PathACLTokens + "/" + itoa(id)
		if a := ac.must(ctx, http.MethodDelete, follower+path, nil, bearer(admin)...); a.Status != http.StatusOK {
			t.Fatalf("DELETE %s = %d %s; want 200", path, a.Status, a.Raw)
		}
		if a := ac.must(ctx, http.MethodGet, lead+"/v1/locks/jobs%2Fa", nil, bearer(secret)...); a.Status != http.StatusUnauthorized {
			t.Errorf("deleted token = %d %s; want 401", a.Status, a.Raw)
		}
		if a := ac.must(ctx, http.MethodDelete, lead+path, nil, bearer(admin)...); a.Status != http.StatusNotFound {
			t.Errorf("DELETE %s again = %d %s; want 404", path, a.Status, a.Raw)
		}
	})

	t.Run("long requests end with their token", func(t *testing.T) {
		testLongRequestsEnd(t, ctx, ac, lead, follower, admin)
	})

	t.Run("expired token", func(t *testing.T) {
		_, secret := createToken(t, ctx, ac, lead, map[string]any{"name": "brief", "ttl": "1s", "rules": []any{rule("", "read")}})
		if a := ac.must(ctx, http.MethodGet, lead+"/v1/locks/jobs%2Fa", nil, bearer(secret)...); a.Status != http.StatusOK {
			t.Fatalf("fresh 1s token = %d %s; want 200", a.Status, a.Raw)
		}
		// Only the clock can end it: poll until it does.
		var last answer
		err := servertest.WaitUntil(ctx, func() bool {
			last = ac.must(ctx, http.MethodGet, follower+"/v1/locks/jobs%2Fa?stale=true", nil, bearer(secret)...)
			return last.Status != http.StatusOK
		})
		if err != nil || last.Status != http.StatusUnauthorized || !strings.Contains(last.Raw, "expired") {
			t.Errorf("1s token after its ttl = %d %s (%v); want 401 expired", last.Status, last.Raw, err)
		}
	})

	t.Run("audit", func(t *testing.T) {
		denied, created, deleted := 0, 0, 0
		for _, e := range logs.All() {
			if !strings.HasSuffix(e.LoggerName, "audit") {
				continue
			}
			switch e.Message {
			case "request denied":
				denied++
				f := e.ContextMap()
				for _, k := range []string{"method", "path", "principal", "remote_addr", "reason"} {
					if _, ok := f[k]; !ok {
						t.Errorf("audit line %v has no %q", f, k)
					}
				}
			case "acl token created":
				created++
			case "acl token deleted":
				deleted++
			}
		}
		if denied < 10 || created < 5 || deleted != 2 {
			t.Errorf("audit lines: %d denied, %d created, %d deleted; want >= 10, >= 5, 2", denied, created, deleted)
		}
	})
}

// testACLLeases: a lease serves only the token that created it, or an admin.
func testACLLeases(t *testing.T, ctx context.Context, ac *apiClient, lead, follower, owner, other, admin string) {
	a := ac.must(ctx, http.MethodPost, follower+server.PathLeases, map[string]any{"ttl": "30s"}, bearer(owner)...)
	if a.Status != http.StatusCreated {
		t.Fatalf("owner creates a lease = %d %s; want 201", a.Status, a.Raw)
	}
	id := itoa(a.num("lease_id"))
	var token uint64 // of the owner's grant of jobs/z
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		secret string
		status int
	}{
		{"other keeps alive", http.MethodPost, "/v1/leases/" + id + "/keepalive", nil, other, 403},
		{"other reads", http.MethodGet, "/v1/leases/" + id, nil, other, 403},
		{"other acquires with it", http.MethodPost, "/v1/locks/jobs%2Fz/acquire", map[string]any{"lease_id": a.num("lease_id")}, other, 403},
		{"other revokes", http.MethodDelete, "/v1/leases/" + id, nil, other, 403},
		{"owner keeps alive", http.MethodPost, "/v1/leases/" + id + "/keepalive", nil, owner, 200},
		{"owner reads", http.MethodGet, "/v1/leases/" + id, nil, owner, 200},
		{"owner acquires with it", http.MethodPost, "/v1/locks/jobs%2Fz/acquire", map[string]any{"lease_id": a.num("lease_id")}, owner, 200},
		{"other releases the owner's lock", http.MethodPost, "/v1/locks/jobs%2Fz/release", "TOKEN", other, 403},
		{"admin reads", http.MethodGet, "/v1/leases/" + id, nil, admin, 200},
		{"admin revokes", http.MethodDelete, "/v1/leases/" + id, nil, admin, 200},
		{"gone", http.MethodGet, "/v1/leases/" + id, nil, owner, 404},
	}
	for _, tc := range cases {
		for _, base := range []string{follower, lead} {
			if tc.name == "admin revokes" && base == lead {
				continue // once is enough
			}
			if tc.name == "owner acquires with it" && base == lead {
				continue // held already
			}
			body := tc.body
			if body == "TOKEN" {
				body = map[string]any{"token": token}
			}
			got := ac.must(ctx, tc.method, base+tc.path, body, bearer(tc.secret)...)
			if tc.name == "owner acquires with it" {
				token = got.num("token")
			}
			if got.Status != tc.status {
				t.Errorf("%s: %s %s = %d %s; want %d", tc.name, tc.method, tc.path, got.Status, got.Raw, tc.status)
			}
		}
	}
}

// testForwardedChecked sends requests straight to the leader's peer
// listener as a follower forwards them: the leader must authenticate them
// itself rather than trust the sender.
func testForwardedChecked(t *testing.T, ctx context.Context, peerURL, jobs string) {
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &protos}
	t.Cleanup(tr.CloseIdleConnections)
	ac := newAPIClient(t)
	ac.hc = &http.Client{Transport: tr}
	for _, tc := range []struct {
		name   string
		header []string
		status int
	}{
		{"no token", nil, 401},
		{"token without the capability", bearer(jobs), 403},
		{"bootstrap", bearer(testBootstrap), 200},
	} {
		h := append([]string{server.HeaderForwardedBy, "n9"}, tc.header...)
		a := ac.must(ctx, http.MethodGet, peerURL+server.PathForwardPrefix+"/v1/locks/other%2Fheld", nil, h...)
		if a.Status != tc.status {
			t.Errorf("forwarded GET other/held with %s = %d %s; want %d", tc.name, a.Status, a.Raw, tc.status)
		}
	}
}

// TestACLOffByDefault: a node without a bootstrap token needs no header,
// and refuses the token API (a token made then would start to work,
// unnoticed, the day ACLs are turned on).
func TestACLOffByDefault(t *testing.T) {
	ctx := testContext(t)
	c, leader := startLocks(t, ctx, 1)
	ac := newAPIClient(t)
	if a := ac.must(ctx, http.MethodPost, c.URL(leader)+"/v1/locks/a/acquire", nil); a.Status != http.StatusOK {
		t.Errorf("acquire without a token on a node without ACLs = %d %s; want 200", a.Status, a.Raw)
	}
	a := ac.must(ctx, http.MethodPost, c.URL(leader)+server.PathACLTokens, map[string]any{"name": "x", "rules": []any{rule("", "admin")}})
	if a.Status != http.StatusBadRequest || !strings.Contains(a.Raw, "access control is off") {
		t.Errorf("POST /v1/acl/tokens without ACLs = %d %s; want 400 access control is off", a.Status, a.Raw)
	}
}

// TestACLTokenSurvivesRestart: a token lives in the replicated table, so
// it works after every node of the cluster restarted (nothing kept in
// memory), on each of them. Every node snapshots its table after the token
// was created, so each restores it from its snapshot, not from the log.
func TestACLTokenSurvivesRestart(t *testing.T) {
	ctx := testContext(t)
	c := servertest.Start(t, 3, servertest.Options{Locks: true, BootstrapToken: testBootstrap, SnapshotCount: server.SnapshotCountMin})
	leader := waitLeader(t, ctx, c)
	ac := newAPIClient(t)
	_, secret := createToken(t, ctx, ac, c.URL(leader), map[string]any{"name": "durable", "rules": []any{rule("jobs/", "read", "lock")}})
	for i := 0; i < server.SnapshotCountMin+10; i++ {
		a := ac.must(ctx, http.MethodPost, c.URL(leader)+"/v1/leases", map[string]any{"ttl": "1m"}, bearer(secret)...)
		if a.Status != http.StatusCreated {
			t.Fatalf("lease %d = %d %s; want 201", i, a.Status, a.Raw)
		}
	}
	if err := servertest.WaitUntil(ctx, func() bool {
		for i := range c.Size() {
			if c.Node(i).SnapshotStats().Taken == 0 {
				return false
			}
		}
		return true
	}); err != nil {
		t.Fatalf("not every node took a snapshot: %v", err)
	}
	for i := range c.Size() {
		c.Stop(i)
	}
	for i := range c.Size() {
		c.Restart(i)
	}
	waitLeader(t, ctx, c)
	for i := range c.Size() {
		var last answer
		err := servertest.WaitUntil(ctx, func() bool {
			last = ac.must(ctx, http.MethodPost, c.URL(i)+"/v1/locks/jobs%2Fr"+itoa(uint64(i))+"/acquire", nil, bearer(secret)...)
			return last.Status != http.StatusServiceUnavailable
		})
		if err != nil || last.Status != http.StatusOK {
			t.Errorf("acquire with the token on node %d after a full restart = %d %s (%v); want 200", i, last.Status, last.Raw, err)
		}
	}
}

// TestACLJoin: a node joining a cluster with access control adds and
// promotes itself with the bootstrap token every node holds, and then
// authenticates tokens from the replicated table like the others.
func TestACLJoin(t *testing.T) {
	ctx := testContext(t)
	c, leader, _ := aclCluster(t, ctx)
	ac := newAPIClient(t)
	_, secret := createToken(t, ctx, ac, c.URL(leader), map[string]any{"name": "r", "rules": []any{rule("", "read")}})
	j := c.Join((leader + 1) % 3)
	cl, err := client.New(client.Config{Endpoints: []string{c.URL(leader)}, Token: testBootstrap})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	waitRole(t, ctx, cl, c.Member(j).Name, wire.RoleVoter)
	if a := ac.must(ctx, http.MethodGet, c.URL(j)+"/v1/locks?stale=true", nil, bearer(secret)...); a.Status != http.StatusOK {
		t.Errorf("token on the joined node = %d %s; want 200", a.Status, a.Raw)
	}
	if a := ac.must(ctx, http.MethodGet, c.URL(j)+"/v1/locks?stale=true", nil); a.Status != http.StatusUnauthorized {
		t.Errorf("no token on the joined node = %d %s; want 401", a.Status, a.Raw)
	}
}

// testLongRequestsEnd: an event stream and a blocking read of a token end
// once the token is deleted (within ACLRecheckInterval): the stream closes,
// the read answers 401.
func testLongRequestsEnd(t *testing.T, ctx context.Context, ac *apiClient, lead, follower, admin string) {
	id, secret := createToken(t, ctx, ac, lead, map[string]any{"name": "watcher", "rules": []any{rule("", "read")}})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, follower+"/v1/elections/svc%2Fdb/observe", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := ac.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("observe = %d; want 200", resp.StatusCode)
	}
	first := make([]byte, 1)
	if _, err := resp.Body.Read(first); err != nil {
		t.Fatalf("observe: no first event: %v", err)
	}
	blocked := make(chan answer, 1)
	// Exits when the blocking read is answered (at the latest after its wait).
	go func() {
		blocked <- ac.must(ctx, http.MethodGet, lead+"/v1/locks/jobs%2Fa?index=1000000&wait=1m", nil, bearer(secret)...)
	}()
	path := server.PathACLTokens + "/" + itoa(id)
	if a := ac.must(ctx, http.MethodDelete, lead+path, nil, bearer(admin)...); a.Status != http.StatusOK {
		t.Fatalf("DELETE %s = %d %s; want 200", path, a.Status, a.Raw)
	}
	// The stream ends: cleanly from the node that serves it, or cut short
	// (unexpected EOF) when the forwarding follower's own check ends it
	// first. Either way io.Copy returns; a stream left open would hold it
	// until the test's deadline.
	if _, err := io.Copy(io.Discard, resp.Body); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("observe after its token was deleted ended with %v; want the stream closed", err)
	}
	if ctx.Err() != nil {
		t.Errorf("observe did not end before the test's deadline")
	}
	if a := <-blocked; a.Status != http.StatusUnauthorized {
		t.Errorf("blocking read when its token was deleted = %d %s; want 401", a.Status, a.Raw)
	}
}
