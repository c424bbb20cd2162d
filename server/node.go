package server

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/consensus/boltstore"
	"github.com/raftlock/raftlock/consensus/driver"
	"github.com/raftlock/raftlock/consensus/snapfile"
	"github.com/raftlock/raftlock/consensus/transport"
	"github.com/raftlock/raftlock/locks"
)

// Options are the parts of a node that are not settings: what tests and the
// lock table plug in.
type Options struct {
	// Logger is the process logger; nil logs nothing.
	Logger *zap.Logger
	// FSM is the state machine committed commands are applied to; nil applies
	// nothing (a node before the lock table).
	FSM StateMachine
	// ClientListener and PeerListener, when set, are used instead of binding
	// Config.ClientAddr and Config.PeerAddr (tests bind 127.0.0.1:0 first to
	// learn the ports). Run closes them.
	ClientListener net.Listener
	PeerListener   net.Listener
	// Seed seeds the election jitter; 0 draws one from crypto/rand.
	Seed uint64
	// CheckpointInterval, when set, replaces CheckpointInterval (tests
	// shorten it to see checkpoints commit).
	CheckpointInterval time.Duration
	// Now, when set, replaces time.Now as the clock of the rate limit
	// (tests step it).
	Now func() time.Time
}

// Node is one running raftlock node. Create it with New, then call Run once;
// a Node that is never run must be closed with Close.
type Node struct {
	cfg Config
	// log carries node_id (the member name) for the server's own lines;
	// baseLog is handed to the components, which add their own node_id
	// (STYLE.md §8), so no line carries the field twice.
	log     *zap.Logger
	baseLog *zap.Logger
	self    Member
	// initial are the members known at start: --initial-cluster, or the
	// directory this node was given when it joined.
	initial []Member
	// joined: this node joined a running cluster (join.go) and starts
	// with no initial voters.
	joined bool
	// clusterID names the cluster on the peer transport.
	clusterID string
	// dir is the member directory of the applied membership; memberCh
	// hands memberships from the Raft loop to the worker that updates it
	// (membership.go).
	dir      atomic.Pointer[memberDir]
	memberCh chan membershipUpdate
	// draining refuses new client requests while a leader hands off at
	// shutdown (HandOff).
	draining atomic.Bool

	// checkpointEvery is how often the leader commits CheckpointLeases.
	checkpointEvery time.Duration
	// checkpointRound orders a late keepalive's clearing write after the
	// records of its lease taken before it. It holds a token while a round
	// runs: checkpointLeases holds it from taking the round's records until
	// their proposals return, and a keepalive that must clear waits for it
	// (awaitCheckpointRound), within its request's deadline.
	checkpointRound chan struct{}
	// checkpointing, when set (tests only), runs between taking a round's
	// records and proposing them.
	checkpointing atomic.Pointer[func([]locks.Checkpoint)]

	store    *countingStore
	snaps    *snapfile.Dir
	trans    *transport.Transport
	drv      *driver.Node
	clientLn net.Listener
	peerLn   net.Listener
	client   *http.Server
	peer     *http.Server
	// certs reloads the TLS files of both listeners (certreload.go).
	certs *certReloader

	// fsm is the lock table; nil when Options.FSM plugs in another state
	// machine (then the lock API answers internal).
	fsm     *lockFSM
	hub     *hub
	metrics *metrics
	// guard holds the rate limit and wait caps of the client listener.
	guard *guard
	// echo routes the client API; api is it with the request middleware,
	// served on the client listener and, for forwarded requests, on the
	// peer listener.
	echo *echo.Echo
	api  http.Handler
	// forward proxies requests to the leader; fwdTransport is its pool.
	forward      *httputil.ReverseProxy
	fwdTransport *http.Transport
	// memberURLs learns the other members' client URLs for /v1/cluster.
	memberURLs *memberURLs
	// stopClients cancels the base context of every client request, so
	// waits, blocking reads and event streams end at shutdown.
	clientCtx   context.Context
	stopClients context.CancelFunc
	// followUps ends ShutdownFollowUpTimeout into the shutdown: it bounds
	// the proposals requests make detached from their client
	// (followUpContext).
	followUps     context.Context
	stopFollowUps context.CancelFunc
	// inflight counts the client API requests being served.
	inflight atomic.Int64

	closeOnce sync.Once
	closeErr  error
}

