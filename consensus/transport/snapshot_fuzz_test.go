package transport

// FuzzSnapshotMessage feeds the reader of a snapshot stream's opening (the
// length-prefixed MsgSnap a peer POSTs before the file) arbitrary bytes and
// proves that it never panics, that every refusal wraps ErrMalformed, that
// what it accepts is a MsgSnap to this node from the stream's sender with
// valid snapshot metadata and no entries, that the file size it returns is
// what the declared length leaves, and that the message survives an
// encode/decode round trip. Seeds: testdata/fuzz/FuzzSnapshotMessage.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/raftlock/raftlock/consensus"
)

// fuzzSnapFrom and fuzzSnapTo address the fuzzed streams.
const (
	fuzzSnapFrom consensus.NodeID = 2
	fuzzSnapTo   consensus.NodeID = 1
)

func FuzzSnapshotMessage(f *testing.F) {
	h := newHandle()
	for _, m := range []consensus.Message{
		{Type: consensus.MsgSnap, From: fuzzSnapFrom, To: fuzzSnapTo, Term: 4,
			Snapshot: &consensus.SnapshotMeta{Index: 9, Term: 3, Voters: []consensus.NodeID{1, 2, 3}}},
		{Type: consensus.MsgSnap, From: fuzzSnapFrom, To: fuzzSnapTo, Term: 4,
			Snapshot: &consensus.SnapshotMeta{Index: 9, Term: 3, Voters: []consensus.NodeID{1, 2, 3},
				Outgoing: []consensus.NodeID{1, 2}, Learners: []consensus.NodeID{4}, ConfContext: []byte("ctx")}},
		{Type: consensus.MsgSnap, From: fuzzSnapFrom, To: fuzzSnapTo, Term: 4}, // no snapshot
		{Type: consensus.MsgApp, From: fuzzSnapFrom, To: fuzzSnapTo, Term: 4},
	} {
		var enc []byte
		if err := codec.NewEncoderBytes(&enc, h).Encode(&m); err != nil {
			f.Fatal(err)
		}
		body := binary.BigEndian.AppendUint32(nil, uint32(len(enc)))
		f.Add(append(append(body, enc...), "file bytes"...), int64(0))
	}
	f.Add([]byte{0, 0, 0, 0}, int64(-5))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, int64(1<<40))

	tr := &Transport{opts: Options{ID: fuzzSnapTo}, handle: h}
	f.Fuzz(func(t *testing.T, body []byte, extra int64) {
		// extra moves the declared Content-Length away from the body's, as a
		// sender may; -1 is "unknown".
		length := int64(len(body)) + extra
		if extra < -int64(len(body)) {
			length = -1
		}
		req, err := http.NewRequest(http.MethodPost, "http://node"+SnapshotPath, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = length
		m, size, err := tr.readSnapshotMessage(fuzzSnapFrom, req)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("readSnapshotMessage(%x) = %v; want an error wrapping ErrMalformed", body, err)
			}
			return
		}
		n := int64(binary.BigEndian.Uint32(body))
		switch {
		case m.Type != consensus.MsgSnap || m.From != fuzzSnapFrom || m.To != fuzzSnapTo || len(m.Entries) != 0:
			t.Fatalf("readSnapshotMessage(%x) accepted %+v; want a MsgSnap from %d to %d without entries", body, m, fuzzSnapFrom, fuzzSnapTo)
		case consensus.ValidateSnapshotMeta(m.Snapshot, m.Term) != nil:
			t.Fatalf("readSnapshotMessage(%x) accepted snapshot metadata %+v: %v", body, m.Snapshot, consensus.ValidateSnapshotMeta(m.Snapshot, m.Term))
		case n > SnapshotMessageBytesMax:
			t.Fatalf("readSnapshotMessage(%x) accepted a %d-byte message; want at most %d", body, n, SnapshotMessageBytesMax)
		case size != length-4-n || size < 0:
			t.Fatalf("readSnapshotMessage(%x) with length %d = size %d; want %d", body, length, size, length-4-n)
		}
		var again []byte
		if err := codec.NewEncoderBytes(&again, h).Encode(&m); err != nil {
			t.Fatalf("encode(accepted %+v) = %v; want nil", m, err)
		}
		var back consensus.Message
		if err := codec.NewDecoderBytes(again, h).Decode(&back); err != nil {
			t.Fatalf("decode(re-encoded %+v) = %v; want nil", m, err)
		}
		if got, want := normalize([]consensus.Message{back}), normalize([]consensus.Message{m}); !reflect.DeepEqual(normalizeSnap(got[0]), normalizeSnap(want[0])) {
			t.Fatalf("round trip of %x changed %+v into %+v", body, m, back)
		}
	})
}

// normalizeSnap makes the snapshot metadata's empty and nil slices equal.
func normalizeSnap(m consensus.Message) consensus.Message {
	if m.Snapshot == nil {
		return m
	}
	s := *m.Snapshot
	for _, p := range []*[]consensus.NodeID{&s.Voters, &s.Outgoing, &s.Learners} {
		if len(*p) == 0 {
			*p = nil
		}
	}
	if len(s.ConfContext) == 0 {
		s.ConfContext = nil
	}
	m.Snapshot = &s
	return m
}
