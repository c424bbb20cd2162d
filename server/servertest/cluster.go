package servertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/consensus/driver"
	"github.com/raftlock/raftlock/server"
)

// Defaults of a test cluster: fast enough that an election takes a fraction
// of a second, slow enough that -race and fsync do not cause spurious ones.
const (
	DefaultHeartbeatInterval = 50 * time.Millisecond
	DefaultElectionTimeout   = 500 * time.Millisecond
	// PollInterval is how often WaitUntil re-checks a condition that has no
	// channel to wait on (roles and quorum activity of several nodes).
	PollInterval = 5 * time.Millisecond
)

// Options shape a test cluster; the zero value is a cluster with the defaults.
type Options struct {
	HeartbeatInterval time.Duration
	ElectionTimeout   time.Duration
	// LogLevel is the level of the nodes' logs in the test output (debug,
	// info, warn, error); empty is warn.
	LogLevel string
	// Logger, when set, replaces the per-test logger (benchmarks pass a nop).
	Logger *zap.Logger
	// PeerCertFile, PeerKeyFile and PeerTrustedCAFile, when set, turn on
	// mutual TLS between the nodes; every node uses the same certificate.
	PeerCertFile      string
	PeerKeyFile       string
	PeerTrustedCAFile string
	// CheckpointInterval, when set, shortens the leader's lease checkpoint
	// interval (server.Options.CheckpointInterval).
	CheckpointInterval time.Duration
	// Locks runs the lock table on every node (the product's state
	// machine) instead of a Recorder; FSM then returns nil.
	Locks bool
	// SnapshotCount is every node's Config.SnapshotCount; 0 is the default.
	SnapshotCount uint64
	// BootstrapToken is every node's Config.BootstrapToken: set, it turns
	// access control on.
	BootstrapToken string
}

// Cluster is N in-process nodes talking real HTTP/2 over loopback, each with
// its own bbolt log in a temporary directory. Its methods are for the test
// goroutine; Stop and Restart must not race with each other.
type Cluster struct {
	tb    testing.TB
	opts  Options
	log   *zap.Logger
	nodes []*Member
}

// Member is one slot of the cluster: a name, fixed addresses and data dir,
// and the node currently running there (nil while stopped).
type Member struct {
	Name       string
	DataDir    string
	ClientAddr string
	PeerAddr   string
	// Config is the node's validated configuration.
	Config server.Config

	mu   sync.Mutex
	node *server.Node
	fsm  *Recorder
	stop context.CancelFunc
	done chan error
}

// Start starts an n-node cluster and stops it when the test ends. It does
// not wait for a leader; see WaitLeader.
func Start(tb testing.TB, n int, opts Options) *Cluster {
	tb.Helper()
	if opts.HeartbeatInterval == 0 {
		opts.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if opts.ElectionTimeout == 0 {
		opts.ElectionTimeout = DefaultElectionTimeout
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "warn"
	}
	log := opts.Logger
	if log == nil {
		lvl, err := zapcore.ParseLevel(opts.LogLevel)
		if err != nil {
			tb.Fatalf("servertest: log level: %v", err)
		}
		log = zaptest.NewLogger(tb, zaptest.Level(lvl))
	}
	// The temp dir first: cleanups run last-registered first, so the nodes
	// stop before their data dirs are removed (a snapshot being written
	// must not find its directory gone).
	root := tb.TempDir()
	c := &Cluster{tb: tb, opts: opts, log: log}
	tb.Cleanup(c.StopAll)
	clientLns := make([]net.Listener, n)
	peerLns := make([]net.Listener, n)
	var cluster string
	scheme := "http"
	if opts.PeerCertFile != "" {
		scheme = "https"
	}
	for i := range n {
		clientLns[i], peerLns[i] = listen(tb, "127.0.0.1:0"), listen(tb, "127.0.0.1:0")
		m := &Member{
			Name:       fmt.Sprintf("n%d", i+1),
			ClientAddr: clientLns[i].Addr().String(),
			PeerAddr:   peerLns[i].Addr().String(),
		}
		m.DataDir = filepath.Join(root, m.Name)
		if i > 0 {
			cluster += ","
		}
		cluster += m.Name + "=" + scheme + "://" + m.PeerAddr
		c.nodes = append(c.nodes, m)
	}
	for i, m := range c.nodes {
		m.Config = server.DefaultConfig()
		m.Config.Name = m.Name
		m.Config.DataDir = m.DataDir
		m.Config.ClientAddr = m.ClientAddr
		m.Config.PeerAddr = m.PeerAddr
		m.Config.InitialCluster = cluster
		m.Config.HeartbeatInterval = opts.HeartbeatInterval
		m.Config.ElectionTimeout = opts.ElectionTimeout
		m.Config.PeerCertFile = opts.PeerCertFile
		m.Config.PeerKeyFile = opts.PeerKeyFile
		m.Config.PeerTrustedCAFile = opts.PeerTrustedCAFile
		m.Config.SnapshotCount = opts.SnapshotCount
		m.Config.BootstrapToken = opts.BootstrapToken
		if err := m.Config.Validate(); err != nil {
			tb.Fatalf("node %s: %v", m.Name, err)
		}
		c.start(i, clientLns[i], peerLns[i])
	}
	return c
}

func listen(tb testing.TB, addr string) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Fatalf("listen %s: %v", addr, err)
	}
	return ln
}