// New validates cfg, opens the data dir (failing fast when another process
// holds it), binds both listeners and wires the node. Nothing is served until
// Run.
func New(cfg Config, opts Options) (_ *Node, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	n := &Node{cfg: cfg, initial: cfg.Members(), clusterID: cfg.ClusterID(), memberCh: make(chan membershipUpdate, 1)}
	if err := n.loadJoin(); err != nil {
		return nil, err
	}
	n.self, _ = findMember(n.initial, cfg.Name)
	n.baseLog = log
	n.log = log.With(zap.String("node_id", cfg.Name))
	// Until Run takes over, a failure here releases what was opened so far.
	defer func() {
		if err != nil {
			err = errors.Join(err, n.Close())
		}
	}()
	if err := n.openStore(); err != nil {
		return nil, err
	}
	if err := n.listen(opts); err != nil {
		return nil, err
	}
	if err := n.wire(opts); err != nil {
		return nil, err
	}
	return n, nil
}

// openStore creates the data dir and opens the log and the snapshot
// directory in it.
func (n *Node) openStore() error {
	if err := os.MkdirAll(n.cfg.DataDir, DataDirPerm); err != nil {
		return fmt.Errorf("server: create data dir: %w", err)
	}
	path := filepath.Join(n.cfg.DataDir, StoreFileName)
	st, err := boltstore.Open(path, boltstore.Options{Logger: n.baseLog.Named("store")})
	if err != nil {
		return fmt.Errorf("server: data dir %s: %w", n.cfg.DataDir, err)
	}
	n.store = &countingStore{Store: st}
	snaps, err := snapfile.Open(filepath.Join(n.cfg.DataDir, SnapshotDirName), n.baseLog.Named("snap"))
	if err != nil {
		return fmt.Errorf("server: data dir %s: %w", n.cfg.DataDir, err)
	}
	n.snaps = snaps
	return nil
}

// listen binds the client and peer listeners, or adopts the given ones.
func (n *Node) listen(opts Options) error {
	n.clientLn, n.peerLn = opts.ClientListener, opts.PeerListener
	var err error
	if n.clientLn == nil {
		if n.clientLn, err = net.Listen("tcp", n.cfg.ClientAddr); err != nil {
			return fmt.Errorf("server: client listener: %w", err)
		}
	}
	if n.peerLn == nil {
		if n.peerLn, err = net.Listen("tcp", n.cfg.PeerAddr); err != nil {
			return fmt.Errorf("server: peer listener: %w", err)
		}
	}
	return nil
}

