package snapfile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"

	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/raftlock/raftlock/consensus"
)

// payloadReader checks a snapshot's bytes as they are read: the header
// before the first payload byte, the trailer and checksum after the last. A
// damaged file makes Read fail with ErrCorrupt instead of returning io.EOF,
// so a state machine that reads to the end never accepts one.
type payloadReader struct {
	r    io.Reader
	crc  hash.Hash32
	name string
	// left is the payload bytes not yet read; payload their total.
	left, payload uint64
	// done is set once the trailer was checked; err is the sticky error.
	done bool
	err  error
}

// parse reads and checks the header of a snapshot of size bytes from r
// (named name in errors) and returns the reader of its payload. want's index,
// term and voters must match the metadata in the file.
func (d *Dir) parse(r io.Reader, size int64, name string, want consensus.SnapshotMeta) (*payloadReader, error) {
	pr := &payloadReader{r: r, crc: crc32.New(d.table), name: name}
	if size < headerBytes+trailerBytes {
		return nil, pr.corrupt("%d bytes, shorter than header and trailer", size)
	}
	if size > SnapshotBytesMax {
		return nil, fmt.Errorf("%w: %s is %d bytes, max %d", ErrTooLarge, name, size, int64(SnapshotBytesMax))
	}
	hdr := make([]byte, headerBytes)
	if err := pr.full(hdr); err != nil {
		return nil, err
	}
	if string(hdr[:magicBytes]) != magic {
		return nil, pr.corrupt("magic %q, want %q", hdr[:magicBytes], magic)
	}
	metaLen := binary.BigEndian.Uint32(hdr[magicBytes:])
	if metaLen > metaBytesMax || int64(metaLen) > size-headerBytes-trailerBytes {
		return nil, pr.corrupt("metadata of %d bytes in a file of %d, max %d", metaLen, size, metaBytesMax)
	}
	enc := make([]byte, metaLen)
	if err := pr.full(enc); err != nil {
		return nil, err
	}
	var got consensus.SnapshotMeta
	if err := codec.NewDecoderBytes(enc, d.h).Decode(&got); err != nil {
		return nil, pr.corrupt("metadata: %v", err)
	}
	if gm, wm := got.Membership(), want.Membership(); got.Index != want.Index || got.Term != want.Term || !gm.Equal(&wm) {
		return nil, pr.corrupt("holds snapshot %d term %d %s, want %d term %d %s",
			got.Index, got.Term, gm, want.Index, want.Term, wm)
	}
	pr.payload = uint64(size) - headerBytes - uint64(metaLen) - trailerBytes
	pr.left = pr.payload
	return pr, nil
}

func (pr *payloadReader) corrupt(format string, args ...any) error {
	return fmt.Errorf("snapfile: %s: %s: %w", pr.name, fmt.Sprintf(format, args...), ErrCorrupt)
}

// full reads len(p) bytes into p and the checksum.
func (pr *payloadReader) full(p []byte) error {
	if _, err := io.ReadFull(pr.r, p); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return pr.corrupt("ends early: %v", err)
		}
		return fmt.Errorf("snapfile: read %s: %w", pr.name, err)
	}
	pr.crc.Write(p) // a hash.Hash never returns an error
	return nil
}

// Read implements io.Reader over the payload.
func (pr *payloadReader) Read(p []byte) (int, error) {
	if pr.err != nil {
		return 0, pr.err
	}
	if pr.left == 0 {
		if err := pr.finish(); err != nil {
			pr.err = err
			return 0, err
		}
		return 0, io.EOF
	}
	if uint64(len(p)) > pr.left {
		p = p[:pr.left]
	}
	n, err := pr.r.Read(p)
	pr.crc.Write(p[:n])
	pr.left -= uint64(n)
	if errors.Is(err, io.EOF) {
		if pr.left > 0 {
			pr.err = pr.corrupt("payload ends %d bytes early", pr.left)
			return n, pr.err
		}
		err = nil
	}
	if err != nil {
		pr.err = fmt.Errorf("snapfile: read %s: %w", pr.name, err)
		return n, pr.err
	}
	return n, nil
}

