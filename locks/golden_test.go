package locks

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// TestSnapshotGolden pins the snapshot format: the snapshot of busyTable must
// equal testdata/snapshot-v2.msgpack byte for byte, and that file must
// restore. A deliberate format change bumps snapshotVersion and writes a new
// file with -locks.update (review the diff); an accidental one fails here.
// The files of older versions stay: TestSnapshotGoldenV1 restores them.

var updateGolden = flag.Bool("locks.update", false, "rewrite testdata golden files")

func TestSnapshotGolden(t *testing.T) {
	path := filepath.Join("testdata", "snapshot-v2.msgpack")
	got := snap(t, busyTable(t).tbl)
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden snapshot: %v (run with -locks.update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("snapshot of busyTable (%d bytes) differs from %s (%d bytes): the format changed; bump snapshotVersion and rerun with -locks.update", len(got), path, len(want))
	}
	if err := NewTable().Restore(bytes.NewReader(want)); err != nil {
		t.Fatalf("Restore(%s) = %v", path, err)
	}
}

// TestSnapshotGoldenV1: a version 1 snapshot (written before ACL tokens
// existed) still restores, to the table the same commands build today: no
// tokens, every lease without a creator.
func TestSnapshotGoldenV1(t *testing.T) {
	path := filepath.Join("testdata", "snapshot-v1.msgpack")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tbl := NewTable()
	if err := tbl.Restore(bytes.NewReader(data)); err != nil {
		t.Fatalf("Restore(%s) = %v; want nil", path, err)
	}
	if err := tbl.checkInvariants(); err != nil {
		t.Fatalf("restored %s: %v", path, err)
	}
	if got, want := snap(t, tbl), snap(t, busyTableV1(t).tbl); !bytes.Equal(got, want) {
		t.Errorf("Snapshot(Restore(%s)) differs from the snapshot of busyTableV1 (%d vs %d bytes)", path, len(got), len(want))
	}
	if n := len(tbl.ACLTokens()); n != 0 {
		t.Errorf("restored %s has %d ACL tokens; want 0", path, n)
	}
}
