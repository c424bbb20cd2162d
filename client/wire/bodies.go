package wire

import "time"

// LeaseRequest is the body of POST /v1/leases.
type LeaseRequest struct {
	TTL Duration `json:"ttl"`
}

// Lease answers POST /v1/leases and POST /v1/leases/{id}/keepalive.
type Lease struct {
	LeaseID uint64   `json:"lease_id"`
	TTL     Duration `json:"ttl"`
}

// LeaseInfo answers GET /v1/leases/{id}.
type LeaseInfo struct {
	LeaseID   uint64   `json:"lease_id"`
	TTL       Duration `json:"ttl"`
	Remaining Duration `json:"remaining"`
	Locks     []string `json:"locks"`
}

// Revoked answers DELETE /v1/leases/{id}.
type Revoked struct {
	Revoked bool `json:"revoked"`
}

// AcquireRequest is the body of POST /v1/locks/{name}/acquire. Without
// LeaseID the server creates a lease of TTL for this lock alone.
type AcquireRequest struct {
	LeaseID uint64   `json:"lease_id,omitempty"`
	TTL     Duration `json:"ttl,omitempty"`
	Owner   string   `json:"owner,omitempty"`
	Wait    Duration `json:"wait,omitempty"`
}

// Acquired answers a granted acquire.
type Acquired struct {
	Name    string `json:"name"`
	Token   uint64 `json:"token"`
	LeaseID uint64 `json:"lease_id"`
	Owner   string `json:"owner"`
}

// ReleaseRequest is the body of POST /v1/locks/{name}/release.
type ReleaseRequest struct {
	Token uint64 `json:"token"`
}

// Released answers a release.
type Released struct {
	Released bool `json:"released"`
}

// Holder is the current holder of a lock, or the leader of an election in a
// lock_held refusal of a campaign (then Token is its term and Value is set).
type Holder struct {
	LeaseID    uint64    `json:"lease_id"`
	Owner      string    `json:"owner"`
	Token      uint64    `json:"token"`
	AcquiredAt time.Time `json:"acquired_at"`
	Value      string    `json:"value,omitempty"`
}

// LockInfo answers GET /v1/locks/{name} and is an element of LockList.
type LockInfo struct {
	Name    string  `json:"name"`
	Held    bool    `json:"held"`
	Holder  *Holder `json:"holder,omitempty"`
	Waiters int     `json:"waiters"`
	Index   uint64  `json:"index"`
}

// LockList answers GET /v1/locks.
type LockList struct {
	Locks []LockInfo `json:"locks"`
}

// Fence answers GET /v1/locks/{name}/fence?token=N.
type Fence struct {
	Valid bool `json:"valid"`
}

// CampaignRequest is the body of POST /v1/elections/{name}/campaign.
type CampaignRequest struct {
	LeaseID uint64   `json:"lease_id,omitempty"`
	TTL     Duration `json:"ttl,omitempty"`
	Value   string   `json:"value"`
	Wait    Duration `json:"wait,omitempty"`
}

// Elected answers a won campaign and a proclaim.
type Elected struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	Term    uint64 `json:"term"`
	LeaseID uint64 `json:"lease_id"`
}

// ProclaimRequest is the body of POST /v1/elections/{name}/proclaim.
type ProclaimRequest struct {
	Term  uint64 `json:"term"`
	Value string `json:"value"`
}

// ResignRequest is the body of POST /v1/elections/{name}/resign.
type ResignRequest struct {
	Term uint64 `json:"term"`
}

// Resigned answers a resign.
type Resigned struct {
	Resigned bool `json:"resigned"`
}

// Leader is an election's current leader.
type Leader struct {
	Value   string `json:"value"`
	Term    uint64 `json:"term"`
	LeaseID uint64 `json:"lease_id"`
}

// ElectionInfo answers GET /v1/elections/{name} and is each event of
// GET /v1/elections/{name}/observe.
type ElectionInfo struct {
	Name   string  `json:"name"`
	Leader *Leader `json:"leader,omitempty"`
	Index  uint64  `json:"index"`
}

// Cluster answers GET /v1/cluster.
type Cluster struct {
	ID           string   `json:"id"`
	Role         string   `json:"role"`
	Term         uint64   `json:"term"`
	Leader       string   `json:"leader"`
	CommitIndex  uint64   `json:"commit_index"`
	AppliedIndex uint64   `json:"applied_index"`
	Members      []Member `json:"members"`
}

// Member is one node of the cluster.
type Member struct {
	Name      string `json:"name"`
	PeerURL   string `json:"peer_url"`
	ClientURL string `json:"client_url,omitempty"`
	IsLeader  bool   `json:"is_leader"`
}

// Health answers the health endpoints: "ok" or the reason for 503.
type Health struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}
