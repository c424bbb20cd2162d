// These tests prove how `raftlock serve` reads its settings: a flag wins over
// its RAFTLOCK_* variable, which wins over the default; bad values are refused
// with the variable's or the flag's name; and unknown commands exit 2.
package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests on goroutines left running: the client
// subcommands' tests start sessions, observers and child processes.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func envOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestServeSettingsPrecedence(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		env      map[string]string
		wantDir  string
		wantHB   time.Duration
		wantName string
	}{
		{"defaults", nil, nil, "raftlock-data", 100 * time.Millisecond, "n1"},
		{"env over default", nil, map[string]string{"RAFTLOCK_DATA_DIR": "/env", "RAFTLOCK_HEARTBEAT_INTERVAL": "50ms"}, "/env", 50 * time.Millisecond, "n1"},
		{"flag over env", []string{"--data-dir", "/flag"}, map[string]string{"RAFTLOCK_DATA_DIR": "/env"}, "/flag", 100 * time.Millisecond, "n1"},
		{"id from env", nil, map[string]string{
			"RAFTLOCK_ID":              "n2",
			"RAFTLOCK_INITIAL_CLUSTER": "n1=http://127.0.0.1:7071,n2=http://127.0.0.1:7081",
		}, "raftlock-data", 100 * time.Millisecond, "n2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseServe(tc.args, envOf(tc.env), io.Discard)
			if err != nil {
				t.Fatalf("parseServe(%q) = %v; want nil", tc.args, err)
			}
			if cfg.DataDir != tc.wantDir || cfg.HeartbeatInterval != tc.wantHB || cfg.Name != tc.wantName {
				t.Errorf("parseServe(%q) = dir %q, heartbeat %v, id %q; want %q, %v, %q",
					tc.args, cfg.DataDir, cfg.HeartbeatInterval, cfg.Name, tc.wantDir, tc.wantHB, tc.wantName)
			}
		})
	}
}

func TestServeSettingsRefused(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad env duration", nil, map[string]string{"RAFTLOCK_ELECTION_TIMEOUT": "soon"}, "RAFTLOCK_ELECTION_TIMEOUT"},
		{"bad flag duration", []string{"--election-timeout", "soon"}, nil, "election-timeout"},
		{"election too short", []string{"--election-timeout", "200ms"}, nil, "min 500ms"},
		{"unknown id", []string{"--id", "n9", "--initial-cluster", "n1=http://127.0.0.1:7071"}, nil, `id "n9" is not in initial-cluster`},
		{"stray argument", []string{"extra"}, nil, `unexpected argument "extra"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseServe(tc.args, envOf(tc.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseServe(%q) = %v; want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}

func TestRunCommands(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"no command", nil, 2},
		{"unknown command", []string{"frobnicate"}, 2},
		{"help", []string{"help"}, 0},
		{"serve help", []string{"serve", "-h"}, 0},
		{"serve bad flag", []string{"serve", "--nope"}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.args, envOf(nil), io.Discard); got != tc.want {
				t.Errorf("run(%q) = %d; want %d", tc.args, got, tc.want)
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	if got := envName("peer-trusted-ca-file"); got != "RAFTLOCK_PEER_TRUSTED_CA_FILE" {
		t.Errorf("envName(%q) = %q; want RAFTLOCK_PEER_TRUSTED_CA_FILE", "peer-trusted-ca-file", got)
	}
}