// wire builds the transport, the driver and both HTTP servers.
func (n *Node) wire(opts Options) error {
	serverTLS, clientTLS, err := n.setupTLS()
	if err != nil {
		return err
	}
	// The transport hands inbound messages to the driver, which needs the
	// transport to exist first; drv is set before anything is served.
	var drv *driver.Node
	n.trans, err = transport.New(transport.Options{
		ID:                n.self.ID,
		ClusterID:         n.clusterID,
		Step:              func(m consensus.Message) { drv.Step(m) },
		ReportUnreachable: func(id consensus.NodeID) { drv.ReportUnreachable(id) },
		// Fast failover: a reset or refused connection to our leader makes
		// this follower campaign after a short delay instead of a full
		// election timeout; pre-vote keeps a wrong call harmless.
		PeerDown:       func(id consensus.NodeID) { drv.PeerDown(id) },
		Snapshots:      n.snaps,
		ReportSnapshot: func(id consensus.NodeID, delivered bool) { drv.ReportSnapshot(id, delivered) },
		TLS:            serverTLS,
		ClientTLS:      clientTLS,
		Logger:         n.baseLog,
	})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	var voters []consensus.NodeID
	for _, m := range n.initial {
		if !n.joined {
			voters = append(voters, m.ID)
		}
		if m.ID == n.self.ID {
			continue
		}
		if err := n.trans.AddPeer(m.ID, m.PeerURL); err != nil {
			return fmt.Errorf("server: peer %s: %w", m.Name, err)
		}
	}
	n.hub = newHub()
	n.checkpointRound = make(chan struct{}, 1)
	n.checkpointEvery = opts.CheckpointInterval
	if n.checkpointEvery <= 0 {
		n.checkpointEvery = CheckpointInterval
	}
	fsm := opts.FSM
	if fsm == nil {
		n.fsm = newLockFSM(n.hub)
		fsm = n.fsm
	}
	seed := opts.Seed
	if seed == 0 {
		seed = randomUint64()
	}
	drv, err = driver.New(driver.Config{
		ID:              n.self.ID,
		Voters:          voters,
		Store:           n.store,
		Transport:       n.trans,
		FSM:             fsm,
		TickInterval:    n.cfg.HeartbeatInterval,
		ElectionTicks:   n.cfg.ElectionTicks(),
		HeartbeatTicks:  1,
		MaxMsgBytes:     MaxMsgBytes,
		MaxInflightMsgs: MaxInflightMsgs,
		Seed:            seed,
		Snapshots:       n.snaps,
		// Every snapshot-count applied entries; the log keeps a tail for
		// slow followers.
		SnapshotEntries:       n.cfg.snapshotCount(),
		CompactionTailEntries: CompactionTailEntries,
		OnMembership:          n.onMembership,
		Logger:                n.baseLog,
	})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	n.drv = drv
	n.startDirectory()
	n.metrics = newMetrics(n)
	n.store.observe = func(d time.Duration) { n.metrics.fsyncSeconds.observe(d.Seconds()) }
	n.forward, n.fwdTransport = n.newForwarder(clientTLS)
	n.memberURLs = newMemberURLs(n.fwdTransport)
	n.guard = newGuard(n.cfg.HTTPLimits, opts.Now)
	n.echo = n.clientHandler()
	n.api = n.echo
	n.clientCtx, n.stopClients = context.WithCancel(context.Background())
	n.followUps, n.stopFollowUps = context.WithCancel(context.Background())
	// Every phase of a client connection is bounded; the requests that
	// wait move their write deadline past their wait (harden.go says why).
	n.client = &http.Server{
		Handler:           n.api,
		ReadHeaderTimeout: n.cfg.readHeaderTimeout(),
		ReadTimeout:       ClientReadTimeout,
		WriteTimeout:      ClientWriteTimeout,
		IdleTimeout:       ClientIdleTimeout,
		MaxHeaderBytes:    HeaderBytesMax,
		BaseContext:       func(net.Listener) context.Context { return n.clientCtx },
		ErrorLog:          zap.NewStdLog(n.log.Named("client_http").WithOptions(zap.IncreaseLevel(zap.WarnLevel))),
	}
	n.peer = n.peerServer(serverTLS)
	return nil
}

// clientHandler is the echo router of the client listener.
func (n *Node) clientHandler() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = httpErrorHandler(n.log)
	e.Use(n.countInflight, n.metrics.observe(n.log), n.shutdownAnswers, n.drainAnswers)
	view := &clusterView{
		self:            n.self,
		clientURL:       n.cfg.AdvertiseClientURL,
		members:         n.memberList,
		status:          n.drv.Status,
		log:             n.log,
		electionTimeout: n.cfg.ElectionTimeout.String(),
		others: func(ctx context.Context) map[string]string {
			return n.memberURLs.lookup(ctx, n.memberList(), n.self.Name)
		},
	}
	view.register(e)
	n.registerAPI(e)
	n.registerMembers(e)
	e.GET(PathMetrics, n.metrics.handler)
	return e
}

