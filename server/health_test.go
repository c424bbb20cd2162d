// These tests prove the health and cluster endpoints over HTTP (httptest,
// echo router) against a scripted Raft status: /readyz needs a known leader
// and applied >= commit, /v1/health/leader needs the leader role and an active
// quorum, /v1/cluster reports names not ids, and every refusal has the error
// shape with a stable code and Retry-After.
package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/consensus"
)

func testView(st consensus.Status) *echo.Echo {
	members := []Member{
		{Name: "n1", ID: NodeIDOf("n1"), PeerURL: "http://127.0.0.1:7071"},
		{Name: "n2", ID: NodeIDOf("n2"), PeerURL: "http://127.0.0.1:7081"},
		{Name: "n3", ID: NodeIDOf("n3"), PeerURL: "http://127.0.0.1:7091"},
	}
	v := &clusterView{
		self:            members[0],
		clientURL:       "http://127.0.0.1:7070",
		members:         func() []Member { return members },
		status:          func() consensus.Status { return st },
		log:             zap.NewNop(),
		electionTimeout: "1s",
	}
	e := echo.New()
	e.HTTPErrorHandler = httpErrorHandler(zap.NewNop())
	v.register(e)
	return e
}

func get(t *testing.T, h http.Handler, path string) (int, http.Header, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("GET %s: body %q is not JSON: %v", path, rec.Body.String(), err)
	}
	return rec.Code, rec.Header(), body
}

func errorCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func TestHealthEndpoints(t *testing.T) {
	n1, n2 := NodeIDOf("n1"), NodeIDOf("n2")
	cases := []struct {
		name     string
		path     string
		st       consensus.Status
		wantCode int
		wantErr  string // error code, "" on success
	}{
		{"livez always", PathLivez, consensus.Status{}, 200, ""},
		{"readyz no leader", PathReadyz, consensus.Status{Term: 3}, 503, wire.CodeNoLeader},
		{"readyz behind", PathReadyz, consensus.Status{Lead: n2, Commit: 10, Applied: 9}, 503, wire.CodeNoLeader},
		{"readyz caught up", PathReadyz, consensus.Status{Lead: n2, Commit: 10, Applied: 10}, 200, ""},
		{"leader health on follower", PathHealthLeader, consensus.Status{Lead: n2, Role: consensus.RoleFollower}, 503, wire.CodeNoLeader},
		{"leader health on candidate", PathHealthLeader, consensus.Status{Role: consensus.RoleCandidate}, 503, wire.CodeNoLeader},
		{"leader health without quorum", PathHealthLeader, consensus.Status{ID: n1, Lead: n1, Role: consensus.RoleLeader}, 503, wire.CodeNoLeader},
		{"leader health with quorum", PathHealthLeader, consensus.Status{ID: n1, Lead: n1, Role: consensus.RoleLeader, QuorumActive: true}, 200, ""},
		{"unknown path", "/nope", consensus.Status{}, 404, wire.CodeNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, hdr, body := get(t, testView(tc.st), tc.path)
			if code != tc.wantCode {
				t.Errorf("GET %s = %d %v; want %d", tc.path, code, body, tc.wantCode)
			}
			if got := errorCode(body); got != tc.wantErr {
				t.Errorf("GET %s error code = %q; want %q", tc.path, got, tc.wantErr)
			}
			if code == http.StatusServiceUnavailable && hdr.Get("Retry-After") == "" {
				t.Errorf("GET %s = 503 without Retry-After", tc.path)
			}
		})
	}
}

func TestLeaderHealthNamesTheLeader(t *testing.T) {
	st := consensus.Status{Lead: NodeIDOf("n2"), Role: consensus.RoleFollower}
	_, _, body := get(t, testView(st), PathHealthLeader)
	msg := body["error"].(map[string]any)["message"].(string)
	if !strings.Contains(msg, "the leader is n2") {
		t.Errorf("GET %s message = %q; want it to name n2", PathHealthLeader, msg)
	}
}

func TestClusterStatus(t *testing.T) {
	st := consensus.Status{
		ID: NodeIDOf("n1"), Role: consensus.RoleLeader, Term: 7, Lead: NodeIDOf("n1"),
		Commit: 42, Applied: 41, LastIndex: 43, QuorumActive: true,
	}
	rec := httptest.NewRecorder()
	testView(st).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, PathCluster, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s = %d; want 200", PathCluster, rec.Code)
	}
	var got ClusterStatus
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("GET %s: %v", PathCluster, err)
	}
	if got.ID != "n1" || got.Role != "leader" || got.Term != 7 || got.Leader != "n1" ||
		got.CommitIndex != 42 || got.AppliedIndex != 41 || got.LastIndex != 43 {
		t.Errorf("GET %s = %+v; want n1 leading term 7 at commit 42, applied 41, last 43", PathCluster, got)
	}
	if len(got.Members) != 3 {
		t.Fatalf("GET %s members = %+v; want 3", PathCluster, got.Members)
	}
	for _, m := range got.Members {
		if wantLeader := m.Name == "n1"; m.IsLeader != wantLeader {
			t.Errorf("member %s is_leader = %v; want %v", m.Name, m.IsLeader, wantLeader)
		}
		if wantClient := m.Name == "n1"; (m.ClientURL != "") != wantClient {
			t.Errorf("member %s client_url = %q; want it only for this node", m.Name, m.ClientURL)
		}
	}
	for _, key := range []string{`"id"`, `"role"`, `"term"`, `"leader"`, `"commit_index"`, `"applied_index"`, `"members"`} {
		if !strings.Contains(rec.Body.String(), key) {
			t.Errorf("GET %s body %s lacks %s", PathCluster, rec.Body.String(), key)
		}
	}
}