// start runs node i on the given listeners with a fresh Recorder.
func (c *Cluster) start(i int, clientLn, peerLn net.Listener) {
	c.tb.Helper()
	m := c.nodes[i]
	var fsm *Recorder
	var sm server.StateMachine
	if !c.opts.Locks {
		fsm = NewRecorder()
		sm = fsm
	}
	node, err := server.New(m.Config, server.Options{
		Logger:             c.log.Named(m.Name),
		FSM:                sm,
		ClientListener:     clientLn,
		PeerListener:       peerLn,
		Seed:               uint64(i + 1),
		CheckpointInterval: c.opts.CheckpointInterval,
	})
	if err != nil {
		c.tb.Fatalf("start %s: %v", m.Name, err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// Exits when Stop cancels ctx (or the node fails).
	go func() { done <- node.Run(ctx) }()
	m.mu.Lock()
	m.node, m.fsm, m.stop, m.done = node, fsm, stop, done
	m.mu.Unlock()
}

// URL is the client URL of slot i (its address stays across restarts).
func (c *Cluster) URL(i int) string { return "http://" + c.nodes[i].ClientAddr }

// Size is the number of members.
func (c *Cluster) Size() int { return len(c.nodes) }

// Member returns slot i.
func (c *Cluster) Member(i int) *Member { return c.nodes[i] }

// Node returns the node running in slot i, nil while it is stopped.
func (c *Cluster) Node(i int) *server.Node {
	m := c.nodes[i]
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.node
}

// FSM returns the state machine of the node running in slot i (the last one
// if it is stopped); nil in a cluster with Options.Locks.
func (c *Cluster) FSM(i int) *Recorder {
	m := c.nodes[i]
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.fsm
}

// Running reports whether slot i has a running node.
func (c *Cluster) Running(i int) bool { return c.Node(i) != nil }

// Stop stops node i and waits for it: like a crash as far as the cluster is
// concerned (no leadership transfer), though every write it made is durable.
func (c *Cluster) Stop(i int) {
	c.tb.Helper()
	m := c.nodes[i]
	m.mu.Lock()
	node, stop, done := m.node, m.stop, m.done
	m.node = nil
	m.mu.Unlock()
	if node == nil {
		return
	}
	stop()
	if err := <-done; err != nil {
		c.tb.Errorf("node %s: Run = %v; want nil", m.Name, err)
	}
}

// StopAll stops every running node.
func (c *Cluster) StopAll() {
	for i := range c.nodes {
		c.Stop(i)
	}
}

// Restart starts node i again on its addresses and data dir. Its state
// machine starts empty and is rebuilt from the log.
func (c *Cluster) Restart(i int) {
	c.tb.Helper()
	m := c.nodes[i]
	if c.Running(i) {
		c.tb.Fatalf("Restart(%d): %s is running", i, m.Name)
	}
	c.start(i, listen(c.tb, m.ClientAddr), listen(c.tb, m.PeerAddr))
}

// Leader returns the slot of a running node that is leader with an active
// quorum and that every other running node follows, or -1.
func (c *Cluster) Leader() int {
	leader := -1
	for i := range c.nodes {
		n := c.Node(i)
		if n == nil {
			continue
		}
		st := n.Status()
		if st.Role == consensus.RoleLeader && st.QuorumActive {
			if leader >= 0 {
				return -1
			}
			leader = i
		}
	}
	if leader < 0 {
		return -1
	}
	lead := c.Node(leader).ID()
	for i := range c.nodes {
		if n := c.Node(i); n != nil && n.Status().Lead != lead {
			return -1
		}
	}
	return leader
}

// WaitLeader waits until Leader reports one and returns it.
func (c *Cluster) WaitLeader(ctx context.Context) (int, error) {
	leader := -1
	err := WaitUntil(ctx, func() bool {
		leader = c.Leader()
		return leader >= 0
	})
	if err != nil {
		return -1, fmt.Errorf("no leader every running node follows: %w", err)
	}
	return leader, nil
}

// Propose proposes data on the current leader, retrying while there is none
// or when the entry was refused or provably lost (ErrNotLeader,
// ErrProposalDropped, ErrProposalLost: none took effect), until ctx ends. Any
// other error leaves the outcome unknown. It returns the state machine's
// result (the Recorder's: the entry's index).
func (c *Cluster) Propose(ctx context.Context, data []byte) (consensus.Index, error) {
	for {
		leader, err := c.WaitLeader(ctx)
		if err != nil {
			return 0, err
		}
		node := c.Node(leader)
		if node == nil {
			continue
		}
		res, err := node.Propose(ctx, data)
		switch {
		case err == nil:
			return res.(consensus.Index), nil
		case errors.Is(err, consensus.ErrNotLeader), errors.Is(err, driver.ErrProposalLost),
			errors.Is(err, consensus.ErrProposalDropped):
			continue
		default:
			return 0, err
		}
	}
}

// WaitUntil polls cond every PollInterval until it holds or ctx ends. It is
// for conditions spread over several nodes that no single channel announces.
func WaitUntil(ctx context.Context, cond func() bool) error {
	t := time.NewTicker(PollInterval)
	defer t.Stop()
	for !cond() {
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Join starts a new node in a new slot that joins the running cluster
// through the client URL of slot via (server.Join: added as a learner, it
// promotes itself once caught up). It returns the new slot.
func (c *Cluster) Join(via int) int {
	c.tb.Helper()
	i := len(c.nodes)
	clientLn, peerLn := listen(c.tb, "127.0.0.1:0"), listen(c.tb, "127.0.0.1:0")
	prev := c.nodes[0]
	m := &Member{
		Name:       fmt.Sprintf("n%d", i+1),
		ClientAddr: clientLn.Addr().String(),
		PeerAddr:   peerLn.Addr().String(),
	}
	m.DataDir = filepath.Join(filepath.Dir(prev.DataDir), m.Name)
	m.Config = prev.Config
	m.Config.Name = m.Name
	m.Config.DataDir = m.DataDir
	m.Config.ClientAddr = m.ClientAddr
	m.Config.PeerAddr = m.PeerAddr
	m.Config.AdvertiseClientURL = ""
	m.Config.AdvertisePeerURL = ""
	m.Config.InitialCluster = ""
	m.Config.Join = []string{c.URL(via)}
	if err := m.Config.Validate(); err != nil {
		c.tb.Fatalf("node %s: %v", m.Name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), server.JoinTimeout)
	defer cancel()
	if err := server.Join(ctx, m.Config, c.log.Named(m.Name)); err != nil {
		c.tb.Fatalf("join %s: %v", m.Name, err)
	}
	c.nodes = append(c.nodes, m)
	c.start(i, clientLn, peerLn)
	return i
}

// Rejoin starts the stopped slot i again with an empty data dir, joining
// through the client URL of slot via: the member must have been removed
// first, and comes back as a learner with its old name (and Raft id).
func (c *Cluster) Rejoin(i, via int) {
	c.tb.Helper()
	m := c.nodes[i]
	if c.Running(i) {
		c.tb.Fatalf("Rejoin(%d): %s is running", i, m.Name)
	}
	if err := os.RemoveAll(m.DataDir); err != nil {
		c.tb.Fatalf("Rejoin(%d): %v", i, err)
	}
	m.Config.Join = []string{c.URL(via)}
	ctx, cancel := context.WithTimeout(context.Background(), server.JoinTimeout)
	defer cancel()
	if err := server.Join(ctx, m.Config, c.log.Named(m.Name)); err != nil {
		c.tb.Fatalf("rejoin %s: %v", m.Name, err)
	}
	c.start(i, listen(c.tb, m.ClientAddr), listen(c.tb, m.PeerAddr))
}
