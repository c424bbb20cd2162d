package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/raftlock/raftlock/consensus"
)

// Paths of the health and cluster endpoints.
const (
	PathLivez        = "/livez"
	PathReadyz       = "/readyz"
	PathHealthLeader = "/v1/health/leader"
	PathCluster      = "/v1/cluster"
)

// clusterView is what the health and cluster endpoints read: the members and
// the Raft state of this node.
type clusterView struct {
	self      Member
	clientURL string
	// members returns the current members.
	members func() []Member
	// others returns the client URLs of other members it can learn, by
	// name; nil knows none.
	others func(ctx context.Context) map[string]string
	// status returns the driver's current Status.
	status func() consensus.Status
	log    *zap.Logger
	// electionTimeout is quoted in the leader check's refusal.
	electionTimeout string
}

// ClusterStatus is the body of GET /v1/cluster.
type ClusterStatus struct {
	// ID is this node's member name.
	ID string `json:"id"`
	// Role is follower, pre-candidate, candidate or leader.
	Role string `json:"role"`
	// Term is this node's Raft term.
	Term consensus.Term `json:"term"`
	// Leader is the leader's member name, empty when none is known.
	Leader       string          `json:"leader"`
	CommitIndex  consensus.Index `json:"commit_index"`
	AppliedIndex consensus.Index `json:"applied_index"`
	LastIndex    consensus.Index `json:"last_index"`
	Members      []MemberStatus  `json:"members"`
}

// MemberStatus is one member in GET /v1/cluster.
type MemberStatus struct {
	Name string `json:"name"`
	// RaftID is the member's consensus.NodeID in hex (the logs' numeric ids);
	// a string because JSON numbers lose precision past 2^53.
	RaftID  string `json:"raft_id"`
	PeerURL string `json:"peer_url"`
	// ClientURL is the member's advertised client URL, as it told this node
	// on the peer listener; empty when it did not answer.
	ClientURL string `json:"client_url,omitempty"`
	IsLeader  bool   `json:"is_leader"`
}

// register mounts the endpoints on e.
func (v *clusterView) register(e *echo.Echo) {
	e.GET(PathLivez, v.livez)
	e.GET(PathReadyz, v.readyz)
	e.GET(PathHealthLeader, v.healthLeader)
	e.GET(PathCluster, v.cluster)
}

// livez answers 200 while the process serves: the listener is closed first on
// shutdown, so a prober sees the node go away.
func (v *clusterView) livez(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when a leader is known and this node has applied every
// entry it knows is committed, so a read served here is not behind its own log.
func (v *clusterView) readyz(c echo.Context) error {
	if err := readiness(v.status()); err != nil {
		return writeError(c, v.log, err)
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// readiness is the rule of /readyz.
func readiness(st consensus.Status) error {
	if st.Lead == consensus.None {
		return fmt.Errorf("%w: no leader known at term %d", consensus.ErrNoLeader, st.Term)
	}
	if st.Applied < st.Commit {
		return fmt.Errorf("%w: applied index %d is behind commit index %d", ErrNotReady, st.Applied, st.Commit)
	}
	return nil
}

// healthLeader answers 200 only on a leader that heard from a quorum within
// the election timeout, so a load balancer sends traffic to one node at most
// per term and never to a leader cut off from its followers.
func (v *clusterView) healthLeader(c echo.Context) error {
	if err := v.leadership(v.status()); err != nil {
		return writeError(c, v.log, err)
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "leader"})
}

// leadership is the rule of /v1/health/leader.
func (v *clusterView) leadership(st consensus.Status) error {
	if st.Role != consensus.RoleLeader {
		lead := v.nameOf(st.Lead)
		if lead == "" {
			return fmt.Errorf("%w: %s is %s and knows no leader", consensus.ErrNoLeader, v.self.Name, st.Role)
		}
		return fmt.Errorf("%w: %s is %s; the leader is %s", consensus.ErrNoLeader, v.self.Name, st.Role, lead)
	}
	if !st.QuorumActive {
		return fmt.Errorf("%w: %s leads term %d but has not heard from a quorum within %s", consensus.ErrNoLeader, v.self.Name, st.Term, v.electionTimeout)
	}
	return nil
}

func (v *clusterView) cluster(c echo.Context) error {
	var others map[string]string
	if v.others != nil {
		others = v.others(c.Request().Context())
	}
	return c.JSON(http.StatusOK, v.clusterStatus(v.status(), others))
}

func (v *clusterView) clusterStatus(st consensus.Status, others map[string]string) ClusterStatus {
	cs := ClusterStatus{
		ID:           v.self.Name,
		Role:         st.Role.String(),
		Term:         st.Term,
		Leader:       v.nameOf(st.Lead),
		CommitIndex:  st.Commit,
		AppliedIndex: st.Applied,
		LastIndex:    st.LastIndex,
	}
	members := v.members()
	cs.Members = make([]MemberStatus, 0, len(members))
	for _, m := range members {
		ms := MemberStatus{
			Name:     m.Name,
			RaftID:   strconv.FormatUint(uint64(m.ID), 16),
			PeerURL:  m.PeerURL,
			IsLeader: m.ID == st.Lead,
		}
		if m.ID == v.self.ID {
			ms.ClientURL = v.clientURL
		} else {
			ms.ClientURL = others[m.Name]
		}
		cs.Members = append(cs.Members, ms)
	}
	return cs
}

// nameOf returns the member name of id, or "" for None or an unknown id.
func (v *clusterView) nameOf(id consensus.NodeID) string {
	for _, m := range v.members() {
		if m.ID == id {
			return m.Name
		}
	}
	return ""
}
