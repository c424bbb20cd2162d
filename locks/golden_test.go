package locks

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// TestSnapshotGolden pins the snapshot format: the snapshot of busyTable must
// equal testdata/snapshot-v1.msgpack byte for byte, and that file must
// restore. A deliberate format change bumps snapshotVersion and rewrites the
// file with -locks.update (review the diff); an accidental one fails here.

var updateGolden = flag.Bool("locks.update", false, "rewrite testdata golden files")

func TestSnapshotGolden(t *testing.T) {
	path := filepath.Join("testdata", "snapshot-v1.msgpack")
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
