package locks

import "strconv"

// Index is the position of a log entry, as the server hands it to Apply.
// locks keeps its own type so it never imports Raft's.
type Index uint64

// LeaseID names a lease: the index of the entry that created it.
type LeaseID uint64

// Token is a fencing token: the index of the entry that granted a lock or an
// election. Inside locks an election's term is its Token.
type Token uint64

// Duration is a span of time in nanoseconds, the same representation as
// time.Duration (convert with time.Duration(d) and Duration(td)). locks
// defines its own so that it cannot reach for a clock.
type Duration int64

// Units of Duration.
const (
	Nanosecond  Duration = 1
	Microsecond          = 1000 * Nanosecond
	Millisecond          = 1000 * Microsecond
	Second               = 1000 * Millisecond
	Minute               = 60 * Second
	Hour                 = 60 * Minute
)

// String formats d in the largest whole unit of s, ms, µs or ns, like "15s".
func (d Duration) String() string {
	switch {
	case d == 0:
		return "0s"
	case d%Second == 0:
		return strconv.FormatInt(int64(d/Second), 10) + "s"
	case d%Millisecond == 0:
		return strconv.FormatInt(int64(d/Millisecond), 10) + "ms"
	case d%Microsecond == 0:
		return strconv.FormatInt(int64(d/Microsecond), 10) + "µs"
	}
	return strconv.FormatInt(int64(d), 10) + "ns"
}

// ObjectKind tells which kind of object a Change or a listing is about.
type ObjectKind uint8

// The kinds of objects in the table.
const (
	ObjectLock ObjectKind = iota + 1
	ObjectElection
	ObjectLease
)

// String returns "lock", "election" or "lease".
func (k ObjectKind) String() string {
	switch k {
	case ObjectLock:
		return "lock"
	case ObjectElection:
		return "election"
	case ObjectLease:
		return "lease"
	}
	return "object(" + strconv.Itoa(int(k)) + ")"
}
