package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"go.uber.org/zap"

	"github.com/raftlock/raftlock/consensus"
)

// MessagesPath is the path peers POST message batches to.
const MessagesPath = "/raft/v1/messages"

// ContentType is the media type of a message batch.
const ContentType = "application/msgpack"

// Headers every batch carries, so that a node reached by mistake (another
// cluster, another member at a reused address) refuses it clearly.
const (
	// HeaderClusterID names the sender's cluster; it must equal the receiver's.
	HeaderClusterID = "X-Raftlock-Cluster-Id"
	// HeaderFrom is the sender's NodeID in decimal; it must be a known peer and
	// equal every message's From.
	HeaderFrom = "X-Raftlock-From"
	// HeaderTo is the NodeID the sender meant to reach; it must be the receiver.
	HeaderTo = "X-Raftlock-To"
)

// ErrClosed is returned by operations on a closed Transport.
var ErrClosed = errors.New("transport: closed")

// ErrInvalidPeer is returned by AddPeer for an id or URL it cannot use.
var ErrInvalidPeer = errors.New("transport: invalid peer")

// ErrRejected is wrapped by a send error when the peer answered with a status
// other than 204: it refused the batch (another cluster, not addressed to it,
// malformed) or could not take it now.
var ErrRejected = errors.New("transport: peer rejected batch")

// Options configures a Transport.
type Options struct {
	// ID is this node's id; never consensus.None.
	ID consensus.NodeID
	// ClusterID names the cluster; batches from another cluster are refused.
	ClusterID string
	// Step hands an inbound message to the node. It must not block (the
	// driver's Node.Step queues or drops). Required.
	Step func(consensus.Message)
	// ReportUnreachable, when set, is told that a message to a peer was
	// dropped (queue full, peer failing, request failed), at most once per
	// peer per Send call and once per failed request. It must not block.
	ReportUnreachable func(consensus.NodeID)
	// PeerDown, when set, is told that a request to a peer failed because
	// its connection was refused, reset, or closed under the request without
	// a GOAWAY: the peer's process is probably gone (fast failover, DESIGN 3.2). It is called from the peer's
	// goroutine after every such failure and must not block.
	PeerDown func(consensus.NodeID)
	// TLS, when set, makes Serve speak TLS with this config. It should
	// require and verify client certificates (see LoadTLS). Nil serves h2c.
	TLS *tls.Config
	// ClientTLS, when set, is used to reach peers, whose URLs must then be
	// https. Nil reaches http peers over h2c.
	ClientTLS *tls.Config
	// Snapshots, when set, is where snapshot files are read to stream them
	// to peers and stored when peers stream theirs. Nil refuses inbound
	// streams and reports every outbound MsgSnap undelivered.
	Snapshots SnapshotStore
	// ReportSnapshot, when set, is told how each snapshot stream to a peer
	// ended (delivered: the peer stored the file and took the MsgSnap). It
	// is called from the stream's goroutine and must not block.
	ReportSnapshot func(id consensus.NodeID, delivered bool)
	// Logger is optional; nil logs nothing.
	Logger *zap.Logger
}

// Transport sends Raft messages to peers and receives theirs. Its methods are
// safe for concurrent use.
type Transport struct {
	opts   Options
	log    *zap.Logger
	handle *codec.MsgpackHandle
	client *http.Client
	h2     *http.Transport
	conns  *connSet
	// ctx is cancelled by Close; every request runs under it.
	ctx    context.Context
	cancel context.CancelFunc
	// closed is closed by Close, which stopped every peer goroutine.
	closed    chan struct{}
	closeOnce sync.Once

	received    atomic.Uint64
	batchesIn   atomic.Uint64
	rejected    atomic.Uint64
	unknownDrop atomic.Uint64
	snapsIn     atomic.Uint64
	// snapSlots bounds the snapshot streams received at once.
	snapSlots chan struct{}

	mu sync.RWMutex
	// peers are the peers Send routes to and the handler accepts from.
	peers map[consensus.NodeID]*peer
	// isClosed is set by Close under mu; AddPeer refuses afterwards.
	isClosed bool

	// probes counts the goroutines checking whether a peer whose connection
	// broke is gone; probing holds the dial addresses being checked.
	probes  sync.WaitGroup
	probing sync.Map
}