// Run serves until ctx ends or a part of the node fails, then shuts down:
// the client listener stops accepting and in-flight requests finish (up to
// ShutdownTimeout), the Raft loop finishes its current Ready (whose write is
// fsynced before anything else happens) and stops, and the transport, the peer
// listener and the log are closed. It returns nil after a shutdown asked for
// by ctx.
func (n *Node) Run(ctx context.Context) error {
	drvCtx, stopDriver := context.WithCancel(context.Background())
	defer stopDriver()
	drvErr := make(chan error, 1)
	// Exits when stopDriver is called or persisting fails.
	go func() { drvErr <- n.drv.Run(drvCtx) }()
	memberDone := make(chan struct{})
	// Exits when stopDriver is called (step 2 below).
	go func() {
		defer close(memberDone)
		n.runMembership(drvCtx)
	}()
	promoteDone := make(chan struct{})
	// Exits once this joined node is a voter, or when stopDriver is called.
	go func() {
		defer close(promoteDone)
		if n.joined && len(n.cfg.Join) > 0 {
			n.promoteSelf(drvCtx)
		}
	}()
	peerErr := make(chan error, 1)
	// Exits when the peer server is closed below (or its listener fails).
	go func() { peerErr <- n.servePeers() }()
	clientErr := make(chan error, 1)
	// Exits when the client server is shut down or closed below.
	go func() { clientErr <- serveUntilClosed(n.client, n.clientLn) }()
	clockDone := make(chan struct{})
	// Exits when stopDriver is called (step 2 below).
	go func() {
		defer close(clockDone)
		n.runLeaseClock(drvCtx)
	}()
	certsDone := make(chan struct{})
	// Exits when stopDriver is called (step 2 below), at once without TLS.
	go func() {
		defer close(certsDone)
		n.watchCertificates(drvCtx)
	}()
	n.log.Info("node started",
		zap.String("client_url", n.ClientURL()), zap.String("peer_url", n.PeerURL()),
		zap.String("data_dir", n.cfg.DataDir), zap.Int("members", len(n.memberList())),
		zap.Uint64("raft_id", uint64(n.self.ID)))

	var cause error
	driverDone, peerDone, clientDone := false, false, false
	select {
	case <-ctx.Done():
	case cause = <-drvErr:
		driverDone = true
		cause = fmt.Errorf("server: raft loop stopped: %w", cause)
	case cause = <-peerErr:
		peerDone = true
		cause = fmt.Errorf("server: peer listener: %w", cause)
	case cause = <-clientErr:
		clientDone = true
		cause = fmt.Errorf("server: client listener: %w", cause)
	}
	n.log.Info("node stopping", zap.Error(cause))
	// 1. Stop accepting clients; end waits, blocking reads and streams
	// (their follow-up proposals still reach the driver); let in-flight
	// requests finish.
	shutCtx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	n.stopClients()
	stopFollowUps := time.AfterFunc(ShutdownFollowUpTimeout, n.stopFollowUps)
	defer stopFollowUps.Stop()
	errs := []error{cause, n.shutdownClients(shutCtx)}
	if !clientDone {
		errs = append(errs, <-clientErr)
	}
	// 2. Stop the lease clock and the Raft loop: it returns between
	// Readies, so the last write it made is complete and fsynced.
	stopDriver()
	<-clockDone
	<-memberDone
	<-promoteDone
	<-certsDone
	if !driverDone {
		errs = append(errs, <-drvErr)
	}
	// 3. Close the peer listener, the transport and the log.
	errs = append(errs, n.Close())
	if !peerDone {
		errs = append(errs, <-peerErr)
	}
	err := errors.Join(errs...)
	n.log.Info("node stopped", zap.Error(err))
	return err
}

