// These tests run real `raftlock serve` processes (the binary is built into a
// temp dir) and kill them with SIGKILL:
//
//   - TestProcessLeaderKill: SIGKILL the leader; a new leader at a higher term
//     commits an entry of its own term (its no-op); the killed node restarts,
//     rejoins and catches up. 3 kills always; 20 with RAFTLOCK_LONG=1, which
//     also prints the failover times (SIGKILL to first commit on the new leader).
//   - TestProcessRandomKill: the same with a random node killed each round.
//
// Afterwards every process is stopped with SIGTERM (exit 0 expected) and each
// node's bbolt log is opened: the logs agree on every index up to the highest
// commit index any node ever reported, and every node's stored commit reaches
// it. Throughout the kills, clients acquire locks over HTTP on random nodes
// (procLoad: one Idempotency-Key per request over its retries, a lock of its
// own per acquire); after the last round every acknowledged grant is read
// back, still held with its token.
//
// Skipped under -short.
package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/consensus/boltstore"
	"github.com/raftlock/raftlock/server"
	"github.com/raftlock/raftlock/server/servertest"
)

// envLong selects the long versions of the process tests.
const envLong = "RAFTLOCK_LONG"

// Kill rounds of the process tests.
const (
	killRoundsShort = 3
	killRoundsLong  = 20
)

// processTimeout bounds each wait of a process test (one election, one
// catch-up); the whole test is bounded by go test's -timeout.
const processTimeout = 30 * time.Second

func longTests() bool { return os.Getenv(envLong) != "" }

func killRounds() int {
	if longTests() {
		return killRoundsLong
	}
	return killRoundsShort
}

// buildBinary builds the raftlock binary into a temp dir.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("process test: builds and runs raftlock binaries; skipped under -short")
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

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	return addr
}

// procNode is one raftlock process slot.
type procNode struct {
	name       string
	dataDir    string
	clientAddr string
	peerAddr   string
	// cluster is this node's --initial-cluster: its view of the peers' URLs
	// (through proxies in the partition test).
	cluster string

	cmd  *exec.Cmd
	done chan error
	// up is set while the process runs, for the load's goroutines (cmd is
	// the test goroutine's): clients then rarely dial a dead node, whose
	// refused dials would churn ephemeral ports that may include the
	// node's own, which its restart must bind again.
	up atomic.Bool
}

// procCluster is a cluster of raftlock processes.
type procCluster struct {
	t      *testing.T
	bin    string
	dir    string
	extra  []string // flags every node gets
	nodes  []*procNode
	client *http.Client

	mu sync.Mutex
	// maxCommit is the highest commit index any node reported.
	maxCommit consensus.Index
}

// newProcCluster prepares n nodes that see each other's real peer addresses;
// extra flags go to every node.
func newProcCluster(t *testing.T, n int, extra []string) *procCluster {
	t.Helper()
	c := &procCluster{
		t:      t,
		bin:    buildBinary(t),
		dir:    t.TempDir(),
		extra:  extra,
		client: &http.Client{Timeout: 2 * time.Second},
	}
	t.Cleanup(c.client.CloseIdleConnections)
	t.Cleanup(c.killAll)
	var parts []string
	for i := range n {
		nd := &procNode{
			name:       fmt.Sprintf("n%d", i+1),
			clientAddr: freeAddr(t),
			peerAddr:   freeAddr(t),
		}
		nd.dataDir = filepath.Join(c.dir, nd.name)
		parts = append(parts, nd.name+"=http://"+nd.peerAddr)
		c.nodes = append(c.nodes, nd)
	}
	for _, nd := range c.nodes {
		nd.cluster = strings.Join(parts, ",")
	}
	return c
}

func (c *procCluster) start(i int) {
	c.t.Helper()
	nd := c.nodes[i]
	if nd.cmd != nil {
		c.t.Fatalf("start %s: already running", nd.name)
	}
	logf, err := os.OpenFile(filepath.Join(c.dir, nd.name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		c.t.Fatalf("start %s: %v", nd.name, err)
	}
	defer logf.Close()
	args := append([]string{"serve",
		"--id", nd.name, "--data-dir", nd.dataDir,
		"--client-addr", nd.clientAddr, "--peer-addr", nd.peerAddr,
		"--advertise-peer-url", "http://" + nd.peerAddr,
		"--initial-cluster", nd.cluster,
	}, c.extra...)
	cmd := exec.Command(c.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // no stray RAFTLOCK_* from the caller
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("start %s: %v", nd.name, err)
	}
	nd.cmd, nd.done = cmd, make(chan error, 1)
	nd.up.Store(true)
	done := nd.done
	// Exits when the process exits.
	go func() { done <- cmd.Wait() }()
}

func (c *procCluster) startAll() {
	for i := range c.nodes {
		c.start(i)
	}
}

func (c *procCluster) running(i int) bool { return c.nodes[i].cmd != nil }

// kill sends SIGKILL to node i and waits for it to die.
func (c *procCluster) kill(i int) {
	nd := c.nodes[i]
	if nd.cmd == nil {
		return
	}
	nd.up.Store(false)
	if err := nd.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		c.t.Errorf("kill %s: %v; its log ends:\n%s", nd.name, err, c.logTail(i))
	}
	<-nd.done
	nd.cmd = nil
}

