package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// node is one raftlock process slot: its addresses stay the same across
// restarts.
type node struct {
	idx        int
	name       string
	dataDir    string
	clientAddr string
	peerAddr   string
	// cluster is this node's --initial-cluster: itself at its real peer
	// address, every other node at the proxy of the link to it.
	cluster string
	logPath string

	// Guarded by cluster.mu.
	cmd        *exec.Cmd
	done       chan struct{} // closed when the process has exited
	paused     bool
	expectExit bool
	starts     int
	// joined: the node lost its data once and came back with --join; it
	// keeps passing --join (which does nothing once it is a member).
	joined bool
}

// clientURL is the node's HTTP API.
func (nd *node) clientURL() string { return "http://" + nd.clientAddr }

// cluster is the nodes and the links between them.
type cluster struct {
	bin string
	// extra are flags every node gets.
	extra []string
	dir   string
	nodes []*node
	// links[i][j] carries node i's traffic to node j; nil on the diagonal.
	links [][]*link
	out   *progress

	mu sync.Mutex
	// unexpected lists the exits the harness did not cause.
	unexpected []string
}

// newCluster lays out n nodes under dir with proxies on every link; nothing
// runs yet.
func newCluster(bin, dir string, n int, extra []string, out *progress) (*cluster, error) {
	c := &cluster{bin: bin, dir: dir, extra: extra, out: out}
	for i := range n {
		client, err := freeAddr()
		if err != nil {
			return nil, err
		}
		peer, err := freeAddr()
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("n%d", i+1)
		c.nodes = append(c.nodes, &node{
			idx: i, name: name, clientAddr: client, peerAddr: peer,
			dataDir: filepath.Join(dir, name), logPath: filepath.Join(dir, name+".log"),
		})
	}
	c.links = make([][]*link, n)
	for i, nd := range c.nodes {
		c.links[i] = make([]*link, n)
		parts := make([]string, n)
		for j, peer := range c.nodes {
			if i == j {
				parts[j] = nd.name + "=http://" + nd.peerAddr
				continue
			}
			l, err := newLink(i, j, peer.peerAddr)
			if err != nil {
				c.closeLinks()
				return nil, err
			}
			c.links[i][j] = l
			parts[j] = peer.name + "=http://" + l.addr()
		}
		nd.cluster = strings.Join(parts, ",")
	}
	return c, nil
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	return addr, nil
}

// start starts node i; it must not be running.
func (c *cluster) start(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	nd := c.nodes[i]
	assertf(nd.cmd == nil, "start %s: already running", nd.name)
	logf, err := os.OpenFile(nd.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("start %s: %w", nd.name, err)
	}
	defer logf.Close() // the child has its own descriptor
	args := append([]string{"serve",
		"--id", nd.name, "--data-dir", nd.dataDir,
		"--client-addr", nd.clientAddr, "--peer-addr", nd.peerAddr,
		"--advertise-peer-url", "http://" + nd.peerAddr,
		"--initial-cluster", nd.cluster,
		"--heartbeat-interval", HeartbeatInterval.String(),
		"--election-timeout", ElectionTimeout.String(),
		"--log-level", "info"}, c.extra...)
	if nd.joined {
		args = append(args, "--join", c.joinURLs(i))
	}
	cmd := exec.Command(c.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // no stray RAFTLOCK_* from the caller
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", nd.name, err)
	}
	done := make(chan struct{})
	nd.cmd, nd.done, nd.paused, nd.expectExit = cmd, done, false, false
	nd.starts++
	// Exits when the process exits.
	go c.reap(nd, cmd, done)
	return nil
}

// reap waits for a process and notes an exit the harness did not cause.
func (c *cluster) reap(nd *node, cmd *exec.Cmd, done chan struct{}) {
	err := cmd.Wait()
	c.mu.Lock()
	if !nd.expectExit {
		c.unexpected = append(c.unexpected, fmt.Sprintf("%s exited on its own: %v (log %s)", nd.name, err, nd.logPath))
	}
	if nd.cmd == cmd {
		nd.cmd = nil
		nd.paused = false
	}
	c.mu.Unlock()
	close(done)
}

// signal sends sig to node i when it runs; done is closed when it exits.
// expectExit marks the exit as the harness's doing.
func (c *cluster) signal(i int, sig syscall.Signal, expectExit bool) (done chan struct{}, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	nd := c.nodes[i]
	if nd.cmd == nil {
		return nil, false
	}
	if expectExit {
		nd.expectExit = true
	}
	if err := nd.cmd.Process.Signal(sig); err != nil {
		return nd.done, false // it exited under us; reap notes it
	}
	switch sig {
	case syscall.SIGSTOP:
		nd.paused = true
	case syscall.SIGCONT:
		nd.paused = false
	}
	return nd.done, true
}

// kill sends SIGKILL to node i and waits for it to exit.
func (c *cluster) kill(i int) {
	if done, _ := c.signal(i, syscall.SIGKILL, true); done != nil {
		<-done
	}
}

// pause stops node i with SIGSTOP; resume continues it.
func (c *cluster) pause(i int)  { c.signal(i, syscall.SIGSTOP, false) }
func (c *cluster) resume(i int) { c.signal(i, syscall.SIGCONT, false) }

// stop resumes node i if paused, sends SIGTERM and waits up to StopTimeout,
// then SIGKILL. It reports whether the node exited within the timeout.
func (c *cluster) stop(i int) bool {
	c.signal(i, syscall.SIGCONT, true)
	done, _ := c.signal(i, syscall.SIGTERM, true)
	if done == nil {
		return true
	}
	timer := time.NewTimer(StopTimeout)
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
		c.kill(i)
		return false
	}
}

// running reports whether node i runs and is not paused.
func (c *cluster) running(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	nd := c.nodes[i]
	return nd.cmd != nil && !nd.paused
}

// startsOf returns how many times node i was started.
func (c *cluster) startsOf(i int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i].starts
}

// unexpectedExits returns the exits the harness did not cause.
func (c *cluster) unexpectedExits() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.unexpected...)
}

// setCut cuts or heals the link from i to j.
func (c *cluster) setCut(i, j int, cut bool) { c.links[i][j].setCut(cut) }

// healAll heals every link and removes every delay.
func (c *cluster) healAll() {
	for i := range c.links {
		for j, l := range c.links[i] {
			if i != j {
				l.setCut(false)
				l.setDelay(0)
			}
		}
	}
}

// killAll kills every node (cleanup: on any exit path) and closes the links.
func (c *cluster) killAll() {
	for i := range c.nodes {
		c.kill(i)
	}
	c.closeLinks()
}

func (c *cluster) closeLinks() {
	for i := range c.links {
		for _, l := range c.links[i] {
			if l == nil {
				continue
			}
			if err := l.close(); err != nil && !errors.Is(err, net.ErrClosed) {
				c.out.printf("%v", err)
			}
		}
	}
}

// joinURLs is the --join of node i: the client URLs of every other node.
func (c *cluster) joinURLs(i int) string {
	var urls []string
	for j, nd := range c.nodes {
		if j != i {
			urls = append(urls, nd.clientURL())
		}
	}
	return strings.Join(urls, ",")
}

// wipe deletes node i's data dir (it must not run) and makes its next
// start a join.
func (c *cluster) wipe(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	nd := c.nodes[i]
	assertf(nd.cmd == nil, "wipe %s: still running", nd.name)
	if err := os.RemoveAll(nd.dataDir); err != nil {
		return fmt.Errorf("wipe %s: %w", nd.name, err)
	}
	nd.joined = true
	return nil
}
