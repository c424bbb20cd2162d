package snapfile

// FuzzParse feeds the reader of snapshot files (Load reads them from disk,
// Receive from a peer's stream) arbitrary bytes and proves that it never
// panics, that every refusal wraps ErrCorrupt, and that what it accepts is a
// file whose trailer really holds the payload's length and the CRC32C of all
// that precedes it, with the metadata the caller asked for, and whose payload
// is exactly the bytes between header and trailer. Seeds:
// testdata/fuzz/FuzzParse.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/raftlock/raftlock/consensus"
)

// fuzzFile builds a whole snapshot file of meta holding payload, in memory.
func fuzzFile(tb testing.TB, d *Dir, meta consensus.SnapshotMeta, payload []byte) []byte {
	tb.Helper()
	hdr, err := d.header(meta)
	if err != nil {
		tb.Fatalf("header(%+v) = %v; want nil", meta, err)
	}
	b := append(hdr, payload...)
	b = binary.BigEndian.AppendUint64(b, uint64(len(payload)))
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, d.table))
}

func FuzzParse(f *testing.F) {
	d, err := Open(filepath.Join(f.TempDir(), "snap"), nil)
	if err != nil {
		f.Fatalf("Open = %v; want nil", err)
	}
	valid := fuzzFile(f, d, testMeta, []byte("the lock table"))
	f.Add(valid, false)
	f.Add(valid, true)
	f.Add(fuzzFile(f, d, testMeta, nil), false)
	joint := consensus.SnapshotMeta{Index: 42, Term: 3, Voters: []consensus.NodeID{1, 2, 3},
		Outgoing: []consensus.NodeID{1, 2}, Learners: []consensus.NodeID{4}, ConfContext: []byte("ctx")}
	f.Add(fuzzFile(f, d, joint, []byte{0}), false)
	f.Add([]byte(magic), false)
	f.Add(append([]byte(magic), 0xff, 0xff, 0xff, 0xff), false)

	f.Fuzz(func(t *testing.T, file []byte, oneByte bool) {
		checkParse(t, d, file, testMeta, oneByte)
		checkParse(t, d, file, joint, oneByte)
	})
}

func checkParse(t *testing.T, d *Dir, file []byte, want consensus.SnapshotMeta, oneByte bool) {
	var r io.Reader = bytes.NewReader(file)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	payload, err := parseAll(d, r, int64(len(file)), want)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("parse(%x) = %v; want an error wrapping ErrCorrupt", file, err)
		}
		return
	}
	n := len(file)
	metaLen := int(binary.BigEndian.Uint32(file[magicBytes:]))
	if string(file[:magicBytes]) != magic || headerBytes+metaLen+len(payload)+trailerBytes != n {
		t.Fatalf("parse(%x) accepted %d payload bytes after %d metadata bytes in a %d-byte file", file, len(payload), metaLen, n)
	}
	if got := binary.BigEndian.Uint64(file[n-trailerBytes:]); got != uint64(len(payload)) {
		t.Fatalf("parse(%x) accepted a trailer of %d payload bytes; read %d", file, got, len(payload))
	}
	if got, sum := binary.BigEndian.Uint32(file[n-4:]), crc32.Checksum(file[:n-4], d.table); got != sum {
		t.Fatalf("parse(%x) accepted crc %08x; the bytes sum to %08x", file, got, sum)
	}
	if !bytes.Equal(payload, file[headerBytes+metaLen:n-trailerBytes]) {
		t.Fatalf("parse(%x) payload = %x; want the bytes between header and trailer", file, payload)
	}
}

// parseAll parses a file and reads its payload to the end, as Load's caller
// and Receive do.
func parseAll(d *Dir, r io.Reader, size int64, want consensus.SnapshotMeta) ([]byte, error) {
	pr, err := d.parse(r, size, "fuzz", want)
	if err != nil {
		return nil, err
	}
	payload, err := io.ReadAll(pr)
	if err != nil {
		return nil, err
	}
	if uint64(len(payload)) != pr.payload {
		return nil, errors.New("payload length differs from the header's promise")
	}
	return payload, pr.drain()
}
