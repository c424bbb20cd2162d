package transport

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/raftlock/raftlock/consensus"
)

// Handler returns the http.Handler that receives peers' batches at
// MessagesPath and snapshot streams at SnapshotPath (any other path is 404). It answers 204 once every message was
// handed to Options.Step; 400 for a body or header it refuses, 413 for a body
// past BodyBytesMax, 405 and 415 for the wrong method or media type. Nothing
// of a refused batch reaches Step.
func (t *Transport) Handler() http.Handler {
	return http.HandlerFunc(t.serveMessages)
}

func (t *Transport) serveMessages(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == SnapshotPath {
		t.serveSnapshot(w, r)
		return
	}
	if r.URL.Path != MessagesPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		t.refuse(w, r, http.StatusMethodNotAllowed, fmt.Errorf("method %s, want POST", r.Method))
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != ContentType {
		t.refuse(w, r, http.StatusUnsupportedMediaType, fmt.Errorf("content type %q, want %q", r.Header.Get("Content-Type"), ContentType))
		return
	}
	from, err := t.checkHeaders(r.Header)
	if err != nil {
		t.refuse(w, r, http.StatusBadRequest, err)
		return
	}
	body, status, err := readBody(w, r)
	if err != nil {
		t.refuse(w, r, status, err)
		return
	}
	msgs, err := decodeBatch(t.handle, body)
	if err == nil {
		err = t.validateBatch(from, msgs)
	}
	if err != nil {
		t.refuse(w, r, http.StatusBadRequest, err)
		return
	}
	for i := range msgs {
		t.opts.Step(msgs[i])
	}
	t.received.Add(uint64(len(msgs)))
	t.batchesIn.Add(1)
	t.log.Debug("batch received", zap.Uint64("peer", uint64(from)), zap.Int("messages", len(msgs)), zap.Int("bytes", len(body)))
	w.WriteHeader(http.StatusNoContent)
}

// checkHeaders checks that the request was meant for this node of this
// cluster and comes from a known peer, whose id it returns.
func (t *Transport) checkHeaders(h http.Header) (consensus.NodeID, error) {
	if got := h.Get(HeaderClusterID); got != t.opts.ClusterID {
		return 0, fmt.Errorf("cluster id %q, this node is in cluster %q", got, t.opts.ClusterID)
	}
	to, err := parseNodeID(h, HeaderTo)
	if err != nil {
		return 0, err
	}
	if to != t.opts.ID {
		return 0, fmt.Errorf("batch for node %d reached node %d", to, t.opts.ID)
	}
	from, err := parseNodeID(h, HeaderFrom)
	if err != nil {
		return 0, err
	}
	if !t.knownPeer(from) {
		return 0, fmt.Errorf("node %d is not a peer of node %d", from, t.opts.ID)
	}
	return from, nil
}

func parseNodeID(h http.Header, name string) (consensus.NodeID, error) {
	v, err := strconv.ParseUint(h.Get(name), 10, 64)
	if err != nil || v == uint64(consensus.None) {
		return 0, fmt.Errorf("header %s is %q, want a node id", name, h.Get(name))
	}
	return consensus.NodeID(v), nil
}

// readBody reads the whole body, at most BodyBytesMax bytes. On error it
// returns the status to answer.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	if r.ContentLength > BodyBytesMax {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body is %d bytes, max %d", r.ContentLength, BodyBytesMax)
	}
	limited := http.MaxBytesReader(w, r.Body, BodyBytesMax)
	var body []byte
	var err error
	if r.ContentLength >= 0 {
		body, err = readDeclared(limited, int(r.ContentLength))
	} else {
		body, err = io.ReadAll(limited)
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body is over %d bytes, max %d", tooLarge.Limit, BodyBytesMax)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("read body: %w", err)
	}
	return body, 0, nil
}

// readDeclared reads a body of n declared bytes into a buffer that ends up
// exactly n long. It grows by doubling from BodyInitialBytes as bytes arrive,
// so a sender that declares much and sends little costs at most twice what it
// sent, and a large body is not copied into a buffer twice its size at the
// end, as append growth does.
func readDeclared(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, 0, min(n, BodyInitialBytes))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			next := make([]byte, len(buf), min(n, 2*cap(buf)))
			copy(next, buf)
			buf = next
		}
		got, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+got]
		if err == io.EOF && len(buf) < n {
			return nil, fmt.Errorf("body ended after %d of %d bytes: %w", len(buf), n, io.ErrUnexpectedEOF)
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
	}
	return buf, nil
}

// validateBatch checks every message's addressing and type. The core checks
// the rest (terms, indexes) when it steps them.
func (t *Transport) validateBatch(from consensus.NodeID, msgs []consensus.Message) error {
	for i := range msgs {
		m := &msgs[i]
		if !m.Type.Valid() {
			return fmt.Errorf("%w: message %d has type %s", ErrMalformed, i, m.Type)
		}
		if m.Type == consensus.MsgSnap {
			// Only a snapshot stream, whose data is stored first, may carry one.
			return fmt.Errorf("%w: message %d is a MsgSnap outside a snapshot stream", ErrMalformed, i)
		}
		if m.To != t.opts.ID {
			return fmt.Errorf("%w: message %d is to node %d, this is node %d", ErrMalformed, i, m.To, t.opts.ID)
		}
		if m.From != from {
			return fmt.Errorf("%w: message %d is from node %d, the batch from node %d", ErrMalformed, i, m.From, from)
		}
	}
	return nil
}

// refuse answers status with err's text and warns on the first refusal and
// every RejectLogEvery after it.
func (t *Transport) refuse(w http.ResponseWriter, r *http.Request, status int, err error) {
	n := t.rejected.Add(1)
	if n == 1 || n%RejectLogEvery == 0 {
		t.log.Warn("peer request refused", zap.String("remote", r.RemoteAddr), zap.Int("status", status),
			zap.Uint64("refused", n), zap.Error(err))
	}
	text := err.Error()
	if len(text) > ErrorBodyBytesMax {
		text = text[:ErrorBodyBytesMax]
	}
	http.Error(w, text, status)
}
