// These tests build the raftlock binary into a temp dir and run `raftlock
// lock` as real processes against a 3-node in-process cluster:
//
//   - locks never overlap: two loops of `raftlock lock` run at once a
//     command that fails if another one is inside (a "busy" file) and appends
//     its RAFTLOCK_TOKEN to a log; every run exits 0 and the tokens in the
//     log strictly increase.
//   - lease revoked: the lease of a running `raftlock lock` is revoked with
//     the SDK; raftlock stops CMD's process group and exits 3.
//   - SIGINT forwarded: SIGINT to raftlock reaches CMD, raftlock exits with
//     CMD's status and releases the lock.
//
// Skipped under -short.
package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Rounds of the overlap test: runners, and runs of `raftlock lock` each.
const (
	overlapRunners = 2
	overlapRounds  = 5
)

// buildRaftlock builds the binary into a temp dir.
func buildRaftlock(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the raftlock binary; skipped under -short")
	}
	bin := filepath.Join(t.TempDir(), "raftlock")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/raftlock/raftlock").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// exitOf is the exit code of a finished process's Wait error.
func exitOf(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// commandFunc returns a raftlock command bound to ctx and the cluster.
type commandFunc func(ctx context.Context, args ...string) *exec.Cmd

func TestCLIBinary(t *testing.T) {
	bin := buildRaftlock(t)
	lc := startLockCluster(t, 3)
	env := append(os.Environ(), envEndpoints+"="+lc.endpoints)
	command := func(ctx context.Context, args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		return cmd
	}
	t.Run("locks never overlap", func(t *testing.T) { testBinaryNoOverlap(t, command) })
	t.Run("lease revoked", func(t *testing.T) { testBinaryLeaseRevoked(t, lc, command) })
	t.Run("SIGINT forwarded", func(t *testing.T) { testBinarySIGINT(t, lc, command) })
}

func testBinaryNoOverlap(t *testing.T, command commandFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	dir := t.TempDir()
	script := `test ! -e busy && touch busy && echo "$RAFTLOCK_TOKEN" >> log && sleep 0.05 && rm busy`
	var wg sync.WaitGroup
	errs := make(chan string, overlapRunners*overlapRounds)
	for r := range overlapRunners {
		wg.Add(1)
		// Exits after its rounds.
		go func() {
			defer wg.Done()
			for i := range overlapRounds {
				cmd := command(ctx, "lock", "--ttl", "5s", "shared", "--", "sh", "-c", script)
				cmd.Dir = dir
				if out, err := cmd.CombinedOutput(); err != nil {
					errs <- "runner " + strconv.Itoa(r) + " round " + strconv.Itoa(i) + ": " + err.Error() + ": " + string(out)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("raftlock lock: %s", e)
	}
	b, err := os.ReadFile(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatalf("ReadFile(log) = %v", err)
	}
	lines := strings.Fields(string(b))
	if len(lines) != overlapRunners*overlapRounds {
		t.Errorf("log has %d tokens; want %d", len(lines), overlapRunners*overlapRounds)
	}
	var last uint64
	for i, l := range lines {
		tok, err := strconv.ParseUint(l, 10, 64)
		if err != nil || tok <= last {
			t.Errorf("token %d in the log is %q (%v); want a number above %d", i, l, err, last)
		}
		last = tok
	}
}

func testBinaryLeaseRevoked(t *testing.T, lc lockCluster, command commandFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	cmd := command(ctx, "lock", "--ttl", "3s", "revoked", "--", "sh", "-c", `echo "$$ $RAFTLOCK_LEASE_ID"; exec sleep 60`)
	pgid, lease := pidAndLease(t, startWithLine(t, cmd))
	revoked := time.Now()
	revoke(t, lc.sdk, lease)
	err := cmd.Wait()
	t.Logf("raftlock lock exited %v after its lease was revoked", time.Since(revoked))
	if got := exitOf(err); got != exitLost {
		t.Errorf("raftlock lock after its lease was revoked = %d (%v); want %d", got, err, exitLost)
	}
	if !groupGone(pgid) {
		t.Errorf("raftlock lock exited with CMD's process group %d running", pgid)
	}
}

func testBinarySIGINT(t *testing.T, lc lockCluster, command commandFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	cmd := command(ctx, "lock", "fwd", "--", "sh", "-c", `trap 'exit 9' INT; echo "$$ $RAFTLOCK_LEASE_ID"; while :; do sleep 0.01; done`)
	startWithLine(t, cmd)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatalf("Signal(SIGINT) = %v", err)
	}
	if got := exitOf(cmd.Wait()); got != 9 {
		t.Errorf("raftlock lock after SIGINT = %d; want CMD's 9", got)
	}
	lc.assertFree(t, "fwd")
}

// startWithLine starts cmd and returns the first line it prints; stderr
// goes to the test log on failure.
func startWithLine(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("StdoutPipe() = %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("Start() = %v", err)
	}
	// The ctx of cmd kills it at the deadline, which ends this read.
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		werr := cmd.Wait()
		t.Fatalf("%q printed %q, %v; want a line (exit %v, stderr %q)", cmd.Args, line, err, werr, stderr.String())
	}
	return strings.TrimSuffix(line, "\n")
}
