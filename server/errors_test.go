// This test proves the one error table: every sentinel a handler can return,
// wrapped as handlers wrap it, maps to its documented status and stable code,
// and anything else is a 500 internal.
package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/consensus/driver"
	"github.com/raftlock/raftlock/locks"
)

func TestErrorStatus(t *testing.T) {
	cases := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
	}{
		{"invalid argument", ErrInvalidArgument, http.StatusBadRequest, wire.CodeInvalidArgument},
		{"not found", ErrNotFound, http.StatusNotFound, wire.CodeNotFound},
		{"no leader", consensus.ErrNoLeader, http.StatusServiceUnavailable, wire.CodeNoLeader},
		{"not ready", ErrNotReady, http.StatusServiceUnavailable, wire.CodeNoLeader},
		{"deadline", context.DeadlineExceeded, http.StatusGatewayTimeout, wire.CodeTimeout},
		{"client gone", context.Canceled, http.StatusGatewayTimeout, wire.CodeTimeout},
		{"locks invalid", locks.ErrInvalidArgument, http.StatusBadRequest, wire.CodeInvalidArgument},
		{"locks not found", locks.ErrNotFound, http.StatusNotFound, wire.CodeNotFound},
		{"lock held", locks.ErrLockHeld, http.StatusConflict, wire.CodeLockHeld},
		{"not holder", locks.ErrNotHolder, http.StatusConflict, wire.CodeNotHolder},
		{"stale token", locks.ErrStaleToken, http.StatusConflict, wire.CodeStaleToken},
		{"election not leader", locks.ErrNotLeader, http.StatusConflict, wire.CodeNotLeader},
		{"too large", ErrTooLarge, http.StatusRequestEntityTooLarge, wire.CodeTooLarge},
		{"locks too large", locks.ErrTooLarge, http.StatusRequestEntityTooLarge, wire.CodeTooLarge},
		{"too many", ErrTooManyRequests, http.StatusTooManyRequests, wire.CodeTooManyRequests},
		{"proposals dropped", consensus.ErrProposalDropped, http.StatusTooManyRequests, wire.CodeTooManyRequests},
		{"unauthorized", ErrUnauthorized, http.StatusUnauthorized, wire.CodeUnauthorized},
		{"forbidden", ErrForbidden, http.StatusForbidden, wire.CodeForbidden},
		{"raft not leader", consensus.ErrNotLeader, http.StatusServiceUnavailable, wire.CodeNoLeader},
		{"proposal lost", driver.ErrProposalLost, http.StatusServiceUnavailable, wire.CodeNoLeader},
		{"read leader changed", driver.ErrLeaderChanged, http.StatusServiceUnavailable, wire.CodeNoLeader},
		{"driver stopped", driver.ErrStopped, http.StatusServiceUnavailable, wire.CodeNoLeader},
		{"lock held with holder", &heldError{err: locks.ErrLockHeld}, http.StatusConflict, wire.CodeLockHeld},
		{"unknown", errors.New("boom"), http.StatusInternalServerError, wire.CodeInternal},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := fmt.Errorf("context: %w", tc.err)
			status, code := errorStatus(err)
			if status != tc.wantStatus || code != tc.wantCode {
				t.Errorf("errorStatus(%v) = %d, %q; want %d, %q", err, status, code, tc.wantStatus, tc.wantCode)
			}
			known := false
			for _, c := range wire.Codes {
				if c.Code == code && c.Status == status {
					known = true
				}
			}
			if !known {
				t.Errorf("errorStatus(%v) = %d, %q; not in wire.Codes", err, status, code)
			}
		})
	}
}
