package snapfile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"os"

	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/raftlock/raftlock/consensus"
)

// Writer writes one snapshot's payload to a temp file; Commit makes it the
// snapshot file, Abort throws it away. It is not safe for concurrent use.
type Writer struct {
	d    *Dir
	meta consensus.SnapshotMeta
	f    *os.File
	bw   *bufio.Writer
	crc  hash.Hash32
	// payload counts the payload bytes written.
	payload uint64
	// err is the first write error; Commit returns it.
	err  error
	done bool
}

// Create starts writing the snapshot described by meta: the state machine
// writes its payload to the Writer, then the caller commits or aborts it.
func (d *Dir) Create(meta consensus.SnapshotMeta) (*Writer, error) {
	hdr, err := d.header(meta)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(d.path, filePrefix+"*"+tempSuffix)
	if err != nil {
		return nil, fmt.Errorf("snapfile: create temp file: %w", err)
	}
	w := &Writer{d: d, meta: meta, f: f, crc: crc32.New(d.table)}
	w.bw = bufio.NewWriterSize(f, bufferBytes)
	if err := w.raw(hdr); err != nil {
		return nil, errors.Join(err, w.Abort())
	}
	return w, nil
}

// header encodes the magic, the metadata's length and the metadata.
func (d *Dir) header(meta consensus.SnapshotMeta) ([]byte, error) {
	if meta.Index == 0 {
		return nil, fmt.Errorf("snapfile: snapshot at index 0")
	}
	var enc []byte
	if err := codec.NewEncoderBytes(&enc, d.h).Encode(&meta); err != nil {
		return nil, fmt.Errorf("snapfile: encode metadata: %w", err)
	}
	assertf(len(enc) <= metaBytesMax, "metadata of %d bytes, max %d", len(enc), metaBytesMax)
	hdr := make([]byte, 0, headerBytes+len(enc))
	hdr = append(hdr, magic...)
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(len(enc)))
	return append(hdr, enc...), nil
}

// raw writes p to the file and the checksum.
func (w *Writer) raw(p []byte) error {
	if w.err != nil {
		return w.err
	}
	if _, err := w.bw.Write(p); err != nil {
		w.err = fmt.Errorf("snapfile: write %s: %w", w.f.Name(), err)
		return w.err
	}
	w.crc.Write(p) // a hash.Hash never returns an error
	return nil
}

// Write writes payload bytes.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.raw(p); err != nil {
		return 0, err
	}
	w.payload += uint64(len(p))
	return len(p), nil
}

// Commit finishes the file (trailer), fsyncs it, renames it to its final name
// and fsyncs the directory. On error the temp file is removed. It returns
// the file's size.
func (w *Writer) Commit() (int64, error) {
	assertf(!w.done, "commit of a finished snapshot writer")
	var tr []byte
	tr = binary.BigEndian.AppendUint64(tr, w.payload)
	err := w.raw(tr)
	if err == nil {
		_, err = w.bw.Write(binary.BigEndian.AppendUint32(nil, w.crc.Sum32()))
	}
	if err == nil {
		err = w.bw.Flush()
	}
	if err == nil {
		err = w.f.Sync()
	}
	var size int64
	if err == nil {
		var st os.FileInfo
		if st, err = w.f.Stat(); err == nil {
			size = st.Size()
		}
	}
	if err != nil {
		return 0, errors.Join(fmt.Errorf("snapfile: finish %s: %w", w.f.Name(), err), w.Abort())
	}
	w.done = true
	if err := w.f.Close(); err != nil {
		return 0, errors.Join(fmt.Errorf("snapfile: close %s: %w", w.f.Name(), err), os.Remove(w.f.Name()))
	}
	final := w.d.File(w.meta)
	if err := os.Rename(w.f.Name(), final); err != nil {
		return 0, errors.Join(fmt.Errorf("snapfile: rename to %s: %w", final, err), os.Remove(w.f.Name()))
	}
	if err := w.d.syncDir(); err != nil {
		return 0, err
	}
	return size, nil
}

// Abort discards the temp file. It is a no-op after Commit or Abort.
func (w *Writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	return errors.Join(w.f.Close(), os.Remove(w.f.Name()))
}
