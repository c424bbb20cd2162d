// These tests prove how `lock` and `elect` supervise CMD, with a channel
// standing in for "lease lost" and one for the signals raftlock receives:
// losing the lease stops the whole process group (SIGTERM, then SIGKILL for
// a group that ignores it, never before the grace) and reports it; a
// forwarded signal reaches CMD, which decides its own exit status; what CMD
// left running in its group when it exited is stopped too; and CMD's exit
// status (or 128+N after signal N) is what raftlock exits with.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// superviseTimeout bounds each wait of these tests for a child process.
const superviseTimeout = 30 * time.Second

// startReady starts sh -c script with stdout on a pipe and waits for the
// script's first line, which it prints once its traps are set.
func startReady(t *testing.T, script string) (*child, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatalf("Pipe() = %v", err)
	}
	c, err := startChild([]string{"sh", "-c", script}, os.Environ(), nil, w, w)
	if cerr := w.Close(); cerr != nil {
		t.Fatalf("close pipe: %v", cerr)
	}
	if err != nil {
		t.Fatalf("startChild(%q) = %v; want nil", script, err)
	}
	t.Cleanup(func() {
		// A test that failed half-way must not leave the group running.
		if err := c.signal(syscall.SIGKILL); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		<-c.exited
		if err := r.Close(); err != nil {
			t.Errorf("close pipe: %v", err)
		}
	})
	line := make(chan string, 1)
	// Exits at the first line or when the pipe closes (cleanup kills the group).
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		return c, s
	case <-time.After(superviseTimeout):
		t.Fatalf("%q printed nothing within %v", script, superviseTimeout)
	}
	return nil, ""
}

// superviseAsync runs supervise in a goroutine and returns its outcome.
func superviseAsync(c *child, lost <-chan struct{}, sigs <-chan os.Signal, grace time.Duration) <-chan outcome {
	out := make(chan outcome, 1)
	// Exits when supervise returns: the test closes lost or CMD exits.
	go func() { out <- supervise(c, lost, sigs, grace) }()
	return out
}

func await(t *testing.T, out <-chan outcome) outcome {
	t.Helper()
	select {
	case o := <-out:
		return o
	case <-time.After(superviseTimeout):
		t.Fatalf("supervise did not return within %v", superviseTimeout)
	}
	return outcome{}
}

// groupGone reports whether process group pgid runs nothing: it is gone,
// or only zombies are left for their new parent to reap.
func groupGone(pgid int) bool {
	return errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH) || !groupRunning(pgid)
}

func TestSuperviseLeaseLost(t *testing.T) {
	cases := []struct {
		name string
		// script prints a line once ready, then runs until killed.
		script     string
		wantStatus int
		// killed says SIGKILL was needed: the group ignores SIGTERM, so
		// supervise must have waited the grace.
		killed bool
	}{
		{"stops at SIGTERM", "echo ready; exec sleep 60", exitSignalBase + int(syscall.SIGTERM), false},
		{"whole group", "sleep 60 & echo ready; wait", exitSignalBase + int(syscall.SIGTERM), false},
		{"SIGKILL after grace", "trap '' TERM; echo ready; sleep 60", exitSignalBase + int(syscall.SIGKILL), true},
	}
	const grace = 300 * time.Millisecond
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := startReady(t, tc.script)
			lost := make(chan struct{})
			out := superviseAsync(c, lost, nil, grace)
			start := time.Now()
			close(lost)
			o := await(t, out)
			took := time.Since(start)
			if !o.lost || o.status != tc.wantStatus || o.err != nil {
				t.Errorf("supervise(%q) after loss = %+v; want lost, status %d, no error", tc.script, o, tc.wantStatus)
			}
			if !groupGone(c.pgid) {
				t.Errorf("supervise(%q) returned with process group %d still alive", tc.script, c.pgid)
			}
			if tc.killed && took < grace {
				t.Errorf("supervise(%q) sent SIGKILL after %v; want at least the grace %v", tc.script, took, grace)
			}
		})
	}
}

