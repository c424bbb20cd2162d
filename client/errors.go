package client

import (
	"errors"
	"fmt"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

// Error is an error answered by the server (or a failure shaped like one).
// Its Is compares codes, so errors.Is(err, ErrLockHeld) holds for every
// lock_held answer whatever its message.
type Error struct {
	// Status is the HTTP status, 0 for a sentinel.
	Status int
	// Code is one of the stable codes of wire (wire.CodeLockHeld, ...); it is
	// empty for a status that carried no code (a proxy's 502).
	Code string
	// Message is the server's message.
	Message string
	// Holder is the current holder on lock_held.
	Holder *wire.Holder
	// RetryAfter is the server's Retry-After on 429 and 503, else 0.
	RetryAfter time.Duration
}

// Error formats the code, status and message.
func (e *Error) Error() string {
	code := e.Code
	if code == "" {
		code = "http error"
	}
	switch {
	case e.Status == 0:
		return "raftlock: " + code
	case e.Message == "":
		return fmt.Sprintf("raftlock: %s (%d)", code, e.Status)
	}
	return fmt.Sprintf("raftlock: %s (%d): %s", code, e.Status, e.Message)
}

// Is reports whether target is an *Error with the same non-empty code.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Code != "" && t.Code == e.Code
}

// Sentinels, one per stable code: compare with errors.Is.
var (
	// ErrInvalidArgument: the request was malformed or out of a limit (400).
	ErrInvalidArgument = &Error{Code: wire.CodeInvalidArgument}
	// ErrUnauthorized: the request lacked valid credentials (401).
	ErrUnauthorized = &Error{Code: wire.CodeUnauthorized}
	// ErrForbidden: the credentials do not allow the request (403).
	ErrForbidden = &Error{Code: wire.CodeForbidden}
	// ErrNotFound: the lease (or other object) does not exist (404).
	ErrNotFound = &Error{Code: wire.CodeNotFound}
	// ErrLockHeld: the lock or election is held by another lease, or the wait
	// ran out (409); Error.Holder names the holder.
	ErrLockHeld = &Error{Code: wire.CodeLockHeld}
	// ErrNotHolder: a release carried a token that does not hold the lock (409).
	ErrNotHolder = &Error{Code: wire.CodeNotHolder}
	// ErrStaleToken: a fencing token is no longer the lock's current one (409).
	ErrStaleToken = &Error{Code: wire.CodeStaleToken}
	// ErrNotLeader: a proclaim or resign carried a term that does not lead
	// the election (409).
	ErrNotLeader = &Error{Code: wire.CodeNotLeader}
	// ErrChangeInProgress: a membership change was refused because an
	// earlier one is not finished, or a learner is still catching up (409).
	ErrChangeInProgress = &Error{Code: wire.CodeChangeInProgress}
	// ErrTooLarge: a body or a table limit was exceeded (413).
	ErrTooLarge = &Error{Code: wire.CodeTooLarge}
	// ErrTooManyRequests: the server sheds load; see Error.RetryAfter (429).
	ErrTooManyRequests = &Error{Code: wire.CodeTooManyRequests}
	// ErrInternal: a server bug, logged there (500).
	ErrInternal = &Error{Code: wire.CodeInternal}
	// ErrNoLeader: the cluster has no leader right now (503); the SDK retries
	// it and returns it only when its attempts or the ctx run out.
	ErrNoLeader = &Error{Code: wire.CodeNoLeader}
	// ErrTimeout: the server gave up on the request (504).
	ErrTimeout = &Error{Code: wire.CodeTimeout}
)

// ErrSessionExpired is returned by an operation that needs a Session whose
// lease is lost, could not be confirmed in time, or was closed.
var ErrSessionExpired = errors.New("raftlock: session expired")

// codeForStatus is the code of an error answer whose body carried none.
// 409 has several codes and so none here.
func codeForStatus(status int) string {
	for _, c := range wire.Codes {
		if c.Status == status && status != 409 {
			return c.Code
		}
	}
	return ""
}

// retryable reports whether an answer may succeed on another attempt:
// no leader (503), a gateway failing (502), the server giving up (504).
// Client errors (4xx) and internal errors (500) never are: the same request
// gets the same answer.
func (e *Error) retryable() bool {
	switch e.Status {
	case 502, 503, 504:
		return true
	}
	return false
}
