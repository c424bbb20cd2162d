package transport

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"go.uber.org/zap"

	"github.com/raftlock/raftlock/consensus"
)

// SnapshotPath is the path a leader POSTs a snapshot stream to.
const SnapshotPath = "/raft/v1/snapshot"

// SnapshotContentType is the media type of a snapshot stream.
const SnapshotContentType = "application/vnd.raftlock.snapshot"

// SnapshotStore is where snapshot files are read for sending and stored when
// received (snapfile.Dir).
type SnapshotStore interface {
	// Raw opens the snapshot file at meta and returns its size.
	Raw(meta consensus.SnapshotMeta) (io.ReadCloser, int64, error)
	// Receive stores exactly size bytes of a snapshot file from r, checking
	// them against meta; only a whole, intact file is kept.
	Receive(meta consensus.SnapshotMeta, size int64, r io.Reader) error
}

// A snapshot stream is one POST whose body is a 4-byte big-endian length, the
// msgpack MsgSnap of that length, then the snapshot file exactly as stored
// (its own CRC32C trailer protects it end to end). HTTP/2 carries the body in
// flow-controlled DATA frames, so neither side holds the snapshot in memory.
// The receiver stores the file through SnapshotStore.Receive and hands the
// MsgSnap to the node only once the file is durable. A broken stream is not
// resumed: the receiver drops its temp file, the sender reports the snapshot
// undelivered, and the leader's core sends a fresh MsgSnap on its next probe.
// Restarting costs one more transfer of a file that crosses a LAN in seconds,
// and keeps no half-received state to reconcile.

// startSnapshot streams the snapshot named by m to the peer on a goroutine of
// its own, so batches (heartbeats, votes) keep flowing meanwhile. One stream
// per peer: while one is in flight, another MsgSnap is dropped unreported
// (the core is paused for this peer until the running one's report).
func (p *peer) startSnapshot(m consensus.Message) {
	p.mu.Lock()
	if p.stopped || p.snapBusy {
		p.mu.Unlock()
		return
	}
	p.snapBusy = true
	p.snapWG.Add(1)
	p.mu.Unlock()
	// Exits when the stream ends or the peer is stopped (p.ctx).
	go func() {
		defer p.snapWG.Done()
		err := p.streamSnapshot(m)
		p.mu.Lock()
		p.snapBusy = false
		p.mu.Unlock()
		if err != nil {
			p.failures.Add(1)
			p.log.Warn("snapshot not delivered", zap.Uint64("snapshot_index", uint64(m.Snapshot.Index)), zap.Error(err))
		} else {
			p.sentSnaps.Add(1)
		}
		if p.t.opts.ReportSnapshot != nil {
			p.t.opts.ReportSnapshot(p.id, err == nil)
		}
	}()
}

// streamSnapshot POSTs the snapshot file with its MsgSnap and waits for the
// peer to store it.
func (p *peer) streamSnapshot(m consensus.Message) error {
	store := p.t.opts.Snapshots
	if store == nil {
		return errors.New("transport: no snapshot store")
	}
	var msg []byte
	if err := codec.NewEncoderBytes(&msg, p.t.handle).Encode(&m); err != nil {
		return fmt.Errorf("transport: encode MsgSnap: %w", err)
	}
	assertf(len(msg) <= SnapshotMessageBytesMax, "MsgSnap of %d bytes, max %d", len(msg), SnapshotMessageBytesMax)
	file, size, err := store.Raw(*m.Snapshot)
	if err != nil {
		return fmt.Errorf("transport: open snapshot %d: %w", m.Snapshot.Index, err)
	}
	defer file.Close()
	pre := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(msg)), uint32(len(msg)))
	pre = append(pre, msg...)
	ctx, cancel := context.WithTimeout(p.ctx, SnapshotStreamTimeout)
	defer cancel()
	p.mu.Lock()
	endpoint := p.snapshotEndpoint()
	p.mu.Unlock()
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, io.MultiReader(bytes.NewReader(pre), file))
	if err != nil {
		return fmt.Errorf("transport: request to %s: %w", endpoint, err)
	}
	req.ContentLength = int64(len(pre)) + size
	req.Header.Set("Content-Type", SnapshotContentType)
	req.Header.Set(HeaderClusterID, p.t.opts.ClusterID)
	req.Header.Set(HeaderFrom, strconv.FormatUint(uint64(p.t.opts.ID), 10))
	req.Header.Set(HeaderTo, strconv.FormatUint(uint64(p.id), 10))
	resp, err := p.t.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(io.LimitReader(resp.Body, ErrorBodyBytesMax))
	if err != nil {
		return fmt.Errorf("transport: read answer to snapshot: %w", err)
	}
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("%w: snapshot: status %d: %s", ErrRejected, resp.StatusCode, bytes.TrimSpace(text))
	}
	p.log.Info("snapshot sent", zap.Uint64("snapshot_index", uint64(m.Snapshot.Index)),
		zap.Int64("bytes", size), zap.Duration("took", time.Since(start)))
	return nil
}

