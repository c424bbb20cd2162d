package snapfile

// These tests prove the snapshot file's promises: what is committed loads
// back byte for byte; any damaged byte, a truncation or the wrong metadata
// fails with ErrCorrupt before io.EOF (so a state machine reading to the end
// never accepts it); Receive renames only whole, intact files and leaves
// nothing behind otherwise; Open clears crash leftovers; Prune keeps the
// snapshot in use and newer ones.

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

var testMeta = consensus.SnapshotMeta{Index: 42, Term: 3, Voters: []consensus.NodeID{1, 2, 3}}

func openDir(t *testing.T) *Dir {
	t.Helper()
	d, err := Open(filepath.Join(t.TempDir(), "snap"), nil)
	if err != nil {
		t.Fatalf("Open = %v; want nil", err)
	}
	return d
}

func write(t *testing.T, d *Dir, meta consensus.SnapshotMeta, payload []byte) int64 {
	t.Helper()
	w, err := d.Create(meta)
	if err != nil {
		t.Fatalf("Create(%d) = %v; want nil", meta.Index, err)
	}
	if _, err := w.Write(payload); err != nil {
		t.Fatalf("Write = %v; want nil", err)
	}
	size, err := w.Commit()
	if err != nil {
		t.Fatalf("Commit = %v; want nil", err)
	}
	return size
}

// load reads meta's whole payload and closes it.
func load(d *Dir, meta consensus.SnapshotMeta) ([]byte, error) {
	p, err := d.Load(meta)
	if err != nil {
		return nil, err
	}
	got, err := io.ReadAll(p)
	return got, errors.Join(err, p.Close())
}

func payloadOf(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 1000, 3*bufferBytes + 17} {
		d := openDir(t)
		want := payloadOf(n)
		size := write(t, d, testMeta, want)
		got, err := load(d, testMeta)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("load of a %d-byte payload = %d bytes, %v; want the payload, nil", n, len(got), err)
		}
		if st, err := os.Stat(d.File(testMeta)); err != nil || st.Size() != size {
			t.Fatalf("file size = %v, %v; want %d", st, err, size)
		}
	}
}

func TestLoadRefusesDamage(t *testing.T) {
	payload := payloadOf(5000)
	tests := []struct {
		name    string
		damage  func(b []byte) []byte
		wantErr error
	}{
		{name: "magic", damage: func(b []byte) []byte { b[0] ^= 1; return b }, wantErr: ErrCorrupt},
		{name: "metadata length", damage: func(b []byte) []byte { b[magicBytes] = 0xff; return b }, wantErr: ErrCorrupt},
		{name: "metadata", damage: func(b []byte) []byte { b[headerBytes+2] ^= 0x40; return b }, wantErr: ErrCorrupt},
		{name: "payload byte", damage: func(b []byte) []byte { b[len(b)/2] ^= 1; return b }, wantErr: ErrCorrupt},
		{name: "payload length", damage: func(b []byte) []byte { b[len(b)-trailerBytes+7] ^= 1; return b }, wantErr: ErrCorrupt},
		{name: "checksum", damage: func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, wantErr: ErrCorrupt},
		{name: "truncated", damage: func(b []byte) []byte { return b[:len(b)-100] }, wantErr: ErrCorrupt},
		{name: "truncated to nothing", damage: func(b []byte) []byte { return b[:3] }, wantErr: ErrCorrupt},
		{name: "extra byte", damage: func(b []byte) []byte { return append(b, 0) }, wantErr: ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := openDir(t)
			write(t, d, testMeta, payload)
			path := d.File(testMeta)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tt.damage(b), filePerm); err != nil {
				t.Fatal(err)
			}
			if _, err := load(d, testMeta); !errors.Is(err, tt.wantErr) {
				t.Fatalf("load(%s) = %v; want %v", tt.name, err, tt.wantErr)
			}
		})
	}
}

func TestLoadWrongMetaOrMissing(t *testing.T) {
	d := openDir(t)
	write(t, d, testMeta, payloadOf(10))
	if _, err := load(d, consensus.SnapshotMeta{Index: 43, Term: 3, Voters: testMeta.Voters}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("load(43) = %v; want ErrNotFound", err)
	}
	// A file renamed to another snapshot's name holds the wrong metadata.
	other := consensus.SnapshotMeta{Index: 50, Term: 3, Voters: testMeta.Voters}
	if err := os.Rename(d.File(testMeta), d.File(other)); err != nil {
		t.Fatal(err)
	}
	if _, err := load(d, other); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("load of a renamed file = %v; want ErrCorrupt", err)
	}
}