func TestSuperviseForwardsSignals(t *testing.T) {
	cases := []struct {
		name       string
		script     string
		sig        syscall.Signal
		wantStatus int
	}{
		{"trapped SIGINT", "trap 'exit 5' INT; echo ready; while :; do sleep 0.01; done", syscall.SIGINT, 5},
		{"SIGTERM kills", "echo ready; exec sleep 60", syscall.SIGTERM, exitSignalBase + int(syscall.SIGTERM)},
		{"SIGHUP kills", "echo ready; exec sleep 60", syscall.SIGHUP, exitSignalBase + int(syscall.SIGHUP)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if signal.Ignored(tc.sig) {
				// Under nohup (or any parent ignoring it) the child inherits
				// the ignored disposition and the shell cannot undo it.
				t.Skipf("%v is ignored by this process, so CMD inherits that", tc.sig)
			}
			c, _ := startReady(t, tc.script)
			sigs := make(chan os.Signal, 1)
			out := superviseAsync(c, nil, sigs, time.Second)
			sigs <- tc.sig
			o := await(t, out)
			if o.lost || o.status != tc.wantStatus || o.err != nil {
				t.Errorf("supervise(%q) after %v = %+v; want status %d, not lost", tc.script, tc.sig, o, tc.wantStatus)
			}
		})
	}
}

func TestSuperviseExit(t *testing.T) {
	cases := []struct {
		name       string
		script     string
		wantStatus int
	}{
		{"success", "echo ready", 0},
		{"status", "echo ready; exit 7", 7},
		{"leftovers stopped", "sleep 60 & echo ready; exit 3", 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := startReady(t, tc.script)
			o := await(t, superviseAsync(c, nil, nil, time.Second))
			if o.lost || o.status != tc.wantStatus || o.err != nil {
				t.Errorf("supervise(%q) = %+v; want status %d", tc.script, o, tc.wantStatus)
			}
			if !groupGone(c.pgid) {
				t.Errorf("supervise(%q) returned with process group %d still alive", tc.script, c.pgid)
			}
		})
	}
}

// TestRunHeldEnvironment runs CMD the way `lock` does and checks it sees
// the variables raftlock adds and that its status comes back.
func TestRunHeldEnvironment(t *testing.T) {
	cio, stdout, _, _ := testIO(nil)
	env := childEnv(os.Environ(), "RAFTLOCK_TOKEN=42", "RAFTLOCK_LOCK=jobs")
	err := runHeld(cio, []string{"sh", "-c", `echo "$RAFTLOCK_LOCK $RAFTLOCK_TOKEN"; exit 9`}, env, nil, time.Second, nil)
	if exitCode(err) != 9 || stdout.String() != "jobs 42\n" {
		t.Errorf("runHeld = %v (exit %d), stdout %q; want exit 9, stdout %q", err, exitCode(err), stdout, "jobs 42\n")
	}
	err = runHeld(cio, []string{"raftlock-no-such-command"}, env, nil, time.Second, nil)
	if exitCode(err) != exitNotFound {
		t.Errorf("runHeld(missing command) = %v (exit %d); want exit %d", err, exitCode(err), exitNotFound)
	}
}

// TestRunHeldAfterLoss proves a CMD whose lease was lost before it could
// start is never started.
func TestRunHeldAfterLoss(t *testing.T) {
	cio, stdout, _, _ := testIO(nil)
	lost := make(chan struct{})
	close(lost)
	errLease := fmt.Errorf("lock %q %w", "jobs", errLost)
	err := runHeld(cio, []string{"sh", "-c", "echo started"}, os.Environ(), lost, time.Second, func() error { return errLease })
	if !errors.Is(err, errLost) || stdout.Len() != 0 {
		t.Errorf("runHeld after loss = %v, stdout %q; want %v and nothing run", err, stdout, errLease)
	}
}