// shutdownClients stops the client listener gracefully within ctx. The
// connections still open at the deadline are closed; that fails the
// shutdown only when a request was still running: net/http also waits (5 s)
// on a connection accepted just before the listener closed whose first
// request it has not read yet (golang/go#22682), which is no request this
// node left unfinished.
func (n *Node) shutdownClients(ctx context.Context) error {
	err := n.client.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	running := n.inflight.Load()
	closeErr := n.client.Close()
	if running > 0 {
		return errors.Join(fmt.Errorf("server: %d client requests still running at the end of the graceful shutdown: %w", running, err), closeErr)
	}
	n.log.Warn("client connections without a request closed at the end of the graceful shutdown")
	return closeErr
}

// countInflight counts the requests being served, for shutdownClients.
func (n *Node) countInflight(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		n.inflight.Add(1)
		defer n.inflight.Add(-1)
		return next(c)
	}
}

// serveUntilClosed serves ln and reports an error other than the server's
// orderly close.
func serveUntilClosed(srv *http.Server, ln net.Listener) error {
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close releases everything New opened: servers, listeners, the transport and
// the log. Run calls it; call it only for a node that is never run. It is safe
// to call twice.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		var errs []error
		// A server closes the listeners it serves; the listeners are closed
		// again in case Run never served them.
		if n.client != nil {
			errs = append(errs, n.client.Close())
		}
		if n.peer != nil {
			errs = append(errs, n.peer.Close())
		}
		for _, ln := range []net.Listener{n.clientLn, n.peerLn} {
			if ln != nil {
				errs = append(errs, ignoreClosed(ln.Close()))
			}
		}
		if n.trans != nil {
			errs = append(errs, n.trans.Close())
		}
		if n.fwdTransport != nil {
			n.fwdTransport.CloseIdleConnections()
		}
		if n.stopClients != nil {
			n.stopClients()
		}
		if n.store != nil {
			errs = append(errs, n.store.Close())
		}
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// ClientURL is the URL of the bound client listener (an advertise URL may
// differ).
func (n *Node) ClientURL() string {
	return n.cfg.clientScheme() + "://" + n.clientLn.Addr().String()
}

// PeerURL is the URL of the bound peer listener.
func (n *Node) PeerURL() string { return n.cfg.peerScheme() + "://" + n.peerLn.Addr().String() }

// Name is this node's member name.
func (n *Node) Name() string { return n.self.Name }

// ID is this node's Raft id.
func (n *Node) ID() consensus.NodeID { return n.self.ID }

// Members are the cluster's members (voters and learners) as of the last
// applied membership, sorted by name.
func (n *Node) Members() []Member { return append([]Member(nil), n.memberList()...) }

// Status is the Raft state as of the loop's last iteration.
func (n *Node) Status() consensus.Status { return n.drv.Status() }

// Propose replicates data and returns the state machine's result once it is
// applied here. It fails with consensus.ErrNotLeader on a follower.
func (n *Node) Propose(ctx context.Context, data []byte) (any, error) {
	return n.drv.Propose(ctx, data)
}

// WaitApplied returns once this node has applied index.
func (n *Node) WaitApplied(ctx context.Context, index consensus.Index) error {
	return n.drv.WaitApplied(ctx, index)
}

// LeaderChanged returns a channel closed at the next change of leader or role.
func (n *Node) LeaderChanged() <-chan struct{} { return n.drv.LeaderChanged() }

// SnapshotStats counts the snapshots this node took and installed.
func (n *Node) SnapshotStats() driver.SnapshotStats { return n.drv.SnapshotStats() }

// StoreStats counts the fsynced writes of the log since New.
func (n *Node) StoreStats() StoreStats {
	return StoreStats{Saves: n.store.saves.Load(), Entries: n.store.entries.Load()}
}

// randomUint64 draws 64 random bits: the election jitter seed (so nodes
// restarted together do not draw the same timeouts), fresh raft ids, join
// request keys.
func randomUint64() uint64 {
	var b [8]byte
	_, err := rand.Read(b[:])
	// crypto/rand.Read never returns an error (it crashes the process instead).
	assertf(err == nil, "crypto/rand: %v", err)
	return binary.LittleEndian.Uint64(b[:])
}
