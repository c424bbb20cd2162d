package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/consensus/driver"
	"github.com/raftlock/raftlock/locks"
)

// ErrNotReady is returned by the readiness check of a node that knows a leader
// but has not yet applied everything it knows is committed. Its code is
// no_leader (503): the stable codes have no other 503, and to a load balancer
// both mean "not this node, not now"; the message says which.
var ErrNotReady = errors.New("not ready")

// ErrNotFound is returned for a path or object that does not exist.
var ErrNotFound = errors.New("not found")

// ErrInvalidArgument is returned for a request the server cannot accept as sent.
var ErrInvalidArgument = errors.New("invalid argument")

// ErrTooLarge is returned for a request body or parameter past its limit.
var ErrTooLarge = errors.New("too large")

// ErrTooManyRequests is returned when a bounded resource of the node (its
// subscriber slots) is exhausted; the caller retries after Retry-After.
var ErrTooManyRequests = errors.New("too many requests")

// ErrUnauthorized and ErrForbidden are the refusals of access control
// (acl.go): no valid token, and a token without the capability the request
// needs.
var (
	ErrUnauthorized = errors.New("unauthorized")
	ErrForbidden    = errors.New("forbidden")
)

// errorRule maps the errors that wrap one of sentinels to (status, code).
type errorRule struct {
	sentinels []error
	status    int
	code      string
}

// errorTable is the one table from errors to (HTTP status, code), first
// match wins; an error it does not know is a bug: 500 internal. Raft's "not
// the leader" and a lost proposal never reach a client as such: the request
// took no effect and another node (or this one, later) serves it, so they
// are no_leader. A cancelled context means the client went away; nobody
// reads that answer.
func errorTable() []errorRule {
	return []errorRule{
		{[]error{ErrInvalidArgument, locks.ErrInvalidArgument, consensus.ErrInvalidConfChange,
			consensus.ErrInvalidTransfer}, http.StatusBadRequest, wire.CodeInvalidArgument},
		{[]error{ErrUnauthorized}, http.StatusUnauthorized, wire.CodeUnauthorized},
		{[]error{ErrForbidden}, http.StatusForbidden, wire.CodeForbidden},
		{[]error{ErrNotFound, locks.ErrNotFound}, http.StatusNotFound, wire.CodeNotFound},
		{[]error{locks.ErrLockHeld}, http.StatusConflict, wire.CodeLockHeld},
		{[]error{locks.ErrNotHolder}, http.StatusConflict, wire.CodeNotHolder},
		{[]error{locks.ErrStaleToken}, http.StatusConflict, wire.CodeStaleToken},
		{[]error{locks.ErrNotLeader}, http.StatusConflict, wire.CodeNotLeader},
		{[]error{consensus.ErrConfChangePending, ErrLearnerBehind}, http.StatusConflict, wire.CodeChangeInProgress},
		{[]error{ErrTooLarge, locks.ErrTooLarge}, http.StatusRequestEntityTooLarge, wire.CodeTooLarge},
		{[]error{ErrTooManyRequests, consensus.ErrProposalDropped}, http.StatusTooManyRequests, wire.CodeTooManyRequests},
		{[]error{consensus.ErrNoLeader, ErrNotReady, consensus.ErrNotLeader, driver.ErrProposalLost,
			driver.ErrLeaderChanged, driver.ErrStopped, driver.ErrRemoved}, http.StatusServiceUnavailable, wire.CodeNoLeader},
		{[]error{context.DeadlineExceeded, context.Canceled, driver.ErrTransferFailed}, http.StatusGatewayTimeout, wire.CodeTimeout},
		{nil, http.StatusInternalServerError, wire.CodeInternal},
	}
}

// errorStatus maps err to (HTTP status, code) by errorTable.
func errorStatus(err error) (status int, code string) {
	for _, r := range errorTable() {
		for _, s := range r.sentinels {
			if errors.Is(err, s) {
				return r.status, r.code
			}
		}
	}
	return http.StatusInternalServerError, wire.CodeInternal
}

// heldError is a lock_held refusal that names the current holder, which the
// error body carries.
type heldError struct {
	err    error
	holder *wire.Holder
}

func (e *heldError) Error() string { return e.err.Error() }
func (e *heldError) Unwrap() error { return e.err }

// writeError sends err in the error shape; a 503 or 429 carries Retry-After.
// An internal error is logged here, once, because it is a bug.
func writeError(c echo.Context, log *zap.Logger, err error) error {
	status, code := errorStatus(err)
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		c.Response().Header().Set(wire.HeaderRetryAfter, strconv.Itoa(RetryAfterSeconds))
	}
	if code == wire.CodeInternal {
		log.Error("internal error", zap.String("path", c.Path()), zap.Error(err))
	}
	detail := wire.ErrorDetail{Code: code, Message: err.Error()}
	var he *heldError
	if errors.As(err, &he) {
		detail.Holder = he.holder
	}
	return c.JSON(status, wire.Error{Error: detail})
}

// httpErrorHandler renders echo's own errors (unknown route, wrong method) and
// anything a handler returned in the error shape.
func httpErrorHandler(log *zap.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		var he *echo.HTTPError
		if errors.As(err, &he) {
			err = fromEchoError(he)
		}
		if werr := writeError(c, log, err); werr != nil {
			log.Debug("error response not sent", zap.Error(werr))
		}
	}
}

// fromEchoError turns an echo routing error into one errorStatus knows.
func fromEchoError(he *echo.HTTPError) error {
	msg := fmt.Sprint(he.Message)
	switch he.Code {
	case http.StatusNotFound:
		return fmt.Errorf("%w: %s", ErrNotFound, msg)
	case http.StatusMethodNotAllowed, http.StatusBadRequest, http.StatusUnsupportedMediaType:
		return fmt.Errorf("%w: %s", ErrInvalidArgument, msg)
	case http.StatusRequestEntityTooLarge:
		return fmt.Errorf("%w: %s", ErrTooLarge, msg)
	}
	return fmt.Errorf("http %d: %s", he.Code, msg)
}
