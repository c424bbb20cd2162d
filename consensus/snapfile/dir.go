package snapfile

import (
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"go.uber.org/zap"

	"github.com/raftlock/raftlock/consensus"
)

// magic opens every snapshot file: "RLSNAP", then the format version 1.
const magic = "RLSNAP\x00\x01"

// Names of the files in a Dir.
const (
	filePrefix = "snap-"
	fileSuffix = ".snap"
	tempSuffix = ".tmp"
)

// ErrCorrupt is wrapped by every error about snapshot bytes that fail a
// check: magic, lengths, metadata or checksum. The error names the file.
var ErrCorrupt = errors.New("snapfile: corrupt snapshot")

// ErrNotFound is returned by Load and Raw when no file holds the snapshot.
var ErrNotFound = errors.New("snapfile: snapshot not found")

// ErrTooLarge is returned by Receive for a snapshot above SnapshotBytesMax.
var ErrTooLarge = errors.New("snapfile: snapshot too large")

// Dir is a directory of snapshot files.
type Dir struct {
	path  string
	h     *codec.MsgpackHandle
	table *crc32.Table
	log   *zap.Logger
}

// Open opens (creating it if needed) the snapshot directory at path and
// removes the temp files a crash left behind. logger may be nil.
func Open(path string, logger *zap.Logger) (*Dir, error) {
	if logger == nil {
		logger = zap.NewNop()
	}
	if err := os.MkdirAll(path, dirPerm); err != nil {
		return nil, fmt.Errorf("snapfile: create %s: %w", path, err)
	}
	h := &codec.MsgpackHandle{}
	h.WriteExt = true
	h.MaxDepth = decodeDepthMax
	h.MaxInitLen = metaBytesMax
	d := &Dir{path: path, h: h, table: crc32.MakeTable(crc32.Castagnoli), log: logger.With(zap.String("path", path))}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("snapfile: read %s: %w", path, err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), tempSuffix) {
			if err := os.Remove(filepath.Join(path, e.Name())); err != nil {
				return nil, fmt.Errorf("snapfile: remove temp file: %w", err)
			}
			d.log.Info("removed an unfinished snapshot", zap.String("file", e.Name()))
		}
	}
	return d, nil
}

// Path is the directory's path.
func (d *Dir) Path() string { return d.path }

// fileName is the final name of the snapshot at (term, index): hex, so names
// sort by term, then index.
func fileName(term consensus.Term, index consensus.Index) string {
	return fmt.Sprintf("%s%016x-%016x%s", filePrefix, uint64(term), uint64(index), fileSuffix)
}

// parseFileName returns the term and index a final file name encodes.
func parseFileName(name string) (consensus.Term, consensus.Index, bool) {
	var term, index uint64
	if !strings.HasPrefix(name, filePrefix) || !strings.HasSuffix(name, fileSuffix) ||
		len(name) != len(filePrefix)+16+1+16+len(fileSuffix) {
		return 0, 0, false
	}
	if _, err := fmt.Sscanf(name[len(filePrefix):len(name)-len(fileSuffix)], "%016x-%016x", &term, &index); err != nil {
		return 0, 0, false
	}
	return consensus.Term(term), consensus.Index(index), true
}

// File is the path of the snapshot file at meta (whether or not it exists).
func (d *Dir) File(meta consensus.SnapshotMeta) string {
	return filepath.Join(d.path, fileName(meta.Term, meta.Index))
}

// Prune removes every snapshot file whose index is below keep.Index. Files
// at or above it stay: keep itself and snapshots received but not yet
// installed. It returns how many files it removed.
func (d *Dir) Prune(keep consensus.SnapshotMeta) (int, error) {
	ents, err := os.ReadDir(d.path)
	if err != nil {
		return 0, fmt.Errorf("snapfile: read %s: %w", d.path, err)
	}
	removed := 0
	for _, e := range ents {
		_, index, ok := parseFileName(e.Name())
		if !ok || index >= keep.Index {
			continue
		}
		if err := os.Remove(filepath.Join(d.path, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, fmt.Errorf("snapfile: prune: %w", err)
		}
		removed++
	}
	return removed, nil
}

// Indexes lists the (term, index) of every snapshot file, oldest index first.
func (d *Dir) Indexes() ([]consensus.SnapshotMeta, error) {
	ents, err := os.ReadDir(d.path)
	if err != nil {
		return nil, fmt.Errorf("snapfile: read %s: %w", d.path, err)
	}
	var out []consensus.SnapshotMeta
	for _, e := range ents {
		if term, index, ok := parseFileName(e.Name()); ok {
			out = append(out, consensus.SnapshotMeta{Index: index, Term: term})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out, nil
}

// syncDir makes the directory's entries (a rename) durable.
func (d *Dir) syncDir() error {
	f, err := os.Open(d.path)
	if err != nil {
		return fmt.Errorf("snapfile: sync %s: %w", d.path, err)
	}
	return errors.Join(f.Sync(), f.Close())
}