func TestReceive(t *testing.T) {
	src := openDir(t)
	payload := payloadOf(2*bufferBytes + 5)
	write(t, src, testMeta, payload)
	raw := func() []byte {
		rc, _, err := src.Raw(testMeta)
		if err != nil {
			t.Fatalf("Raw = %v; want nil", err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}()
	tests := []struct {
		name    string
		meta    consensus.SnapshotMeta
		body    []byte
		size    int64
		wantErr error
	}{
		{name: "intact", meta: testMeta, body: raw, size: int64(len(raw))},
		{name: "other metadata", meta: consensus.SnapshotMeta{Index: 42, Term: 4, Voters: testMeta.Voters}, body: raw, size: int64(len(raw)), wantErr: ErrCorrupt},
		{name: "flipped byte", meta: testMeta, body: flip(raw, len(raw)/3), size: int64(len(raw)), wantErr: ErrCorrupt},
		{name: "stream cut short", meta: testMeta, body: raw[:len(raw)/2], size: int64(len(raw)), wantErr: ErrCorrupt},
		{name: "declared short", meta: testMeta, body: raw, size: int64(len(raw) - 1), wantErr: ErrCorrupt},
		{name: "too large", meta: testMeta, body: raw, size: SnapshotBytesMax + 1, wantErr: ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := openDir(t)
			err := dst.Receive(tt.meta, tt.size, bytes.NewReader(tt.body))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Receive(%s) = %v; want %v", tt.name, err, tt.wantErr)
			}
			ents, _ := os.ReadDir(dst.Path())
			if tt.wantErr != nil {
				if len(ents) != 0 {
					t.Fatalf("after a refused Receive the directory holds %v; want nothing", ents)
				}
				return
			}
			got, err := load(dst, tt.meta)
			if err != nil || !bytes.Equal(got, payload) {
				t.Fatalf("load after Receive = %d bytes, %v; want the payload", len(got), err)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x10
	return c
}

func TestOpenRemovesTempFilesAndPruneKeepsNewer(t *testing.T) {
	d := openDir(t)
	w, err := d.Create(testMeta)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("partial")); err != nil {
		t.Fatal(err)
	}
	// The process "dies" here: the temp file stays until the next Open.
	metas := []consensus.SnapshotMeta{
		{Index: 10, Term: 1, Voters: testMeta.Voters},
		{Index: 20, Term: 2, Voters: testMeta.Voters},
		{Index: 30, Term: 2, Voters: testMeta.Voters},
	}
	for _, m := range metas {
		write(t, d, m, payloadOf(3))
	}
	d2, err := Open(d.Path(), nil)
	if err != nil {
		t.Fatalf("reopen = %v; want nil", err)
	}
	ents, _ := os.ReadDir(d2.Path())
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), tempSuffix) {
			t.Fatalf("Open left temp file %s", e.Name())
		}
	}
	removed, err := d2.Prune(metas[1])
	if err != nil || removed != 1 {
		t.Fatalf("Prune(20) = %d, %v; want 1, nil", removed, err)
	}
	got, err := d2.Indexes()
	if err != nil || len(got) != 2 || got[0].Index != 20 || got[1].Index != 30 {
		t.Fatalf("Indexes() = %v, %v; want 20 and 30", got, err)
	}
	if err := w.Abort(); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Abort = %v", err)
	}
}

func TestFileNames(t *testing.T) {
	tests := []struct {
		name  string
		ok    bool
		term  consensus.Term
		index consensus.Index
	}{
		{name: fileName(7, 1<<40), ok: true, term: 7, index: 1 << 40},
		{name: "snap-xyz.snap"},
		{name: "snap-0000000000000001-0000000000000002.tmp"},
		{name: "raft.db"},
	}
	for _, tt := range tests {
		term, index, ok := parseFileName(tt.name)
		if ok != tt.ok || term != tt.term || index != tt.index {
			t.Errorf("parseFileName(%q) = %d, %d, %v; want %d, %d, %v", tt.name, term, index, ok, tt.term, tt.index, tt.ok)
		}
	}
}
