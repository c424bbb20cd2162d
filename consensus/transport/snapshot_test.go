package transport

// These tests prove snapshot streams between real transports: a MsgSnap
// reaches the peer's node only after the file is stored there intact and the
// sender hears it was delivered; a missing file, a receiver without a store,
// a stream broken half way and damaged bytes all end with the sender told
// "undelivered", nothing stepped and nothing left in the receiver's dir; a
// MsgSnap is refused outside a stream.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/consensus/snapfile"
)

// snapReport is one ReportSnapshot call.
type snapReport struct {
	id        consensus.NodeID
	delivered bool
}

// snapNode is a node with a snapshot dir and a channel of its reports.
type snapNode struct {
	*node
	dir     *snapfile.Dir
	reports chan snapReport
}

func startSnapNode(t *testing.T, id consensus.NodeID, store func(*snapfile.Dir) SnapshotStore) *snapNode {
	t.Helper()
	dir, err := snapfile.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	sn := &snapNode{dir: dir, reports: make(chan snapReport, 16)}
	sn.node = startNode(t, id, func(o *Options) {
		if store != nil {
			o.Snapshots = store(dir)
		}
		o.ReportSnapshot = func(id consensus.NodeID, ok bool) { sn.reports <- snapReport{id, ok} }
	})
	return sn
}

func withDir(d *snapfile.Dir) SnapshotStore { return d }

var snapMeta = consensus.SnapshotMeta{Index: 500, Term: 4, Voters: []consensus.NodeID{1, 2, 3}}

// writeSnapshot stores a snapshot of n payload bytes in d.
func writeSnapshot(t *testing.T, d *snapfile.Dir, n int) []byte {
	t.Helper()
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = byte(i * 13)
	}
	w, err := d.Create(snapMeta)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(payload); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return payload
}

func snapMsg(from, to consensus.NodeID) consensus.Message {
	meta := snapMeta
	return consensus.Message{Type: consensus.MsgSnap, From: from, To: to, Term: 5, Snapshot: &meta}
}

func waitReport(t *testing.T, sn *snapNode) snapReport {
	t.Helper()
	select {
	case r := <-sn.reports:
		return r
	case <-time.After(testDeadline):
		t.Fatalf("no ReportSnapshot within %v", testDeadline)
	}
	return snapReport{}
}

// dirEmpty reports whether d holds no file at all (no snapshot, no temp file).
func dirEmpty(d *snapfile.Dir) bool {
	ents, err := os.ReadDir(d.Path())
	return err == nil && len(ents) == 0
}

func TestSnapshotStreamDelivers(t *testing.T) {
	a := startSnapNode(t, 1, withDir)
	b := startSnapNode(t, 2, withDir)
	connect(t, a.node, b.node)
	// Larger than the HTTP/2 receive window, so flow control paces it.
	payload := writeSnapshot(t, a.dir, 9<<20)
	// A heartbeat in the same Send travels beside the stream.
	a.tr.Send([]consensus.Message{snapMsg(1, 2), {Type: consensus.MsgHeartbeat, From: 1, To: 2, Term: 5}})
	if r := waitReport(t, a); r != (snapReport{2, true}) {
		t.Fatalf("ReportSnapshot = %+v; want peer 2 delivered", r)
	}
	got := receive(t, b.node, 2)
	var snap *consensus.Message
	for i := range got {
		if got[i].Type == consensus.MsgSnap {
			snap = &got[i]
		}
	}
	if snap == nil || snap.Snapshot.Index != snapMeta.Index || snap.Term != 5 {
		t.Fatalf("received %+v; want the MsgSnap of snapshot %d", got, snapMeta.Index)
	}
	p, err := b.dir.Load(snapMeta)
	if err != nil {
		t.Fatalf("Load on the receiver = %v; want nil", err)
	}
	stored, err := io.ReadAll(p)
	if err = errors.Join(err, p.Close()); err != nil || !bytes.Equal(stored, payload) {
		t.Fatalf("receiver stored %d bytes, %v; want the %d-byte payload", len(stored), err, len(payload))
	}
	if st := b.tr.Stats(); st.ReceivedSnapshots != 1 {
		t.Fatalf("ReceivedSnapshots = %d; want 1", st.ReceivedSnapshots)
	}
}

// brokenStore streams only the first cut bytes of each file, then fails.
type brokenStore struct {
	*snapfile.Dir
	cut int64
}

