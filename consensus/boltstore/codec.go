package boltstore

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/raftlock/raftlock/consensus"
)

// A framed value is the CRC32C (Castagnoli, big-endian) of a msgpack encoding
// followed by that encoding. The checksum comes first so a reader can check it
// before it lets the decoder near the bytes.

// newMsgpackHandle returns the handle used for every value in the file. A
// handle is safe for concurrent use once configured; each Store owns one.
func newMsgpackHandle() *codec.MsgpackHandle {
	h := &codec.MsgpackHandle{}
	// Encode []byte as msgpack bin, not str.
	h.WriteExt = true
	h.MaxDepth = decodeDepthMax
	h.MaxInitLen = decodeInitLenMax
	// A key the struct lacks is refused rather than skipped: skipping decodes
	// its value into an interface, and a map there is provisioned at its
	// declared size up to MaxInitLen pairs (a 12-byte value cost seconds and
	// hundreds of MB). Every value in the file is written by this package
	// with known keys only, so an unknown one is corruption.
	h.ErrorIfNoField = true
	return h
}

// castagnoli is the CRC32C table. It is computed by the function, not held in
// a package variable: crc32.MakeTable caches the Castagnoli table internally.
func castagnoli() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }

// framer encodes values into framed byte slices. It is not safe for concurrent
// use; the Store's writer owns one.
type framer struct {
	enc     *codec.Encoder
	scratch []byte
	table   *crc32.Table
}

func newFramer(h *codec.MsgpackHandle) *framer {
	f := &framer{table: castagnoli()}
	f.enc = codec.NewEncoderBytes(&f.scratch, h)
	return f
}

// appendFramed encodes v and appends its frame to dst, returning the extended
// slice and the frame's start offset in it.
func (f *framer) appendFramed(dst []byte, v any) ([]byte, int, error) {
	f.scratch = f.scratch[:0]
	f.enc.ResetBytes(&f.scratch)
	if err := f.enc.Encode(v); err != nil {
		return dst, 0, fmt.Errorf("boltstore: encode %T: %w", v, err)
	}
	start := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, crc32.Checksum(f.scratch, f.table))
	dst = append(dst, f.scratch...)
	return dst, start, nil
}

// valueDecoder checks and decodes framed values. It reuses one msgpack
// decoder, which is costly to make, so it is not safe for concurrent use: the
// open-time scan owns one, and every Entries call makes its own.
type valueDecoder struct {
	dec   *codec.Decoder
	table *crc32.Table
}

func newValueDecoder(h *codec.MsgpackHandle, table *crc32.Table) *valueDecoder {
	return &valueDecoder{dec: codec.NewDecoderBytes([]byte{}, h), table: table}
}

// unframe checks val's checksum and decodes it into v, which must point to a
// zero value. maxBytes bounds len(val). Every failure wraps ErrCorrupt.
func (vd *valueDecoder) unframe(val []byte, maxBytes int, v any) error {
	if len(val) > maxBytes {
		return fmt.Errorf("value is %d bytes, max %d: %w", len(val), maxBytes, ErrCorrupt)
	}
	if len(val) <= crcBytes {
		return fmt.Errorf("value is %d bytes, min %d: %w", len(val), crcBytes+1, ErrCorrupt)
	}
	want := binary.BigEndian.Uint32(val)
	body := val[crcBytes:]
	if got := crc32.Checksum(body, vd.table); got != want {
		return fmt.Errorf("crc %08x, want %08x: %w", got, want, ErrCorrupt)
	}
	// body is not empty, so ResetBytes clears the state of the last decode.
	vd.dec.ResetBytes(body)
	if err := vd.dec.Decode(v); err != nil {
		return fmt.Errorf("decode: %v: %w", err, ErrCorrupt)
	}
	if n := vd.dec.NumBytesRead(); n != len(body) {
		return fmt.Errorf("%d trailing bytes after the encoding: %w", len(body)-n, ErrCorrupt)
	}
	return nil
}

// entry decodes one value of the log bucket. The caller checks that the
// entry's index matches its key.
func (vd *valueDecoder) entry(val []byte) (consensus.Entry, error) {
	var e consensus.Entry
	if err := vd.unframe(val, entryValueBytesMax, &e); err != nil {
		return consensus.Entry{}, err
	}
	if len(e.Data) > EntryDataBytesMax {
		return consensus.Entry{}, fmt.Errorf("data is %d bytes, max %d: %w", len(e.Data), EntryDataBytesMax, ErrCorrupt)
	}
	return e, nil
}

// logBase is the index and term of the last entry removed from the front of
// the log, by Compact or by ApplySnapshot. Term(Index) stays answerable.
type logBase struct {
	Index consensus.Index `codec:"i"`
	Term  consensus.Term  `codec:"t"`
}

// indexKey returns the log bucket key of index i.
func indexKey(i consensus.Index) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, indexKeyBytes), uint64(i))
}

// parseIndexKey decodes a log bucket key; ok is false when it has the wrong size.
func parseIndexKey(k []byte) (i consensus.Index, ok bool) {
	if len(k) != indexKeyBytes {
		return 0, false
	}
	return consensus.Index(binary.BigEndian.Uint64(k)), true
}
