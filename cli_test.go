// These tests prove the client subcommands' plumbing without a cluster:
// flags are parsed anywhere before "--" and everything after it is CMD;
// --endpoints wins over RAFTLOCK_ENDPOINTS, which wins over the default; bad
// arguments exit 2 before any request is sent; every error maps to its
// documented exit code; the kill grace fits the session's loss margin; and
// text and JSON output have the documented shape.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client"
	"github.com/raftlock/raftlock/client/wire"
)

// testIO is a cliIO on buffers with a signal channel the test feeds.
func testIO(env map[string]string) (cliIO, *bytes.Buffer, *bytes.Buffer, chan os.Signal) {
	var stdout, stderr bytes.Buffer
	sigs := make(chan os.Signal, signalBuffer)
	return cliIO{getenv: envOf(env), environ: os.Environ, stdout: &stdout, stderr: &stderr, signals: sigs}, &stdout, &stderr, sigs
}

func TestParseArgs(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		wantPos []string
		wantCmd []string
		wantTTL time.Duration
	}{
		{"flags first", []string{"--ttl", "5s", "jobs", "--", "sh", "-c", "x"}, []string{"jobs"}, []string{"sh", "-c", "x"}, 5 * time.Second},
		{"flags after name", []string{"jobs", "--ttl=7s", "--", "true"}, []string{"jobs"}, []string{"true"}, 7 * time.Second},
		{"command flags stay", []string{"jobs", "--", "ls", "--ttl", "1s"}, []string{"jobs"}, []string{"ls", "--ttl", "1s"}, time.Second * 15},
		{"no command", []string{"jobs", "v"}, []string{"jobs", "v"}, nil, 15 * time.Second},
		{"empty command", []string{"jobs", "--"}, []string{"jobs"}, []string{}, 15 * time.Second},
		{"name after --", []string{"--", "-odd"}, nil, []string{"-odd"}, 15 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			ttl := fs.Duration("ttl", 15*time.Second, "")
			pos, cmd, err := parseArgs(fs, tc.args)
			if err != nil {
				t.Fatalf("parseArgs(%q) = %v; want nil", tc.args, err)
			}
			if !reflect.DeepEqual(pos, tc.wantPos) || !reflect.DeepEqual(cmd, tc.wantCmd) || *ttl != tc.wantTTL {
				t.Errorf("parseArgs(%q) = %q, %#v, ttl %v; want %q, %#v, ttl %v", tc.args, pos, cmd, *ttl, tc.wantPos, tc.wantCmd, tc.wantTTL)
			}
		})
	}
}

// TestClientUsage runs each subcommand with arguments that are refused
// before any request: the endpoint is a closed port, so a command that
// sent one would exit 1, not 2.
func TestClientUsage(t *testing.T) {
	dead := "--endpoints=http://127.0.0.1:1"
	cases := []struct {
		name   string
		args   []string
		want   int
		stderr string
	}{
		{"lock help", []string{"lock", "-h"}, exitOK, "usage: raftlock lock"},
		{"lock no name", []string{"lock", dead, "--", "true"}, exitUsage, "one NAME"},
		{"lock no command", []string{"lock", dead, "jobs"}, exitUsage, "needs a command after --"},
		{"lock empty command", []string{"lock", dead, "jobs", "--"}, exitUsage, "needs a command after --"},
		{"lock ttl too short", []string{"lock", dead, "--ttl", "2s", "jobs", "--", "true"}, exitUsage, "--ttl is 2s, min 3s"},
		{"lock bad wait", []string{"lock", dead, "--wait", "-1s", "jobs", "--", "true"}, exitUsage, "negative"},
		{"lock unknown flag", []string{"lock", dead, "--nope", "jobs", "--", "true"}, exitUsage, "flag provided but not defined"},
		{"acquire two names", []string{"acquire", dead, "a", "b"}, exitUsage, "one NAME"},
		{"acquire wait too long", []string{"acquire", dead, "--wait", "6m", "a"}, exitUsage, "--wait is 6m0s, max 5m0s"},
		{"acquire bad output", []string{"acquire", dead, "--output", "yaml", "a"}, exitUsage, `--output "yaml"`},
		{"release no token", []string{"release", dead, "a"}, exitUsage, "needs --token"},
		{"elect one arg", []string{"elect", dead, "e"}, exitUsage, "NAME and VALUE"},
		{"elect ttl too short with command", []string{"elect", dead, "--ttl", "1s", "e", "v", "--", "true"}, exitUsage, "min 3s"},
		{"leader no name", []string{"leader", dead}, exitUsage, "one NAME"},
		{"status extra", []string{"status", dead, "x"}, exitUsage, "no arguments"},
		{"bad endpoint", []string{"status", "--endpoints", "ftp://x"}, exitUsage, "scheme"},
		{"empty endpoints", []string{"status", "--endpoints", " , "}, exitUsage, "--endpoints is empty"},
		{"unreachable", []string{"status", dead}, exitError, "raftlock status:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cio, _, stderr, _ := testIO(nil)
			got := runClient(tc.args[0], tc.args[1:], cio)
			if got != tc.want || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("raftlock %q = %d, stderr %q; want %d, stderr containing %q", tc.args, got, stderr, tc.want, tc.stderr)
			}
		})
	}
}

