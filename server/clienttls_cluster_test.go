// A small cluster harness for the TLS tests: servertest.Cluster has no
// client-listener TLS, so these tests start server.Node directly with the
// config each needs, on loopback listeners bound first.
package server_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/raftlock/raftlock/server"
	"github.com/raftlock/raftlock/server/servertest"
)

// tlsCluster is n nodes started from configs that differ only in name,
// addresses and data dir.
type tlsCluster struct {
	t     *testing.T
	log   *zap.Logger
	cfgs  []server.Config
	nodes []*server.Node
	stops []func()
}

// startTLSCluster starts n nodes whose configs mod adjusts (TLS files,
// reload interval) and stops them when the test ends. Peer URLs are https
// when mod sets peer TLS.
func startTLSCluster(t *testing.T, n int, log *zap.Logger, mod func(*server.Config)) *tlsCluster {
	t.Helper()
	if log == nil {
		log = zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	}
	root := t.TempDir()
	c := &tlsCluster{t: t, log: log, cfgs: make([]server.Config, n), nodes: make([]*server.Node, n), stops: make([]func(), n)}
	t.Cleanup(c.stopAll)
	clientLns := make([]net.Listener, n)
	peerLns := make([]net.Listener, n)
	for i := range n {
		clientLns[i], peerLns[i] = listenLoopback(t, "127.0.0.1:0"), listenLoopback(t, "127.0.0.1:0")
		cfg := server.DefaultConfig()
		cfg.Name = fmt.Sprintf("n%d", i+1)
		cfg.DataDir = filepath.Join(root, cfg.Name)
		cfg.ClientAddr = clientLns[i].Addr().String()
		cfg.PeerAddr = peerLns[i].Addr().String()
		cfg.HeartbeatInterval = servertest.DefaultHeartbeatInterval
		cfg.ElectionTimeout = servertest.DefaultElectionTimeout
		mod(&cfg)
		c.cfgs[i] = cfg
	}
	var members []string
	for _, cfg := range c.cfgs {
		scheme := "http"
		if cfg.TLS() {
			scheme = "https"
		}
		members = append(members, cfg.Name+"="+scheme+"://"+cfg.PeerAddr)
	}
	for i := range c.cfgs {
		c.cfgs[i].InitialCluster = strings.Join(members, ",")
		if err := c.cfgs[i].Validate(); err != nil {
			t.Fatalf("config of n%d: Validate() = %v", i+1, err)
		}
		c.start(i, clientLns[i], peerLns[i])
	}
	return c
}

func listenLoopback(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	return ln
}

// start runs node i on the given listeners.
func (c *tlsCluster) start(i int, clientLn, peerLn net.Listener) {
	c.t.Helper()
	node, err := server.New(c.cfgs[i], server.Options{
		Logger: c.log.Named(c.cfgs[i].Name), ClientListener: clientLn, PeerListener: peerLn, Seed: uint64(i + 1),
	})
	if err != nil {
		c.t.Fatalf("start %s: %v", c.cfgs[i].Name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// Exits when stop cancels ctx.
	go func() { done <- node.Run(ctx) }()
	c.nodes[i] = node
	c.stops[i] = func() {
		cancel()
		if err := <-done; err != nil {
			c.t.Errorf("%s: Run() = %v; want nil", c.cfgs[i].Name, err)
		}
	}
}

// stop stops node i and waits for it.
func (c *tlsCluster) stop(i int) {
	if c.stops[i] != nil {
		c.stops[i]()
		c.stops[i], c.nodes[i] = nil, nil
	}
}

// restart starts the stopped node i again on its addresses and data dir.
func (c *tlsCluster) restart(i int) {
	c.t.Helper()
	c.start(i, listenLoopback(c.t, c.cfgs[i].ClientAddr), listenLoopback(c.t, c.cfgs[i].PeerAddr))
}

func (c *tlsCluster) stopAll() {
	for i := range c.nodes {
		c.stop(i)
	}
}

// waitLeader waits until every running node knows the same leader and
// returns its slot.
func (c *tlsCluster) waitLeader(ctx context.Context) int {
	c.t.Helper()
	leader := -1
	err := servertest.WaitUntil(ctx, func() bool {
		leader = -1
		var id uint64
		for i, n := range c.nodes {
			if n == nil {
				continue
			}
			st := n.Status()
			if st.Lead == 0 || (id != 0 && uint64(st.Lead) != id) {
				return false
			}
			id = uint64(st.Lead)
			if n.ID() == st.Lead {
				leader = i
			}
		}
		if leader < 0 {
			return false
		}
		// The lease clock starts once the leader applied an entry of its
		// term; before that an acquire answers no_leader.
		st := c.nodes[leader].Status()
		return st.Commit > 0 && st.Applied >= st.Commit
	})
	if err != nil {
		c.t.Fatalf("no leader: %v", err)
	}
	return leader
}
