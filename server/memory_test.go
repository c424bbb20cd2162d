// TestProcessMemory measures the resident memory (VmRSS from
// /proc/PID/status) of raftlock processes, idle and under load. Nothing
// outside a node can propose until the lock API lands, so the load comes from
// an in-process node of the same cluster: n1 runs in the test process and,
// once it leads, 256 proposers commit 100-byte commands through it while the
// two follower processes (n2, n3) replicate, fsync and apply them. It only
// runs with RAFTLOCK_MEASURE=1:
//
//	RAFTLOCK_MEASURE=1 go test -run TestProcessMemory -v ./server/
package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/server"
	"github.com/raftlock/raftlock/server/servertest"
)

const (
	envMeasure       = "RAFTLOCK_MEASURE"
	memIdleWindow    = 3 * time.Second
	memLoadWindow    = 10 * time.Second
	memSampleEvery   = 100 * time.Millisecond
	memLoadProposers = 256
	memLeaderTries   = 20
)

// rssKiB reads VmRSS of pid in KiB.
func rssKiB(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, errors.New("no VmRSS line")
}

// peakRSS samples the RSS of every running process of c until window ends
// and returns each one's peak in KiB.
func peakRSS(t *testing.T, c *procCluster, window time.Duration) map[string]int {
	t.Helper()
	peak := make(map[string]int)
	deadline := time.NewTimer(window)
	defer deadline.Stop()
	tick := time.NewTicker(memSampleEvery)
	defer tick.Stop()
	for {
		for _, nd := range c.nodes {
			if nd.cmd == nil {
				continue
			}
			kib, err := rssKiB(nd.cmd.Process.Pid)
			if err != nil {
				t.Fatalf("%s: rss: %v", nd.name, err)
			}
			peak[nd.name] = max(peak[nd.name], kib)
		}
		select {
		case <-deadline.C:
			return peak
		case <-tick.C:
		}
	}
}

func TestProcessMemory(t *testing.T) {
	if os.Getenv(envMeasure) == "" {
		t.Skipf("measurement: set %s=1 to run", envMeasure)
	}
	c := newProcCluster(t, 3, []string{"--heartbeat-interval", "100ms", "--election-timeout", "1s"})
	c.start(1)
	c.start(2)
	node := startInProcess(t, c)

	// Idle: the processes as a fresh cluster with no traffic but heartbeats.
	idle := peakRSS(t, c, memIdleWindow)
	t.Logf("idle RSS (peak over %v): n2 %d KiB, n3 %d KiB", memIdleWindow, idle["n2"], idle["n3"])

	waitInProcessLeader(t, c, node)
	ctx, cancel := context.WithTimeout(context.Background(), memLoadWindow)
	defer cancel()
	var commits atomic.Int64
	var wg sync.WaitGroup
	data := make([]byte, benchCommandBytes)
	for range memLoadProposers {
		wg.Add(1)
		// Exits when the load window ends.
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if _, err := node.Propose(ctx, data); err == nil {
					commits.Add(1)
				}
			}
		}()
	}
	load := peakRSS(t, c, memLoadWindow)
	wg.Wait()
	t.Logf("RSS under load (peak over %v, %d proposers through the in-process leader, %.0f commits/s): n2 %d KiB, n3 %d KiB",
		memLoadWindow, memLoadProposers, float64(commits.Load())/memLoadWindow.Seconds(), load["n2"], load["n3"])
	if commits.Load() == 0 {
		t.Errorf("no proposal committed under load")
	}
}

// startInProcess runs member n1 of c inside the test process until the test ends.
func startInProcess(t *testing.T, c *procCluster) *server.Node {
	t.Helper()
	nd := c.nodes[0]
	cfg := server.DefaultConfig()
	cfg.Name, cfg.DataDir = nd.name, nd.dataDir
	cfg.ClientAddr, cfg.PeerAddr = nd.clientAddr, nd.peerAddr
	cfg.InitialCluster = nd.cluster
	node, err := server.New(cfg, server.Options{Logger: zap.NewNop(), FSM: servertest.NewRecorder()})
	if err != nil {
		t.Fatalf("start in-process %s: %v", nd.name, err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// Exits when the cleanup below cancels ctx.
	go func() { done <- node.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("in-process %s: Run = %v", nd.name, err)
		}
	})
	return node
}

// waitInProcessLeader restarts whichever process leads until the in-process
// node wins an election.
func waitInProcessLeader(t *testing.T, c *procCluster, node *server.Node) {
	t.Helper()
	for range memLeaderTries {
		ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
		err := servertest.WaitUntil(ctx, func() bool {
			st := node.Status()
			return st.Lead != consensus.None && (st.Role != consensus.RoleLeader || st.QuorumActive)
		})
		cancel()
		if err != nil {
			t.Fatalf("no leader: %v", err)
		}
		st := node.Status()
		if st.Role == consensus.RoleLeader {
			return
		}
		for i, nd := range c.nodes {
			if server.NodeIDOf(nd.name) == st.Lead {
				c.terminate(i)
				c.start(i)
			}
		}
	}
	t.Fatalf("the in-process node did not win an election in %d tries", memLeaderTries)
}
