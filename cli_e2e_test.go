// These tests run the client subcommands against real nodes serving the lock
// API (server/servertest, Locks on), in-process through runClient with the
// endpoints in RAFTLOCK_ENDPOINTS:
//
//   - TestCLICommands: acquire, release, lock, elect, leader and status give
//     the documented output and exit codes (4 for a held lock, 1 for a
//     refused release, CMD's status from lock and elect), and lock and elect
//     leave nothing held behind.
//   - TestCLIElectHolds: elect without a command leads until SIGTERM, then
//     resigns; elect with a command exits 3 and stops it when its lease is
//     revoked.
//   - TestCLILockStopsBeforeExpiry: with its only node stopped, `lock`
//     cannot renew its lease; it stops CMD and exits 3 before the lease
//     could have expired on any server (stop time + ttl).
//   - TestCLILeaderWatch: leader --watch prints the leader now and one line
//     per change, and exits 0 at SIGTERM.
//
// cli_binary_test.go runs the built binary.
package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client"
	"github.com/raftlock/raftlock/server/servertest"
)

// e2eTimeout bounds each wait of these tests (an election, a command).
const e2eTimeout = 60 * time.Second

// lockCluster is a cluster serving the lock API and an SDK client of it.
type lockCluster struct {
	c         *servertest.Cluster
	endpoints string
	sdk       *client.Client
}

// startLockCluster starts n nodes with the lock table and waits until the
// leader has applied what it committed (the lease clock runs from then).
func startLockCluster(t *testing.T, n int) lockCluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	c := servertest.Start(t, n, servertest.Options{Locks: true})
	leader, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatalf("WaitLeader() = %v; want a leader", err)
	}
	if err := servertest.WaitUntil(ctx, func() bool {
		st := c.Node(leader).Status()
		return st.Applied >= st.Commit
	}); err != nil {
		t.Fatalf("leader never applied its commit: %v", err)
	}
	urls := make([]string, n)
	for i := range urls {
		urls[i] = c.URL(i)
	}
	sdk, err := client.New(client.Config{Endpoints: urls})
	if err != nil {
		t.Fatalf("client.New(%q) = %v", urls, err)
	}
	t.Cleanup(func() {
		if err := sdk.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return lockCluster{c: c, endpoints: strings.Join(urls, ","), sdk: sdk}
}

func (lc lockCluster) env() map[string]string { return map[string]string{envEndpoints: lc.endpoints} }

// runCLI runs one subcommand to its end and returns its exit code and output.
func (lc lockCluster) runCLI(args ...string) (code int, stdout, stderr string) {
	cio, out, errb, _ := testIO(lc.env())
	code = runClient(args[0], args[1:], cio)
	return code, out.String(), errb.String()
}

// cliProc is a subcommand running in a goroutine with stdout on a pipe.
type cliProc struct {
	args  []string
	code  chan int
	sigs  chan os.Signal
	lines *bufio.Reader
	r     *os.File
	err   *bytes.Buffer
}

// startCLI starts a subcommand; its stdout is read line by line with line.
func (lc lockCluster) startCLI(t *testing.T, args ...string) *cliProc {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatalf("Pipe() = %v", err)
	}
	if err := r.SetReadDeadline(time.Now().Add(e2eTimeout)); err != nil {
		t.Fatalf("SetReadDeadline: %v", err)
	}
	cio, _, errb, sigs := testIO(lc.env())
	cio.stdout = w
	p := &cliProc{args: args, code: make(chan int, 1), sigs: sigs, lines: bufio.NewReader(r), r: r, err: errb}
	// Exits when the subcommand returns.
	go func() {
		code := runClient(args[0], args[1:], cio)
		if err := w.Close(); err != nil {
			code = -1
		}
		p.code <- code
	}()
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("close pipe: %v", err)
		}
	})
	return p
}

// line returns the next line the subcommand printed.
func (p *cliProc) line(t *testing.T) string {
	t.Helper()
	s, err := p.lines.ReadString('\n')
	if err != nil {
		t.Fatalf("raftlock %q: read stdout = %q, %v; want a line", p.args, s, err)
	}
	return strings.TrimSuffix(s, "\n")
}

// wait returns the exit code, after the subcommand's stderr is complete.
func (p *cliProc) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-p.code:
		return code
	case <-time.After(e2eTimeout):
		t.Fatalf("raftlock %q did not exit within %v", p.args, e2eTimeout)
	}
	return -1
}