func TestRunDispatchesClientCommands(t *testing.T) {
	for _, c := range clientCommands() {
		t.Run(c.name, func(t *testing.T) {
			if got := run([]string{c.name, "-h"}, envOf(nil), io.Discard); got != exitOK {
				t.Errorf("run(%q) = %d; want %d", []string{c.name, "-h"}, got, exitOK)
			}
		})
	}
}

func TestEndpointsPrecedence(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"default", nil, nil, []string{endpointDefault}},
		{"env", nil, map[string]string{envEndpoints: "http://a:1,http://b:2"}, []string{"http://a:1", "http://b:2"}},
		{"flag over env", []string{"--endpoints", "http://c:3"}, map[string]string{envEndpoints: "http://a:1"}, []string{"http://c:3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			cf := addCommonFlags(fs, envOf(tc.env), true)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatalf("Parse(%q) = %v; want nil", tc.args, err)
			}
			if got := cf.endpointList(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("endpoints of %q with env %v = %q; want %q", tc.args, tc.env, got, tc.want)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	notFound := exec.Command("raftlock-no-such-command").Start()
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"ok", nil, exitOK},
		{"help", flag.ErrHelp, exitOK},
		{"usage", usagef("bad %d", 1), exitUsage},
		{"lost", fmt.Errorf("lock %q %w: x", "a", errLost), exitLost},
		{"not granted", notGranted("lock", "a", nil, client.ErrLockHeld), exitNotAcquired},
		{"command status", &statusError{7}, 7},
		{"command not found", &startError{notFound}, exitNotFound},
		{"command not executable", &startError{os.ErrPermission}, exitCannotRun},
		{"interrupted", &interruptedError{syscall.SIGINT}, exitSignalBase + 2},
		{"server refusal", fmt.Errorf("x: %w", client.ErrNotHolder), exitError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.err); got != tc.want {
				t.Errorf("exitCode(%v) = %d; want %d", tc.err, got, tc.want)
			}
		})
	}
}

// TestKillGrace checks the arithmetic of cli_limits.go: Done closes
// ttl/LossMarginDivisor before the lease could expire, and the grace plus
// killSlack fits in that margin for every ttl accepted.
func TestKillGrace(t *testing.T) {
	cases := []struct {
		ttl  time.Duration
		want time.Duration
	}{
		{lockTTLMin, killGraceMin},
		{client.TTLDefault, 1300 * time.Millisecond},
		{time.Minute, 5800 * time.Millisecond},
		{time.Hour, killGraceMax},
	}
	for _, tc := range cases {
		t.Run(tc.ttl.String(), func(t *testing.T) {
			got, err := killGrace(tc.ttl)
			if err != nil || got != tc.want {
				t.Fatalf("killGrace(%v) = %v, %v; want %v, nil", tc.ttl, got, err, tc.want)
			}
			if margin := tc.ttl / client.LossMarginDivisor; got+killSlack > margin {
				t.Errorf("killGrace(%v) = %v: with slack %v it exceeds the margin %v", tc.ttl, got, killSlack, margin)
			}
		})
	}
	if _, err := killGrace(lockTTLMin - time.Millisecond); !errors.Is(err, errUsage) {
		t.Errorf("killGrace(%v) = %v; want a usage error", lockTTLMin-time.Millisecond, err)
	}
}

