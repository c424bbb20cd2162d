package locks

import (
	"errors"
	"fmt"
)

// The refusals of the lock table. Each Result.Err wraps exactly one of them
// (test with errors.Is) and Code maps it to the stable code of DESIGN.md §5.
// A refusal is a deterministic answer every replica gives, not a failure.
var (
	// ErrInvalidArgument: a malformed or inconsistent command, including a
	// request id reused for a different command.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrTooLarge: a table or queue bound would be exceeded.
	ErrTooLarge = errors.New("too large")
	// ErrNotFound: the lease (or waiter) named does not exist.
	ErrNotFound = errors.New("not found")
	// ErrLockHeld: the lock or election is held by another lease (or by the
	// same lease already) and the acquire did not ask to wait.
	ErrLockHeld = errors.New("lock held")
	// ErrNotHolder: a release named a token that does not hold the lock.
	ErrNotHolder = errors.New("not holder")
	// ErrStaleToken: a fence check found a newer grant than the token.
	ErrStaleToken = errors.New("stale token")
	// ErrNotLeader: proclaim or resign with a term that does not lead the
	// election.
	ErrNotLeader = errors.New("not leader")
)

// codeOf is the table of DESIGN.md §5 codes for the sentinels above.
func codeOf(sentinel error) string {
	switch sentinel {
	case ErrInvalidArgument:
		return "invalid_argument"
	case ErrTooLarge:
		return "too_large"
	case ErrNotFound:
		return "not_found"
	case ErrLockHeld:
		return "lock_held"
	case ErrNotHolder:
		return "not_holder"
	case ErrStaleToken:
		return "stale_token"
	case ErrNotLeader:
		return "not_leader"
	}
	return ""
}

// sentinels lists every sentinel once, for Code and sentinelFor.
func sentinels() [7]error {
	return [...]error{ErrInvalidArgument, ErrTooLarge, ErrNotFound, ErrLockHeld, ErrNotHolder, ErrStaleToken, ErrNotLeader}
}

// Code returns the stable error code of err ("lock_held", ...), "" for nil,
// and "internal" for an error that wraps none of the sentinels.
func Code(err error) string {
	if err == nil {
		return ""
	}
	for _, s := range sentinels() {
		if errors.Is(err, s) {
			return codeOf(s)
		}
	}
	return "internal"
}

// sentinelFor returns the sentinel of code, or nil for an unknown code.
func sentinelFor(code string) error {
	for _, s := range sentinels() {
		if codeOf(s) == code {
			return s
		}
	}
	return nil
}

// codedError is an error rebuilt from a stored (code, message) pair: its
// text is the original message and it unwraps to the sentinel of the code.
type codedError struct {
	sentinel error
	msg      string
}

func (e *codedError) Error() string { return e.msg }
func (e *codedError) Unwrap() error { return e.sentinel }

// errorf wraps sentinel with a lower-case message carrying the values.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}

// assertf panics when cond is false. It guards programmer errors only, never
// bytes that came from a command or a snapshot. Its arguments are boxed
// before the call, which allocates; on Apply's hot path the check is written
// `if !cond { assertf(false, ...) }` so only a failure pays for them.
func assertf(cond bool, format string, args ...any) {
	if !cond {
		panic(fmt.Sprintf("invariant violated: "+format, args...))
	}
}
