package wire

// MemberRole is a member's part in the cluster's votes.
const (
	// RoleVoter votes in elections and counts towards commit majorities.
	RoleVoter = "voter"
	// RoleLearner receives the log but does not vote.
	RoleLearner = "learner"
)

// MemberRequest is the body of POST /v1/cluster/members: the new member's
// name and the URLs where its peer and client listeners are reached.
type MemberRequest struct {
	Name      string `json:"name"`
	PeerURL   string `json:"peer_url"`
	ClientURL string `json:"client_url,omitempty"`
}

// MemberEntry is one member as GET /v1/cluster/members lists it.
type MemberEntry struct {
	ID        uint64 `json:"id"`
	Name      string `json:"name"`
	PeerURL   string `json:"peer_url"`
	ClientURL string `json:"client_url,omitempty"`
	// Role is RoleVoter or RoleLearner.
	Role   string `json:"role"`
	Leader bool   `json:"leader"`
	// Match is the highest log index the leader knows the member stores;
	// present when the leader answered.
	Match *uint64 `json:"match,omitempty"`
}

// MemberList is the body of GET /v1/cluster/members.
type MemberList struct {
	Members []MemberEntry `json:"members"`
	// Index is the log index of the membership listed (0: the initial one).
	Index uint64 `json:"index"`
	// ChangeInProgress: a membership change is not finished (its entry is
	// not committed, or the joint configuration is not left); another
	// change would be refused with change_in_progress.
	ChangeInProgress bool `json:"change_in_progress"`
}

// MemberAdded is the answer of POST /v1/cluster/members: the member (a
// learner), and what a joining node needs before it starts Raft: the
// cluster's id, the leader and its term.
type MemberAdded struct {
	Member    MemberEntry `json:"member"`
	LeaderID  uint64      `json:"leader_id"`
	Term      uint64      `json:"term"`
	ClusterID string      `json:"cluster_id"`
	// Members is the whole member directory after the change.
	Members []MemberEntry `json:"members"`
}

// MemberChanged is the answer of DELETE /v1/cluster/members/{name} and of
// POST /v1/cluster/members/{name}/promote.
type MemberChanged struct {
	Name string `json:"name"`
	// Index is the log index of the change's entry.
	Index uint64 `json:"index"`
}

// TransferRequest is the body of POST /v1/cluster/transfer-leadership; an
// empty To lets the leader pick the most up-to-date voter.
type TransferRequest struct {
	To string `json:"to,omitempty"`
}

// TransferResult is the answer of POST /v1/cluster/transfer-leadership.
type TransferResult struct {
	Leader string `json:"leader"`
}
