package server_test

import (
	"net/http"
	"testing"
)

func TestAPISmoke(t *testing.T) {
	ctx := testContext(t)
	c, leader := startLocks(t, ctx, 3)
	follower := (leader + 1) % 3
	ac := newAPIClient(t)
	for _, i := range []int{leader, follower} {
		u := c.URL(i)
		a := ac.must(ctx, http.MethodPost, u+"/v1/locks/db/acquire", map[string]any{"ttl": "10s", "owner": "me"})
		t.Logf("%d acquire: %d %v %v", i, a.Status, a.Body, a.Header)
		b := ac.must(ctx, http.MethodPost, u+"/v1/locks/db/acquire", map[string]any{"ttl": "10s"})
		t.Logf("acquire2: %d %v", b.Status, b.Body)
		g := ac.must(ctx, http.MethodGet, u+"/v1/locks/db", nil)
		t.Logf("get: %d %v %v", g.Status, g.Body, g.Header)
		f := ac.must(ctx, http.MethodGet, u+"/v1/locks/db/fence?token="+itoa(a.num("token")), nil)
		t.Logf("fence: %d %v", f.Status, f.Body)
		r := ac.must(ctx, http.MethodPost, u+"/v1/locks/db/release", map[string]any{"token": a.num("token")})
		t.Logf("release: %d %v", r.Status, r.Body)
		l := ac.must(ctx, http.MethodPost, u+"/v1/leases", map[string]any{"ttl": "5s"})
		t.Logf("lease: %d %v", l.Status, l.Body)
		k := ac.must(ctx, http.MethodPost, u+"/v1/leases/"+itoa(l.num("lease_id"))+"/keepalive", nil)
		t.Logf("keepalive: %d %v", k.Status, k.Body)
		gl := ac.must(ctx, http.MethodGet, u+"/v1/leases/"+itoa(l.num("lease_id")), nil)
		t.Logf("get lease: %d %v", gl.Status, gl.Body)
		m := ac.must(ctx, http.MethodGet, u+"/metrics", nil)
		t.Logf("metrics: %d %d bytes", m.Status, len(m.Raw))
	}
}