// logTail returns the last lines of node i's log, for failure messages.
func (c *procCluster) logTail(i int) string {
	b, err := os.ReadFile(filepath.Join(c.dir, c.nodes[i].name+".log"))
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-logTailLines):], "\n")
}

// logTailLines is how much of a node's log a failure shows.
const logTailLines = 30

func (c *procCluster) killAll() {
	for i := range c.nodes {
		c.kill(i)
	}
}

// terminate sends SIGTERM to node i and checks that it exits 0.
func (c *procCluster) terminate(i int) {
	c.t.Helper()
	nd := c.nodes[i]
	if nd.cmd == nil {
		return
	}
	nd.up.Store(false)
	if err := nd.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		c.t.Errorf("SIGTERM %s: %v", nd.name, err)
	}
	select {
	case err := <-nd.done:
		if err != nil {
			c.t.Errorf("%s after SIGTERM: %v; want exit 0; its log ends:\n%s", nd.name, err, c.logTail(i))
		}
	case <-time.After(processTimeout):
		c.t.Errorf("%s did not exit within %v of SIGTERM", nd.name, processTimeout)
		c.kill(i)
	}
	nd.cmd = nil
}

// status fetches node i's /v1/cluster; ok is false when it does not answer.
func (c *procCluster) status(ctx context.Context, i int) (server.ClusterStatus, bool) {
	var cs server.ClusterStatus
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.nodes[i].clientAddr+server.PathCluster, nil)
	if err != nil {
		return cs, false
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return cs, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&cs) != nil {
		return cs, false
	}
	c.mu.Lock()
	c.maxCommit = max(c.maxCommit, cs.CommitIndex)
	c.mu.Unlock()
	return cs, true
}

// leaderHealthy reports whether node i answers 200 on /v1/health/leader.
func (c *procCluster) leaderHealthy(ctx context.Context, i int) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.nodes[i].clientAddr+server.PathHealthLeader, nil)
	if err != nil {
		return false
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// leaderState is the leader a cluster agrees on.
type leaderState struct {
	slot   int
	term   consensus.Term
	commit consensus.Index
}

// stableLeader returns the leader when a running node passes the leader
// health check, every running node names it and has applied its commit.
func (c *procCluster) stableLeader(ctx context.Context) (leaderState, bool) {
	var sts []server.ClusterStatus
	var slots []int
	for i := range c.nodes {
		if !c.running(i) {
			continue
		}
		cs, ok := c.status(ctx, i)
		if !ok {
			return leaderState{}, false
		}
		sts, slots = append(sts, cs), append(slots, i)
	}
	for k, cs := range sts {
		if cs.Role != consensus.RoleLeader.String() || !c.leaderHealthy(ctx, slots[k]) {
			continue
		}
		for _, o := range sts {
			if o.Leader != cs.ID || o.Term != cs.Term || o.AppliedIndex < cs.CommitIndex {
				return leaderState{}, false
			}
		}
		return leaderState{slot: slots[k], term: cs.Term, commit: cs.CommitIndex}, true
	}
	return leaderState{}, false
}

func (c *procCluster) waitStableLeader(t *testing.T) leaderState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
	defer cancel()
	var ls leaderState
	err := servertest.WaitUntil(ctx, func() bool {
		var ok bool
		ls, ok = c.stableLeader(ctx)
		return ok
	})
	if err != nil {
		t.Fatalf("no stable leader within %v: %v (logs in %s)", processTimeout, err, c.dir)
	}
	return ls
}

