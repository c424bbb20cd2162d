package lockmodel

// These tests prove Drive refuses configurations out of bounds with both
// numbers, and records every operation its clients issue.

import (
	"errors"
	"testing"
)

func TestDriveConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  DriveConfig
		want error
	}{
		{"ok", DriveConfig{Clients: 2, OpsPerClient: 10}, nil},
		{"no clients", DriveConfig{Clients: 0, OpsPerClient: 10}, ErrInvalidConfig},
		{"too many clients", DriveConfig{Clients: DriveClientsMax + 1, OpsPerClient: 10}, ErrInvalidConfig},
		{"too many operations", DriveConfig{Clients: 1, OpsPerClient: DriveOpsPerClientMax + 1}, ErrInvalidConfig},
		{"no locks", DriveConfig{Clients: 1, OpsPerClient: 10, Locks: []string{}}, ErrInvalidConfig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, err := Drive(newReference(), c.cfg)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("Drive(%+v) error = %v; want %v", c.cfg, err, c.want)
			}
			if c.want != nil {
				return
			}
			// Unseen expiries issue no operation: at most Clients*OpsPerClient.
			if n := len(h); n == 0 || n > c.cfg.Clients*c.cfg.OpsPerClient {
				t.Errorf("len(Drive(%+v)) = %d; want 1..%d", c.cfg, n, c.cfg.Clients*c.cfg.OpsPerClient)
			}
		})
	}
}
