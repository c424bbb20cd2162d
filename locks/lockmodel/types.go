package lockmodel

import (
	"fmt"
	"time"
)

// LeaseID identifies a lease: the log index of the entry that created it.
// Zero means "none" in an Input and "not recorded" in an Output.
type LeaseID uint64

// Token is a fencing token: the log index of the entry that granted a lock.
// An election's term is a Token. Zero means "none" or "not recorded".
type Token uint64

// Kind names a client operation.
type Kind uint8

// The client operations of DESIGN.md §5.
const (
	// KindCreateLease is POST /v1/leases: Input.TTL; Output.Lease.
	KindCreateLease Kind = iota + 1
	// KindKeepAlive is POST /v1/leases/{id}/keepalive: Input.Lease.
	KindKeepAlive
	// KindRevoke is DELETE /v1/leases/{id}: Input.Lease.
	KindRevoke
	// KindAcquire is POST /v1/locks/{name}/acquire: Input.Name, Lease (0
	// creates a lease for this lock alone), Owner, Wait; Output.Token and
	// Lease when granted, the holder's Token (and Lease) on lock_held.
	KindAcquire
	// KindRelease is POST /v1/locks/{name}/release: Input.Name, Token.
	KindRelease
	// KindRead is a linearizable GET /v1/locks/{name}: Output.Held and the
	// holder's Token, Lease and Owner.
	KindRead
	// KindFence is GET /v1/locks/{name}/fence: Input.Name, Token; StatusOK
	// when valid, StatusStaleToken otherwise.
	KindFence
	// KindCampaign is POST /v1/elections/{name}/campaign: Input.Name, Value,
	// Lease (0 creates one), Wait; Output.Token is the term.
	KindCampaign
	// KindProclaim is POST /v1/elections/{name}/proclaim: Input.Name, Token
	// (the term), Value.
	KindProclaim
	// KindResign is POST /v1/elections/{name}/resign: Input.Name, Token.
	KindResign
	// KindLeader is a linearizable GET /v1/elections/{name}: Output.Held and
	// the leader's Value, Token (term) and Lease.
	KindLeader
)

