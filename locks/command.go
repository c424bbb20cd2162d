package locks

import (
	"strconv"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// Kind says which command a Command is.
type Kind uint8

// The commands of the log. Keepalive is not one: the leader answers it after
// a quorum check, without a log write.
const (
	// KindCreateLease creates a lease of TTL; its id is the entry's index.
	KindCreateLease Kind = iota + 1
	// KindRevokeLease revokes LeaseID (a client asked).
	KindRevokeLease
	// KindExpireLease expires LeaseID (the leader's lease clock ran out).
	KindExpireLease
	// KindCheckpointLeases records each lease's remaining time as the
	// leader saw it (Checkpoints).
	KindCheckpointLeases
	// KindAcquire acquires Name (a lock, or an election when Election) for
	// LeaseID, or for a new lease of TTL when LeaseID is 0; with Wait it
	// enqueues the lease when the lock is held.
	KindAcquire
	// KindRelease releases lock Name held with Token.
	KindRelease
	// KindCancelWait withdraws LeaseID's wait on Name (a lock, or an
	// election when Election).
	KindCancelWait
	// KindProclaim sets the Value of election Name led with term Token.
	KindProclaim
	// KindResign gives up election Name led with term Token.
	KindResign
	// KindCreateACLToken creates an ACL token (ACLName, ACLRules,
	// SecretHash, optional TTL); its accessor is the entry's index.
	KindCreateACLToken
	// KindDeleteACLToken deletes the ACL token Accessor.
	KindDeleteACLToken
	kindEnd // one past the last kind
)

// String returns the command's name, like "acquire".
func (k Kind) String() string {
	switch k {
	case KindCreateLease:
		return "create_lease"
	case KindRevokeLease:
		return "revoke_lease"
	case KindExpireLease:
		return "expire_lease"
	case KindCheckpointLeases:
		return "checkpoint_leases"
	case KindAcquire:
		return "acquire"
	case KindRelease:
		return "release"
	case KindCancelWait:
		return "cancel_wait"
	case KindProclaim:
		return "proclaim"
	case KindResign:
		return "resign"
	case KindCreateACLToken:
		return "create_acl_token"
	case KindDeleteACLToken:
		return "delete_acl_token"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Command is one entry of the log as the lock table sees it: an envelope of
// the kind, the request id, the proposing leader's wall time, and the fields
// of that kind. A field the kind does not use must be zero.
type Command struct {
	// Kind selects the command.
	Kind Kind `codec:"k"`
	// RequestID, when not empty, makes the command exactly-once: a second
	// command with the same id returns the first result and changes nothing.
	RequestID string `codec:"r,omitempty"`
	// Time is the proposing leader's wall clock in unix nanoseconds. It is
	// used for display (AcquiredAt, GrantedAt) and dedup retention only.
	Time int64 `codec:"t,omitempty"`

	// LeaseID: the lease of revoke, expire, acquire (0 = create one for this
	// lock alone) and cancel_wait.
	LeaseID LeaseID `codec:"l,omitempty"`
	// TTL: the ttl of create_lease, and of acquire with LeaseID 0 (zero
	// means TTLDefault); the optional ttl of create_acl_token (zero means
	// the token never expires).
	TTL Duration `codec:"d,omitempty"`
	// Name: the lock or election of acquire, release, cancel_wait,
	// proclaim and resign.
	Name string `codec:"n,omitempty"`
	// Owner: free text describing the holder, for acquire.
	Owner string `codec:"o,omitempty"`
	// Value: the election value of acquire (Election only) and proclaim.
	Value string `codec:"v,omitempty"`
	// Token: the token (election term) of release, proclaim and resign.
	Token Token `codec:"tk,omitempty"`
	// Wait: acquire enqueues the lease when the lock is held.
	Wait bool `codec:"w,omitempty"`
	// Election: acquire and cancel_wait address the election Name rather
	// than the lock Name (separate namespaces).
	Election bool `codec:"e,omitempty"`
	// Checkpoints: the leases of checkpoint_leases, in strictly increasing
	// LeaseID order.
	Checkpoints []Checkpoint `codec:"c,omitempty"`
	// Creator: the ACL token a new lease belongs to, for create_lease and
	// acquire with LeaseID 0 (zero: ACLs off, or the bootstrap token).
	Creator AccessorID `codec:"cr,omitempty"`
	// Accessor: the ACL token delete_acl_token deletes.
	Accessor AccessorID `codec:"ac,omitempty"`
	// ACLName, ACLRules and SecretHash: the token create_acl_token creates.
	// The secret itself never enters the log, only its SHA-256.
	ACLName    string    `codec:"an,omitempty"`
	ACLRules   []ACLRule `codec:"ar,omitempty"`
	SecretHash []byte    `codec:"sh,omitempty"`
}

// Checkpoint is one lease's remaining time as the leader saw it. Remaining 0
// clears an earlier checkpoint: a new leader then uses the full ttl.
type Checkpoint struct {
	// LeaseID names the lease.
	LeaseID LeaseID `codec:"l"`
	// Remaining is the time left until the lease's deadline, in [0, ttl].
	Remaining Duration `codec:"r"`
}

// newHandle returns the msgpack handle locks encodes and decodes with. Each
// user holds its own: there is no package-level handle.
func newHandle() *codec.MsgpackHandle {
	h := &codec.MsgpackHandle{}
	h.WriteExt = true
	h.ErrorIfNoField = true
	h.RawToString = true
	return h
}

// EncodeCommand validates c and encodes it for the log. It is safe for
// concurrent use.
func EncodeCommand(c Command) ([]byte, error) {
	if err := ValidateCommand(c); err != nil {
		return nil, err
	}
	return encodeCommand(newHandle(), &c)
}

func encodeCommand(h *codec.MsgpackHandle, c *Command) ([]byte, error) {
	var b []byte
	if err := codec.NewEncoderBytes(&b, h).Encode(c); err != nil {
		return nil, errorf(ErrInvalidArgument, "encode %s command: %v", c.Kind, err)
	}
	return b, nil
}

// DecodeCommand decodes and validates the bytes of one command, as Apply
// does. It is safe for concurrent use.
func DecodeCommand(data []byte) (Command, error) {
	return newCommandDecoder().decode(data)
}

// commandDecoder decodes commands, reusing one codec decoder (its setup
// costs more than decoding a small command).
type commandDecoder struct {
	dec *codec.Decoder
	c   Command // decoded into, so the codec's pointer does not allocate
}

func newCommandDecoder() *commandDecoder {
	return &commandDecoder{dec: codec.NewDecoderBytes([]byte{}, newHandle())}
}

func (cd *commandDecoder) decode(data []byte) (Command, error) {
	if len(data) == 0 {
		return Command{}, errorf(ErrInvalidArgument, "decode command: empty")
	}
	if len(data) > CommandBytesMax {
		return Command{}, errorf(ErrTooLarge, "command is %d bytes, max %d", len(data), CommandBytesMax)
	}
	cd.c = Command{}
	cd.dec.ResetBytes(data)
	if err := cd.dec.Decode(&cd.c); err != nil {
		return Command{}, errorf(ErrInvalidArgument, "decode command: %v", err)
	}
	if n := cd.dec.NumBytesRead(); n != len(data) {
		return Command{}, errorf(ErrInvalidArgument, "decode command: %d trailing bytes", len(data)-n)
	}
	c := cd.c
	cd.c = Command{} // drop references to the decoded strings
	if err := ValidateCommand(c); err != nil {
		return Command{}, err
	}
	return c, nil
}