// waitNewCommit waits until a running node other than old leads a term above
// term and has committed past commit: the new leader's own no-op is durable
// on a quorum. It returns that leader and the time it took.
func (c *procCluster) waitNewCommit(t *testing.T, old int, term consensus.Term, commit consensus.Index) (leaderState, time.Duration) {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
	defer cancel()
	var ls leaderState
	err := servertest.WaitUntil(ctx, func() bool {
		for i := range c.nodes {
			if i == old || !c.running(i) {
				continue
			}
			cs, ok := c.status(ctx, i)
			if ok && cs.Role == consensus.RoleLeader.String() && cs.Term > term && cs.CommitIndex > commit {
				ls = leaderState{slot: i, term: cs.Term, commit: cs.CommitIndex}
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("no new leader committed past %d above term %d within %v: %v (logs in %s)", commit, term, processTimeout, err, c.dir)
	}
	return ls, time.Since(start)
}

// checkLogs stops every node with SIGTERM and checks their bbolt logs agree
// on every index up to the highest commit any node reported.
func (c *procCluster) checkLogs(t *testing.T) {
	t.Helper()
	for i := range c.nodes {
		c.terminate(i)
	}
	c.mu.Lock()
	maxCommit := c.maxCommit
	c.mu.Unlock()
	var ref []consensus.Entry
	for _, nd := range c.nodes {
		ents, hs := readLog(t, filepath.Join(nd.dataDir, server.StoreFileName))
		if hs.Commit < maxCommit {
			t.Errorf("%s: stored commit %d; want >= %d, the highest reported", nd.name, hs.Commit, maxCommit)
		}
		if consensus.Index(len(ents)) < maxCommit {
			t.Errorf("%s: log holds %d entries; want >= %d (committed entries lost)", nd.name, len(ents), maxCommit)
			continue
		}
		ents = ents[:maxCommit]
		if ref == nil {
			ref = ents
			continue
		}
		for k := range ents {
			if ents[k].Term != ref[k].Term || ents[k].Type != ref[k].Type || string(ents[k].Data) != string(ref[k].Data) {
				t.Errorf("%s: entry %d = term %d; %s has term %d", nd.name, ents[k].Index, ents[k].Term, c.nodes[0].name, ref[k].Term)
				break
			}
		}
	}
	if maxCommit == 0 {
		t.Errorf("no node ever reported a commit")
	}
}

// readLog returns every entry and the hard state of the log at path.
func readLog(t *testing.T, path string) ([]consensus.Entry, consensus.HardState) {
	t.Helper()
	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatalf("boltstore.Open(%s) = %v", path, err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close(%s) = %v", path, err)
		}
	}()
	hs, err := st.InitialState()
	if err != nil {
		t.Fatalf("%s: InitialState() = %v", path, err)
	}
	first, err := st.FirstIndex()
	if err != nil {
		t.Fatalf("%s: FirstIndex() = %v", path, err)
	}
	last, err := st.LastIndex()
	if err != nil {
		t.Fatalf("%s: LastIndex() = %v", path, err)
	}
	var all []consensus.Entry
	for lo := first; lo <= last; {
		ents, err := st.Entries(lo, last+1, 1<<20)
		if err != nil {
			t.Fatalf("%s: Entries(%d, %d) = %v", path, lo, last+1, err)
		}
		all = append(all, ents...)
		lo += consensus.Index(len(ents))
	}
	return all, hs
}

// logFailover reports failover times (median and max) when there are any.
func logFailover(t *testing.T, what string, times []time.Duration) {
	if len(times) == 0 {
		return
	}
	s := slices.Clone(times)
	slices.Sort(s)
	t.Logf("%s over %d kills: median %v, max %v, all %v", what, len(s), s[len(s)/2].Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond), roundAll(times))
}

func roundAll(ds []time.Duration) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return out
}

func TestProcessLeaderKill(t *testing.T) {
	c := newProcCluster(t, 3, []string{"--heartbeat-interval", "100ms", "--election-timeout", "1s"})
	c.startAll()
	load := startProcLoad(t, c)
	var failovers []time.Duration
	for round := range killRounds() {
		ls := c.waitStableLeader(t)
		c.kill(ls.slot)
		_, d := c.waitNewCommit(t, ls.slot, ls.term, ls.commit)
		failovers = append(failovers, d)
		c.start(ls.slot)
		after := c.waitStableLeader(t)
		if after.term <= ls.term {
			t.Errorf("round %d: term after killing the leader of term %d = %d; want higher", round, ls.term, after.term)
		}
	}
	logFailover(t, "failover (SIGKILL of the leader to first commit on the new leader)", failovers)
	checkGrants(t, c, load.halt())
	c.checkLogs(t)
}

func TestProcessRandomKill(t *testing.T) {
	c := newProcCluster(t, 3, []string{"--heartbeat-interval", "50ms", "--election-timeout", "500ms"})
	c.startAll()
	load := startProcLoad(t, c)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	for range killRounds() {
		ls := c.waitStableLeader(t)
		victim := rng.IntN(len(c.nodes))
		c.kill(victim)
		if victim == ls.slot {
			c.waitNewCommit(t, victim, ls.term, ls.commit)
		}
		c.start(victim)
		c.waitStableLeader(t)
	}
	checkGrants(t, c, load.halt())
	c.checkLogs(t)
}

// TestProcessDataDirInUse proves that a second process on a data dir in use
// refuses to start with a clear message and exit code 1.
func TestProcessDataDirInUse(t *testing.T) {
	c := newProcCluster(t, 1, nil)
	c.start(0)
	c.waitStableLeader(t)
	nd := c.nodes[0]
	ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, "serve", "--data-dir", nd.dataDir,
		"--client-addr", freeAddr(t), "--peer-addr", freeAddr(t))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("second raftlock serve on %s = %v; want exit 1", nd.dataDir, err)
	}
	if !strings.Contains(string(out), "data dir in use by another raftlock process") {
		t.Errorf("second raftlock serve output = %s; want it to say the data dir is in use", out)
	}
	c.terminate(0)
}
