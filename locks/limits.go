package locks

// Every bound the lock table enforces. Exceeding one is refused at apply (and,
// for the command-shaped ones, by ValidateCommand before proposing) with
// ErrInvalidArgument or ErrTooLarge and a message carrying both numbers.
const (
	// NameBytesMax is the longest lock or election name, in bytes. Names are
	// at least one byte of [A-Za-z0-9._:/-].
	NameBytesMax = 256

	// OwnerBytesMax is the longest owner string a holder may carry.
	OwnerBytesMax = 256

	// ValueBytesMax is the longest election value (e.g. "host:port").
	ValueBytesMax = 4096

	// RequestIDBytesMax is the longest request id (Idempotency-Key).
	RequestIDBytesMax = 128

	// BodyBytesMax is the largest HTTP request body the server accepts. It is
	// here so the relation to the field limits above is tested in one place.
	BodyBytesMax = 64 << 10

	// CommandBytesMax is the largest encoded command Apply decodes. A
	// CheckpointLeases command with CheckpointsPerCommandMax entries fits.
	CommandBytesMax = 256 << 10

	// TTLMin is the shortest lease ttl.
	TTLMin = 1 * Second

	// TTLMax is the longest lease ttl.
	TTLMax = 1 * Hour

	// TTLDefault is the ttl used when a command carries none.
	TTLDefault = 15 * Second

	// WaitMax is the longest time the server lets an acquire wait in a queue
	// before it proposes CancelWait. The wait duration is not in the log.
	WaitMax = 5 * Minute

	// WaitersPerLockMax bounds one lock's FIFO queue of waiters.
	WaitersPerLockMax = 1024

	// WaitersMax bounds the waiters queued across the whole table.
	WaitersMax = 1 << 20

	// ObjectsPerLeaseMax bounds what one lease may hold and wait for at once
	// (locks, elections and queued waits together). Revoking a lease touches
	// all of them in one entry, so this also bounds the work of one apply.
	ObjectsPerLeaseMax = 4096

	// LocksMax bounds the locks and elections present in the table (held,
	// or free with waiters). Measured at about 300 bytes per held lock with
	// its own lease, 2^21 objects stay under 1 GiB of heap per replica.
	LocksMax = 1 << 21

	// LeasesMax bounds the live leases. Every held lock may own a lease of
	// its own (an acquire without lease_id), so it matches LocksMax.
	LeasesMax = LocksMax

	// CheckpointsPerCommandMax bounds the leases one CheckpointLeases command
	// carries; the leader splits a larger table over several commands.
	CheckpointsPerCommandMax = 4096

	// ListMax is the most locks or elections one listing returns.
	ListMax = 1000

	// DedupRecordsMax bounds the request-id records kept for exactly-once
	// apply; the oldest (by index) is evicted first.
	DedupRecordsMax = 100_000

	// DedupRetention is how long a request-id record is kept, measured in
	// command time against the newest command time applied.
	DedupRetention = 10 * Minute
)

// The bounds of access control. A token is a name, its rules and the
// SHA-256 of its secret; the secret never enters the table.
const (
	// ACLTokensMax bounds the ACL tokens in the table. Expired tokens are
	// deleted when a token is created, so they do not count.
	ACLTokensMax = 4096

	// ACLRulesPerTokenMax bounds the rules of one token.
	ACLRulesPerTokenMax = 64

	// ACLNameBytesMax is the longest token name, in bytes.
	ACLNameBytesMax = 128

	// ACLSecretHashBytes is the length of a secret's hash (SHA-256).
	ACLSecretHashBytes = 32

	// ACLTokenTTLMin is the shortest ttl of a token that expires.
	ACLTokenTTLMin = 1 * Second

	// ACLTokenTTLMax is the longest ttl of a token that expires (a token
	// created without a ttl never does).
	ACLTokenTTLMax = 10 * 365 * 24 * Hour
)

// CheckpointQuietDivisor: a lease with at most ttl/CheckpointQuietDivisor
// left has missed a keepalive (clients renew every ttl/3) and is
// checkpointed; one with more left is not, unless its record stands, so
// keepalives in time never write the log (LeaseClock.Checkpoints).
const CheckpointQuietDivisor = 2