// snapshotEndpoint is the peer's snapshot URL. p.mu is held.
func (p *peer) snapshotEndpoint() string {
	return p.endpoint[:len(p.endpoint)-len(MessagesPath)] + SnapshotPath
}

// serveSnapshot receives a snapshot stream: headers as for a batch, then the
// MsgSnap, checked like any message plus its snapshot metadata, then the file,
// stored through SnapshotStore.Receive. 204 once the file is durable and the
// MsgSnap handed to Step; 400 for a refused stream or damaged file, 503 when
// SnapshotReceivesMax streams are already running or no store is set.
func (t *Transport) serveSnapshot(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		t.refuse(w, r, http.StatusMethodNotAllowed, fmt.Errorf("method %s, want POST", r.Method))
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != SnapshotContentType {
		t.refuse(w, r, http.StatusUnsupportedMediaType, fmt.Errorf("content type %q, want %q", r.Header.Get("Content-Type"), SnapshotContentType))
		return
	}
	from, err := t.checkHeaders(r.Header)
	if err != nil {
		t.refuse(w, r, http.StatusBadRequest, err)
		return
	}
	if t.opts.Snapshots == nil {
		t.refuse(w, r, http.StatusServiceUnavailable, errors.New("this node stores no snapshots"))
		return
	}
	select {
	case t.snapSlots <- struct{}{}:
		defer func() { <-t.snapSlots }()
	default:
		t.refuse(w, r, http.StatusServiceUnavailable, fmt.Errorf("%d snapshot streams running, max %d", SnapshotReceivesMax, SnapshotReceivesMax))
		return
	}
	// The body may take longer than a batch's ServerReadTimeout.
	if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(SnapshotStreamTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		t.log.Debug("snapshot read deadline not extended", zap.Error(err))
	}
	start := time.Now()
	m, size, err := t.readSnapshotMessage(from, r)
	if err != nil {
		t.refuse(w, r, http.StatusBadRequest, err)
		return
	}
	if err := t.opts.Snapshots.Receive(*m.Snapshot, size, r.Body); err != nil {
		t.refuse(w, r, http.StatusBadRequest, fmt.Errorf("snapshot %d: %w", m.Snapshot.Index, err))
		return
	}
	t.opts.Step(m)
	t.snapsIn.Add(1)
	t.log.Info("snapshot received", zap.Uint64("peer", uint64(from)), zap.Uint64("snapshot_index", uint64(m.Snapshot.Index)),
		zap.Int64("bytes", size), zap.Duration("took", time.Since(start)))
	w.WriteHeader(http.StatusNoContent)
}

// readSnapshotMessage reads and checks the MsgSnap that opens a snapshot
// stream and returns it with the size of the file that follows.
func (t *Transport) readSnapshotMessage(from consensus.NodeID, r *http.Request) (consensus.Message, int64, error) {
	var m consensus.Message
	var lenBuf [4]byte
	if _, err := io.ReadFull(r.Body, lenBuf[:]); err != nil {
		return m, 0, fmt.Errorf("%w: snapshot stream: %w", ErrMalformed, err)
	}
	n := binary.BigEndian.Uint32(lenBuf[:])
	if n > SnapshotMessageBytesMax {
		return m, 0, fmt.Errorf("%w: snapshot message is %d bytes, max %d", ErrMalformed, n, SnapshotMessageBytesMax)
	}
	size := r.ContentLength - 4 - int64(n)
	if r.ContentLength < 0 || size < 0 {
		return m, 0, fmt.Errorf("%w: snapshot stream of length %d with a %d-byte message", ErrMalformed, r.ContentLength, n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r.Body, buf); err != nil {
		return m, 0, fmt.Errorf("%w: snapshot message: %w", ErrMalformed, err)
	}
	if err := scanMessage(buf); err != nil {
		return m, 0, fmt.Errorf("snapshot message: %w", err)
	}
	if err := codec.NewDecoderBytes(buf, t.handle).Decode(&m); err != nil {
		return m, 0, fmt.Errorf("%w: snapshot message: %w", ErrMalformed, err)
	}
	switch {
	case m.Type != consensus.MsgSnap:
		return m, 0, fmt.Errorf("%w: snapshot stream carries %s", ErrMalformed, m.Type)
	case m.To != t.opts.ID || m.From != from:
		return m, 0, fmt.Errorf("%w: snapshot from %d to %d in a stream from %d to %d", ErrMalformed, m.From, m.To, from, t.opts.ID)
	case len(m.Entries) > 0:
		return m, 0, fmt.Errorf("%w: MsgSnap with %d entries", ErrMalformed, len(m.Entries))
	}
	if err := consensus.ValidateSnapshotMeta(m.Snapshot, m.Term); err != nil {
		return m, 0, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return m, size, nil
}