// New returns a Transport with no peers. It starts no goroutine until AddPeer.
func New(opts Options) (*Transport, error) {
	if opts.ID == consensus.None {
		return nil, errors.New("transport: Options.ID is required")
	}
	if opts.Step == nil {
		return nil, errors.New("transport: Options.Step is required")
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &Transport{
		opts:   opts,
		log:    log.Named("transport").With(zap.Uint64("node_id", uint64(opts.ID))),
		handle: newHandle(),
		ctx:    ctx,
		cancel: cancel,
		closed: make(chan struct{}),
		peers:  make(map[consensus.NodeID]*peer),

		snapSlots: make(chan struct{}, SnapshotReceivesMax),
	}
	t.conns = newConnSet(&net.Dialer{Timeout: DialTimeout})
	t.conns.onBroken = t.connBroken
	t.h2 = newHTTPTransport(opts.ClientTLS, t.conns)
	t.client = &http.Client{Transport: t.h2}
	return t, nil
}

// newHTTPTransport returns a client transport that speaks only HTTP/2: h2c to
// http URLs, h2 over TLS to https URLs. One connection per peer multiplexes
// every request; a connection silent for PingInterval is pinged and closed
// when the answer takes longer than PingTimeout.
func newHTTPTransport(clientTLS *tls.Config, conns *connSet) *http.Transport {
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	protos.SetHTTP2(true)
	tr := &http.Transport{
		DialContext:         conns.dial,
		Protocols:           &protos,
		TLSHandshakeTimeout: DialTimeout,
		HTTP2: &http.HTTP2Config{
			SendPingTimeout:  PingInterval,
			PingTimeout:      PingTimeout,
			WriteByteTimeout: RequestTimeout,
		},
	}
	if clientTLS != nil {
		tr.TLSClientConfig = clientTLS.Clone()
	}
	return tr
}

// AddPeer makes id reachable at rawURL (scheme and host, e.g.
// http://10.0.0.2:7071) and starts its sender goroutine. Adding a known id
// again changes its URL.
func (t *Transport) AddPeer(id consensus.NodeID, rawURL string) error {
	if id == consensus.None || id == t.opts.ID {
		return fmt.Errorf("%w: id %d", ErrInvalidPeer, id)
	}
	endpoint, err := t.endpoint(rawURL)
	if err != nil {
		return fmt.Errorf("peer %d: %w", id, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.isClosed {
		return ErrClosed
	}
	if p, ok := t.peers[id]; ok {
		p.setEndpoint(endpoint)
		return nil
	}
	p := newPeer(t, id, endpoint)
	t.peers[id] = p
	// Exits when RemovePeer or Close stops the peer.
	go p.run()
	t.log.Info("peer added", zap.Uint64("peer", uint64(id)), zap.String("url", endpoint))
	return nil
}

// endpoint checks rawURL against the transport's TLS setting and returns the
// URL batches are POSTed to.
func (t *Transport) endpoint(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidPeer, err)
	}
	want := "http"
	if t.opts.ClientTLS != nil {
		want = "https"
	}
	if u.Scheme != want {
		return "", fmt.Errorf("%w: url %q has scheme %q, want %q", ErrInvalidPeer, rawURL, u.Scheme, want)
	}
	if u.Host == "" {
		return "", fmt.Errorf("%w: url %q has no host", ErrInvalidPeer, rawURL)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("%w: url %q must be scheme://host:port only", ErrInvalidPeer, rawURL)
	}
	return u.Scheme + "://" + u.Host + MessagesPath, nil
}

// RemovePeer stops sending to id, drops what is queued for it, refuses its
// batches from now on, and waits for its goroutine to exit. An unknown id is
// a no-op.
func (t *Transport) RemovePeer(id consensus.NodeID) {
	t.mu.Lock()
	p, ok := t.peers[id]
	delete(t.peers, id)
	t.mu.Unlock()
	if ok {
		p.stop()
		t.log.Info("peer removed", zap.Uint64("peer", uint64(id)))
	}
}

// Send queues msgs for their peers and returns at once; it never blocks on the
// network. A message to an unknown peer, to a peer in reconnect backoff, or to
// a full queue is dropped, and its peer is reported unreachable. A MsgSnap
// starts a snapshot stream instead (see startSnapshot). Send keeps
// msgs' Entries and Context until they are encoded: the caller must not modify
// them afterwards.
func (t *Transport) Send(msgs []consensus.Message) {
	var unreachable []consensus.NodeID
	t.mu.RLock()
	for i := range msgs {
		p := t.peers[msgs[i].To]
		if p == nil {
			t.unknownDrop.Add(1)
			t.log.Debug("message to unknown peer dropped", zap.Uint64("peer", uint64(msgs[i].To)))
			continue
		}
		if msgs[i].Type == consensus.MsgSnap {
			p.startSnapshot(msgs[i])
			continue
		}
		if !p.enqueue(msgs[i]) && !containsID(unreachable, p.id) {
			unreachable = append(unreachable, p.id)
		}
	}
	t.mu.RUnlock()
	if t.opts.ReportUnreachable != nil {
		for _, id := range unreachable {
			t.opts.ReportUnreachable(id)
		}
	}
}

func containsID(ids []consensus.NodeID, id consensus.NodeID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// knownPeer reports whether id is a peer of this transport.
func (t *Transport) knownPeer(id consensus.NodeID) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	_, ok := t.peers[id]
	return ok
}

// Close stops every peer goroutine, cancels requests in flight, makes Serve
// return, and waits. Queued messages are dropped. It is safe to call twice.
func (t *Transport) Close() error {
	t.closeOnce.Do(func() {
		t.mu.Lock()
		t.isClosed = true
		peers := t.peers
		t.peers = make(map[consensus.NodeID]*peer)
		t.mu.Unlock()
		t.cancel()
		for _, p := range peers {
			p.stop()
		}
		t.h2.CloseIdleConnections()
		t.conns.closeAll()
		t.probes.Wait()
		close(t.closed)
		t.log.Info("transport closed")
	})
	return nil
}

// PeerStats are one peer's counters since it was added.
type PeerStats struct {
	ID consensus.NodeID
	// QueueDepth is the messages waiting now.
	QueueDepth int
	// SentMessages, SentBatches and SentBytes count what the peer accepted.
	SentMessages uint64
	SentBatches  uint64
	SentBytes    uint64
	// DroppedMessages counts messages dropped: queue full, peer failing,
	// request failed, or too large to encode within the bounds.
	DroppedMessages uint64
	// Failures counts failed requests.
	Failures uint64
	// SentSnapshots counts snapshot streams the peer stored.
	SentSnapshots uint64
	// Failing is true while the peer is in reconnect backoff.
	Failing bool
}

// Stats are the transport's counters, for metrics.
type Stats struct {
	// Peers holds one entry per peer, sorted by ID.
	Peers []PeerStats
	// ReceivedMessages and ReceivedBatches count what the handler accepted
	// and handed to Step.
	ReceivedMessages uint64
	ReceivedBatches  uint64
	// RejectedRequests counts inbound requests refused (4xx).
	RejectedRequests uint64
	// UnknownPeerDrops counts messages Send dropped for want of a peer.
	UnknownPeerDrops uint64
	// ReceivedSnapshots counts snapshot streams stored and handed to Step.
	ReceivedSnapshots uint64
}

// Stats returns the current counters.
func (t *Transport) Stats() Stats {
	t.mu.RLock()
	st := Stats{Peers: make([]PeerStats, 0, len(t.peers))}
	for _, p := range t.peers {
		st.Peers = append(st.Peers, p.stats())
	}
	t.mu.RUnlock()
	sort.Slice(st.Peers, func(i, j int) bool { return st.Peers[i].ID < st.Peers[j].ID })
	st.ReceivedMessages = t.received.Load()
	st.ReceivedBatches = t.batchesIn.Load()
	st.RejectedRequests = t.rejected.Load()
	st.UnknownPeerDrops = t.unknownDrop.Load()
	st.ReceivedSnapshots = t.snapsIn.Load()
	return st
}