// String returns the operation's snake_case name.
func (k Kind) String() string {
	switch k {
	case KindCreateLease:
		return "create_lease"
	case KindKeepAlive:
		return "keepalive"
	case KindRevoke:
		return "revoke"
	case KindAcquire:
		return "acquire"
	case KindRelease:
		return "release"
	case KindRead:
		return "read"
	case KindFence:
		return "fence"
	case KindCampaign:
		return "campaign"
	case KindProclaim:
		return "proclaim"
	case KindResign:
		return "resign"
	case KindLeader:
		return "leader"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// isElection reports whether the operation addresses an election name.
func (k Kind) isElection() bool {
	return k == KindCampaign || k == KindProclaim || k == KindResign || k == KindLeader
}

// isLeaseOp reports whether the operation addresses a lease only.
func (k Kind) isLeaseOp() bool {
	return k == KindCreateLease || k == KindKeepAlive || k == KindRevoke
}

// Status is the outcome class of an operation, one per stable error code a
// client can act on (DESIGN.md §5), plus Unknown and Rejected.
type Status uint8

// The outcomes. A zero Status is invalid: every recorded Output sets one.
const (
	// StatusOK is any 2xx answer: created, kept alive, revoked, granted,
	// elected, released, valid, proclaimed, resigned, or a read's answer.
	StatusOK Status = iota + 1
	// StatusNotFound is not_found: the lease is gone or never existed.
	StatusNotFound
	// StatusLockHeld is lock_held: another holder has the lock or election;
	// Output.Token carries the holder's token when the answer names it.
	StatusLockHeld
	// StatusNotHolder is not_holder: release with a token that is not the
	// holder's.
	StatusNotHolder
	// StatusStaleToken is stale_token: fence with a token that is not the
	// holder's.
	StatusStaleToken
	// StatusNotLeader is not_leader: proclaim or resign with a term that is not
	// the leader's.
	StatusNotLeader
	// StatusRejected is an answer that proves the operation changed nothing:
	// invalid_argument, too_large, unauthorized, forbidden, too_many_requests.
	StatusRejected
	// StatusUnknown is an operation whose outcome the client cannot know: a
	// timeout, a lost connection, no_leader after a send, internal, or no
	// answer at all. It may take effect at any point after its invocation.
	StatusUnknown
)

// String returns the status's snake_case name, the API's error code where
// there is one.
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusNotFound:
		return "not_found"
	case StatusLockHeld:
		return "lock_held"
	case StatusNotHolder:
		return "not_holder"
	case StatusStaleToken:
		return "stale_token"
	case StatusNotLeader:
		return "not_leader"
	case StatusRejected:
		return "rejected"
	case StatusUnknown:
		return "unknown"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// StatusFromCode maps an API error code of DESIGN.md §5 ("" for success) to a
// Status. Codes that prove nothing happened map to StatusRejected; codes after
// which the request may still take effect (timeout, no_leader, internal, and
// any code it does not know) map to StatusUnknown.
func StatusFromCode(code string) Status {
	switch code {
	case "":
		return StatusOK
	case "not_found":
		return StatusNotFound
	case "lock_held":
		return StatusLockHeld
	case "not_holder":
		return StatusNotHolder
	case "stale_token":
		return StatusStaleToken
	case "not_leader":
		return StatusNotLeader
	case "invalid_argument", "too_large", "unauthorized", "forbidden", "too_many_requests":
		return StatusRejected
	}
	return StatusUnknown
}

// Input is one client operation as invoked. Fields a Kind does not use are
// zero.
type Input struct {
	Kind  Kind
	Name  string        // lock or election name
	Lease LeaseID       // the lease used or addressed; 0 = create one for this lock
	TTL   time.Duration // informational: lease ttl asked for
	Owner string        // acquire: the holder's owner string
	Value string        // campaign, proclaim: the election value
	Token Token         // release, fence: the token; proclaim, resign: the term
	Wait  bool          // acquire, campaign: informational, the call may block
}

// Output is the answer to one operation as the client received it.
type Output struct {
	Status Status
	// Held is set by KindRead and KindLeader when the lock or election has a
	// holder.
	Held bool
	// Token is the granted token or elected term; on lock_held and on a read,
	// the holder's token (0 when the answer does not name it).
	Token Token
	// Lease is the new lease of KindCreateLease, the holder's lease of a grant
	// or a read (0 when not recorded).
	Lease LeaseID
	// Owner is the holder's owner on a read of a lock.
	Owner string
	// Value is the leader's value on KindLeader.
	Value string
}

// String describes the operation the way the visualization shows it.
func (in Input) String() string {
	switch in.Kind {
	case KindCreateLease:
		return fmt.Sprintf("create_lease(ttl=%s)", in.TTL)
	case KindKeepAlive, KindRevoke:
		return fmt.Sprintf("%s(lease=%d)", in.Kind, in.Lease)
	case KindAcquire:
		return fmt.Sprintf("acquire(%q, lease=%d, owner=%q, wait=%t)", in.Name, in.Lease, in.Owner, in.Wait)
	case KindRelease, KindFence, KindResign:
		return fmt.Sprintf("%s(%q, token=%d)", in.Kind, in.Name, in.Token)
	case KindRead, KindLeader:
		return fmt.Sprintf("%s(%q)", in.Kind, in.Name)
	case KindCampaign:
		return fmt.Sprintf("campaign(%q, value=%q, lease=%d, wait=%t)", in.Name, in.Value, in.Lease, in.Wait)
	case KindProclaim:
		return fmt.Sprintf("proclaim(%q, term=%d, value=%q)", in.Name, in.Token, in.Value)
	}
	type plain Input // without String, so %+v does not recurse
	return fmt.Sprintf("%s(%+v)", in.Kind, plain(in))
}

// String describes the answer the way the visualization shows it.
func (out Output) String() string {
	s := out.Status.String()
	if out.Status == StatusOK && out.Held {
		s = "held"
	}
	if out.Token != 0 {
		s += fmt.Sprintf(" token=%d", out.Token)
	}
	if out.Lease != 0 {
		s += fmt.Sprintf(" lease=%d", out.Lease)
	}
	if out.Owner != "" {
		s += fmt.Sprintf(" owner=%q", out.Owner)
	}
	if out.Value != "" {
		s += fmt.Sprintf(" value=%q", out.Value)
	}
	return s
}
