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

// errorStatus is the one table from errors to (HTTP status, code). An error
// it does not know is a bug: 500 internal.
func errorStatus(err error) (status int, code string) {
	switch {
	case errors.Is(err, ErrInvalidArgument):
		return http.StatusBadRequest, wire.CodeInvalidArgument
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, wire.CodeNotFound
	case errors.Is(err, consensus.ErrNoLeader):
		return http.StatusServiceUnavailable, wire.CodeNoLeader
	case errors.Is(err, ErrNotReady):
		return http.StatusServiceUnavailable, wire.CodeNoLeader
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, wire.CodeTimeout
	}
	return http.StatusInternalServerError, wire.CodeInternal
}

// writeError sends err in the error shape; a 503 carries Retry-After. An
// internal error is logged here, once, because it is a bug.
func writeError(c echo.Context, log *zap.Logger, err error) error {
	status, code := errorStatus(err)
	if status == http.StatusServiceUnavailable {
		c.Response().Header().Set(wire.HeaderRetryAfter, strconv.Itoa(RetryAfterSeconds))
	}
	if code == wire.CodeInternal {
		log.Error("internal error", zap.String("path", c.Path()), zap.Error(err))
	}
	return c.JSON(status, wire.Error{Error: wire.ErrorDetail{Code: code, Message: err.Error()}})
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
	case http.StatusMethodNotAllowed, http.StatusBadRequest:
		return fmt.Errorf("%w: %s", ErrInvalidArgument, msg)
	}
	return fmt.Errorf("http %d: %s", he.Code, msg)
}