func (s brokenStore) Raw(meta consensus.SnapshotMeta) (io.ReadCloser, int64, error) {
	rc, size, err := s.Dir.Raw(meta)
	if err != nil {
		return nil, 0, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(io.LimitReader(rc, s.cut), errReader{}), rc}, size, nil
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk went away") }

func TestSnapshotStreamFailures(t *testing.T) {
	tests := []struct {
		name      string
		sender    func(*snapfile.Dir) SnapshotStore
		receiver  func(*snapfile.Dir) SnapshotStore
		writeFile bool
	}{
		{name: "file missing", sender: withDir, receiver: withDir},
		{name: "receiver has no store", sender: withDir, writeFile: true},
		{name: "stream broken half way", sender: func(d *snapfile.Dir) SnapshotStore { return brokenStore{d, 1 << 20} },
			receiver: withDir, writeFile: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := startSnapNode(t, 1, tt.sender)
			b := startSnapNode(t, 2, tt.receiver)
			connect(t, a.node, b.node)
			if tt.writeFile {
				writeSnapshot(t, a.dir, 3<<20)
			}
			a.tr.Send([]consensus.Message{snapMsg(1, 2)})
			if r := waitReport(t, a); r != (snapReport{2, false}) {
				t.Fatalf("ReportSnapshot = %+v; want peer 2 undelivered", r)
			}
			ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
			defer cancel()
			// The receiver's handler may still be unwinding.
			waitUntil(t, ctx, func() bool { return dirEmpty(b.dir) })
			select {
			case m := <-b.got:
				t.Fatalf("receiver stepped %s; want nothing", m.Type)
			default:
			}
		})
	}
}

// streamBody builds a snapshot stream body: length, message, file.
func streamBody(t *testing.T, m consensus.Message, file []byte) []byte {
	t.Helper()
	var enc []byte
	if err := codec.NewEncoderBytes(&enc, newHandle()).Encode(&m); err != nil {
		t.Fatal(err)
	}
	body := binary.BigEndian.AppendUint32(nil, uint32(len(enc)))
	return append(append(body, enc...), file...)
}

func TestSnapshotHandlerRefusals(t *testing.T) {
	b := startSnapNode(t, 2, withDir)
	if err := b.tr.AddPeer(1, "http://127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	src, err := snapfile.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	writeSnapshot(t, src, 1000)
	rc, _, err := src.Raw(snapMeta)
	if err != nil {
		t.Fatal(err)
	}
	file, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Clone(file)
	damaged[len(damaged)/2] ^= 1
	otherTerm := snapMsg(1, 2)
	otherTerm.Snapshot = &consensus.SnapshotMeta{Index: 500, Term: 6, Voters: snapMeta.Voters}
	notSnap := snapMsg(1, 2)
	notSnap.Type = consensus.MsgApp
	notSnap.Snapshot = nil
	tests := []struct {
		name       string
		path       string
		body       []byte
		wantStatus int
	}{
		{name: "damaged file", path: SnapshotPath, body: streamBody(t, snapMsg(1, 2), damaged), wantStatus: http.StatusBadRequest},
		{name: "truncated file", path: SnapshotPath, body: streamBody(t, snapMsg(1, 2), file[:500]), wantStatus: http.StatusBadRequest},
		{name: "metadata not the file's", path: SnapshotPath, body: streamBody(t, otherTerm, file), wantStatus: http.StatusBadRequest},
		{name: "snapshot term above message term", path: SnapshotPath, body: streamBody(t, func() consensus.Message {
			m := snapMsg(1, 2)
			m.Term = 3
			return m
		}(), file), wantStatus: http.StatusBadRequest},
		{name: "not a MsgSnap", path: SnapshotPath, body: streamBody(t, notSnap, file), wantStatus: http.StatusBadRequest},
		{name: "message length past the bound", path: SnapshotPath, body: binary.BigEndian.AppendUint32(nil, SnapshotMessageBytesMax+1), wantStatus: http.StatusBadRequest},
		{name: "MsgSnap in a batch", path: MessagesPath, body: func() []byte {
			b, err := encodeBatch(newHandle(), nil, []consensus.Message{snapMsg(1, 2)})
			if err != nil {
				t.Fatal(err)
			}
			return b
		}(), wantStatus: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, tt.path, bytes.NewReader(tt.body))
			ct := SnapshotContentType
			if tt.path == MessagesPath {
				ct = ContentType
			}
			req.Header.Set("Content-Type", ct)
			req.Header.Set(HeaderClusterID, testCluster)
			req.Header.Set(HeaderFrom, strconv.Itoa(1))
			req.Header.Set(HeaderTo, strconv.Itoa(2))
			rec := httptest.NewRecorder()
			b.tr.Handler().ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("POST %s (%s) = %d %s; want %d", tt.path, tt.name, rec.Code, rec.Body, tt.wantStatus)
			}
			if !dirEmpty(b.dir) {
				t.Fatalf("receiver dir not empty after a refused stream")
			}
			select {
			case m := <-b.got:
				t.Fatalf("receiver stepped %s; want nothing", m.Type)
			default:
			}
		})
	}
}