// field returns the value of key in a text output line "k=v k=v".
func field(t *testing.T, line, key string) string {
	t.Helper()
	for _, f := range strings.Fields(line) {
		if k, v, ok := strings.Cut(f, "="); ok && k == key {
			return v
		}
	}
	t.Fatalf("line %q has no %s=", line, key)
	return ""
}

func fieldUint(t *testing.T, line, key string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(field(t, line, key), 10, 64)
	if err != nil {
		t.Fatalf("line %q: %s: %v", line, key, err)
	}
	return v
}

// assertFree fails unless lock name is free.
func (lc lockCluster) assertFree(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	info, err := lc.sdk.Lock(ctx, name)
	if err != nil || info.Held {
		t.Errorf("Lock(%q) = %+v, %v; want free", name, info, err)
	}
}

func TestCLICommands(t *testing.T) {
	lc := startLockCluster(t, 1)
	steps := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // a prefix
		wantStderr string // a substring
	}{
		{"status", []string{"status"}, exitOK, "id=n1 role=leader", ""},
		{"acquire", []string{"acquire", "--ttl", "30s", "--owner", "me", "jobs"}, exitOK, "token=", ""},
		{"acquire held", []string{"acquire", "jobs"}, exitNotAcquired, "", `owner "me"`},
		{"lock held", []string{"lock", "--wait", "0", "jobs", "--", "true"}, exitNotAcquired, "", `lock "jobs" not granted`},
		{"lock held waits", []string{"lock", "--wait", "200ms", "jobs", "--", "true"}, exitNotAcquired, "", "not granted within 200ms"},
		{"release wrong token", []string{"release", "jobs", "--token", "999999"}, exitError, "", "not_holder"},
		{"release", []string{"release", "jobs", "--token", "$TOKEN", "--output", "json"}, exitOK, `{"released":true}`, ""},
		{"lock runs command", []string{"lock", "jobs", "--", "sh", "-c", `echo "$RAFTLOCK_LOCK $RAFTLOCK_TOKEN"; exit 6`}, 6, "jobs ", ""},
		{"lock free after", []string{"acquire", "--wait", "1s", "jobs"}, exitOK, "token=", ""},
		{"no leader", []string{"leader", "svc"}, exitOK, "term=0", ""},
		{"elect runs command", []string{"elect", "svc", "host:1", "--", "sh", "-c", `echo "$RAFTLOCK_ELECTION $RAFTLOCK_VALUE"; exit 5`}, 5, "term=", ""},
		{"resigned after", []string{"leader", "svc", "--output", "json"}, exitOK, `{"name":"svc","index":`, ""},
		{"missing command", []string{"lock", "other", "--", "raftlock-no-such-command"}, exitNotFound, "", "not found"},
	}
	var token string
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			args := append([]string(nil), st.args...)
			for i, a := range args {
				if a == "$TOKEN" {
					args[i] = token
				}
			}
			code, stdout, stderr := lc.runCLI(args...)
			if code != st.wantCode || !strings.HasPrefix(stdout, st.wantStdout) || !strings.Contains(stderr, st.wantStderr) {
				t.Fatalf("raftlock %q = %d, stdout %q, stderr %q; want %d, stdout starting %q, stderr containing %q",
					args, code, stdout, stderr, st.wantCode, st.wantStdout, st.wantStderr)
			}
			switch st.name {
			case "acquire":
				token = field(t, stdout, "token")
			case "lock runs command":
				first, _ := strconv.ParseUint(token, 10, 64)
				var got uint64
				if _, err := fmt.Sscanf(stdout, "jobs %d", &got); err != nil || got <= first {
					t.Errorf("lock's CMD saw token %d (%v); want one above the first grant's %d", got, err, first)
				}
			}
		})
	}
	lc.assertFree(t, "other")
}