// TestLimits keeps the relations between the CLI's bounds.
func TestLimits(t *testing.T) {
	if lockTTLMin < time.Second {
		t.Errorf("lockTTLMin %v is under the server's ttl min 1s", lockTTLMin)
	}
	if client.TTLDefault < lockTTLMin {
		t.Errorf("the default ttl %v is under lockTTLMin %v", client.TTLDefault, lockTTLMin)
	}
	if killGraceMin <= 0 || killGraceMin > killGraceMax {
		t.Errorf("killGraceMin %v not in (0, killGraceMax %v]", killGraceMin, killGraceMax)
	}
	if groupPollInterval >= killGraceMin {
		t.Errorf("groupPollInterval %v is not under killGraceMin %v", groupPollInterval, killGraceMin)
	}
	if watchRetryMin > watchRetryMax {
		t.Errorf("watchRetryMin %v > watchRetryMax %v", watchRetryMin, watchRetryMax)
	}
}

func TestWaitFlag(t *testing.T) {
	cases := []struct {
		in      string
		want    waitFlag
		wantErr bool
	}{
		{"forever", waitFlag{}, false},
		{"0", waitFlag{d: 0, limited: true}, false},
		{"1m", waitFlag{d: time.Minute, limited: true}, false},
		{"-1s", waitFlag{}, true},
		{"soon", waitFlag{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			var w waitFlag
			err := w.Set(tc.in)
			if (err != nil) != tc.wantErr || (err == nil && w != tc.want) {
				t.Errorf("Set(%q) = %+v, %v; want %+v, error %t", tc.in, w, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestOutput(t *testing.T) {
	led := wire.ElectionInfo{Name: "e", Leader: &wire.Leader{Value: "host:7000", Term: 7, LeaseID: 41}, Index: 9}
	spaced := wire.ElectionInfo{Name: "e", Leader: &wire.Leader{Value: "a b\nc", Term: 8, LeaseID: 41}}
	cluster := wire.Cluster{ID: "n1", Role: "leader", Term: 3, Leader: "n1", CommitIndex: 10, AppliedIndex: 9,
		Members: []wire.Member{{Name: "n1", PeerURL: "http://p", ClientURL: "http://c", IsLeader: true}}}
	cases := []struct {
		name  string
		print func(printer) error
		text  string
		json  string
	}{
		{"acquired", func(p printer) error { return p.acquired(wire.Acquired{Name: "a", Token: 42, LeaseID: 41}) },
			"token=42 lease_id=41\n", `{"name":"a","token":42,"lease_id":41,"owner":""}` + "\n"},
		{"released", func(p printer) error { return p.released(wire.Released{Released: true}) },
			"", `{"released":true}` + "\n"},
		{"leader", func(p printer) error { return p.leader(led) },
			"term=7 lease_id=41 value=host:7000\n", `{"name":"e","leader":{"value":"host:7000","term":7,"lease_id":41},"index":9}` + "\n"},
		{"no leader", func(p printer) error { return p.leader(wire.ElectionInfo{Name: "e", Index: 3}) },
			"term=0\n", `{"name":"e","index":3}` + "\n"},
		{"quoted value", func(p printer) error { return p.leader(spaced) },
			"term=8 lease_id=41 value=\"a b\\nc\"\n", `{"name":"e","leader":{"value":"a b\nc","term":8,"lease_id":41},"index":0}` + "\n"},
		{"cluster", func(p printer) error { return p.cluster(cluster) },
			"id=n1 role=leader term=3 leader=n1 commit_index=10 applied_index=9\nmember name=n1 is_leader=true peer_url=http://p client_url=http://c\n",
			`{"id":"n1","role":"leader","term":3,"leader":"n1","commit_index":10,"applied_index":9,"members":[{"name":"n1","peer_url":"http://p","client_url":"http://c","is_leader":true}]}` + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, output := range []string{"text", "json"} {
				var b bytes.Buffer
				if err := tc.print(newPrinter(&b, output)); err != nil {
					t.Fatalf("print %s as %s = %v; want nil", tc.name, output, err)
				}
				want := tc.text
				if output == "json" {
					want = tc.json
					if !json.Valid(b.Bytes()) {
						t.Errorf("print %s as json = %q; not JSON", tc.name, b.String())
					}
				}
				if b.String() != want {
					t.Errorf("print %s as %s = %q; want %q", tc.name, output, b.String(), want)
				}
			}
		})
	}
}