// finish checks the trailer once the payload is read.
func (pr *payloadReader) finish() error {
	if pr.done {
		return nil
	}
	var tr [trailerBytes]byte
	if err := pr.full(tr[:8]); err != nil {
		return err
	}
	sum := pr.crc.Sum32()
	if _, err := io.ReadFull(pr.r, tr[8:]); err != nil {
		return pr.corrupt("checksum missing: %v", err)
	}
	if got := binary.BigEndian.Uint64(tr[:8]); got != pr.payload {
		return pr.corrupt("trailer says %d payload bytes, the file holds %d", got, pr.payload)
	}
	if got := binary.BigEndian.Uint32(tr[8:]); got != sum {
		return pr.corrupt("crc %08x, computed %08x", got, sum)
	}
	pr.done = true
	return nil
}

// drain reads the rest of the payload and checks the trailer.
func (pr *payloadReader) drain() error {
	if pr.err != nil {
		return pr.err
	}
	if _, err := io.Copy(io.Discard, pr); err != nil {
		return err
	}
	return nil
}

// Payload is a snapshot's payload being read from its file.
type Payload struct {
	*payloadReader
	f *os.File
	// Size is the payload's length in bytes.
	Size uint64
}

// Close checks that the whole payload was intact, reading what the state
// machine left unread, and closes the file. A state machine restored from a
// Payload whose Close fails must not be used.
func (p *Payload) Close() error {
	err := p.drain()
	return errors.Join(err, p.f.Close())
}

// Load opens the snapshot at meta for the state machine to restore from.
// Read fails with ErrCorrupt rather than reach io.EOF if anything in the file
// is damaged; Close reports it too.
func (d *Dir) Load(meta consensus.SnapshotMeta) (*Payload, error) {
	f, size, err := d.open(meta)
	if err != nil {
		return nil, err
	}
	pr, err := d.parse(bufio.NewReaderSize(f, bufferBytes), size, f.Name(), meta)
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return &Payload{payloadReader: pr, f: f, Size: pr.payload}, nil
}

// Raw opens the snapshot file at meta as it is on disk, for streaming to a
// peer, with its size. The caller closes it.
func (d *Dir) Raw(meta consensus.SnapshotMeta) (io.ReadCloser, int64, error) {
	f, size, err := d.open(meta)
	if err != nil {
		return nil, 0, err
	}
	return f, size, nil
}

func (d *Dir) open(meta consensus.SnapshotMeta) (*os.File, int64, error) {
	f, err := os.Open(d.File(meta))
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, fmt.Errorf("%w: index %d term %d in %s", ErrNotFound, meta.Index, meta.Term, d.path)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("snapfile: open: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, 0, errors.Join(fmt.Errorf("snapfile: stat: %w", err), f.Close())
	}
	return f, st.Size(), nil
}

// Receive stores a snapshot file streamed from a peer: exactly size bytes
// from r, written to a temp file and checked on the way (metadata equal to
// meta, lengths, checksum); only a whole, intact file is fsynced and renamed
// to its final name. It fails with ErrTooLarge above SnapshotBytesMax, with
// ErrCorrupt for damaged bytes, or with r's error; nothing is left behind.
// A snapshot already stored under that name is replaced.
func (d *Dir) Receive(meta consensus.SnapshotMeta, size int64, r io.Reader) error {
	if size > SnapshotBytesMax {
		return fmt.Errorf("%w: %d bytes, max %d", ErrTooLarge, size, int64(SnapshotBytesMax))
	}
	f, err := os.CreateTemp(d.path, filePrefix+"*"+tempSuffix)
	if err != nil {
		return fmt.Errorf("snapfile: create temp file: %w", err)
	}
	fail := func(err error) error { return errors.Join(err, f.Close(), os.Remove(f.Name())) }
	bw := bufio.NewWriterSize(f, bufferBytes)
	tee := io.TeeReader(io.LimitReader(r, size), bw)
	pr, err := d.parse(tee, size, "received snapshot", meta)
	if err != nil {
		return fail(err)
	}
	if err := pr.drain(); err != nil {
		return fail(err)
	}
	if err := errors.Join(bw.Flush(), f.Sync()); err != nil {
		return fail(fmt.Errorf("snapfile: write %s: %w", f.Name(), err))
	}
	if err := f.Close(); err != nil {
		return errors.Join(fmt.Errorf("snapfile: close %s: %w", f.Name(), err), os.Remove(f.Name()))
	}
	final := d.File(meta)
	if err := os.Rename(f.Name(), final); err != nil {
		return errors.Join(fmt.Errorf("snapfile: rename to %s: %w", final, err), os.Remove(f.Name()))
	}
	return d.syncDir()
}