func TestCLIElectHolds(t *testing.T) {
	lc := startLockCluster(t, 1)
	t.Run("until SIGTERM", func(t *testing.T) {
		p := lc.startCLI(t, "elect", "svc", "host:1")
		won := p.line(t)
		code, got, _ := lc.runCLI("leader", "svc")
		if got != won+"\n" || code != exitOK {
			t.Errorf("leader svc = %d, %q; want 0, %q", code, got, won+"\n")
		}
		p.sigs <- syscall.SIGTERM
		if code := p.wait(t); code != exitOK {
			t.Errorf("elect after SIGTERM = %d; want %d (stderr %q)", code, exitOK, p.err)
		}
		if _, got, _ := lc.runCLI("leader", "svc"); got != "term=0\n" {
			t.Errorf("leader svc after resign = %q; want %q", got, "term=0\n")
		}
	})
	t.Run("lease revoked", func(t *testing.T) {
		p := lc.startCLI(t, "elect", "--ttl", "3s", "svc", "host:2", "--", "sh", "-c", `echo "$$ $RAFTLOCK_LEASE_ID"; exec sleep 60`)
		won := p.line(t)
		pgid, lease := pidAndLease(t, p.line(t))
		if got := client.LeaseID(fieldUint(t, won, "lease_id")); got != lease {
			t.Errorf("elect printed lease %d, CMD got %d", got, lease)
		}
		revoke(t, lc.sdk, lease)
		if code := p.wait(t); code != exitLost {
			t.Errorf("elect after its lease was revoked = %d; want %d (stderr %q)", code, exitLost, p.err)
		}
		if !groupGone(pgid) {
			t.Errorf("elect exited with CMD's process group %d running", pgid)
		}
	})
}

// pidAndLease parses the line "PID LEASE_ID" a test's CMD prints.
func pidAndLease(t *testing.T, line string) (int, client.LeaseID) {
	t.Helper()
	var pid int
	var lease uint64
	if _, err := fmt.Sscanf(line, "%d %d", &pid, &lease); err != nil {
		t.Fatalf("CMD printed %q; want \"PID LEASE_ID\": %v", line, err)
	}
	return pid, client.LeaseID(lease)
}

func revoke(t *testing.T, sdk *client.Client, lease client.LeaseID) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	if err := sdk.Revoke(ctx, lease); err != nil {
		t.Fatalf("Revoke(%d) = %v; want nil", lease, err)
	}
}

func TestCLILeaderWatch(t *testing.T) {
	lc := startLockCluster(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	p := lc.startCLI(t, "leader", "--watch", "svc")
	if got := p.line(t); got != "term=0" {
		t.Fatalf("leader --watch first line = %q; want %q", got, "term=0")
	}
	for _, value := range []string{"a:1", "b:2"} {
		s, err := client.NewSession(ctx, lc.sdk, client.WithTTL(10*time.Second))
		if err != nil {
			t.Fatalf("NewSession() = %v", err)
		}
		e := client.NewElection(s, "svc")
		if err := e.Campaign(ctx, value); err != nil {
			t.Fatalf("Campaign(%q) = %v; want nil", value, err)
		}
		want := fmt.Sprintf("term=%d lease_id=%d value=%s", e.Term(), s.Lease(), value)
		if got := p.line(t); got != want {
			t.Errorf("leader --watch after Campaign(%q) = %q; want %q", value, got, want)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close() = %v", err)
		}
		if got := p.line(t); got != "term=0" {
			t.Errorf("leader --watch after the leader's session closed = %q; want %q", got, "term=0")
		}
	}
	p.sigs <- syscall.SIGTERM
	if code := p.wait(t); code != exitOK {
		t.Errorf("leader --watch after SIGTERM = %d; want %d (stderr %q)", code, exitOK, p.err)
	}
}

func TestCLILockStopsBeforeExpiry(t *testing.T) {
	lc := startLockCluster(t, 1)
	const ttl = 3 * time.Second
	p := lc.startCLI(t, "lock", "--ttl", ttl.String(), "jobs", "--", "sh", "-c", `echo "$$ $RAFTLOCK_LEASE_ID"; exec sleep 60`)
	pgid, _ := pidAndLease(t, p.line(t))
	// Every keepalive acknowledged so far was sent before now, so no
	// server can expire the lease before stopped + ttl.
	stopped := time.Now()
	lc.c.Stop(0)
	code := p.wait(t)
	took := time.Since(stopped)
	t.Logf("lock exited %v after the cluster stopped (ttl %v)", took, ttl)
	if code != exitLost {
		t.Errorf("lock with its cluster gone = %d; want %d (stderr %q)", code, exitLost, p.err)
	}
	if took >= ttl {
		t.Errorf("lock exited %v after the last keepalive could have been sent; want under the ttl %v", took, ttl)
	}
	if !groupGone(pgid) {
		t.Errorf("lock exited with CMD's process group %d running", pgid)
	}
}
