package boltstore

// FuzzDecodeEntry proves that the decoder of log values, which reads bytes
// from disk, never panics and never returns an error that is not ErrCorrupt,
// bounds what it accepts, and that what it accepts re-encodes to a value that
// decodes to the same entry. Seeds: testdata/fuzz/FuzzDecodeEntry.

import (
	"errors"
	"reflect"
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

func FuzzDecodeEntry(f *testing.F) {
	fr := newFramer(newMsgpackHandle())
	for _, e := range []consensus.Entry{
		{},
		{Index: 1, Term: 1, Type: consensus.EntryNoop},
		{Index: 42, Term: 7, Data: []byte("acquire lock a")},
		{Index: 1<<64 - 1, Term: 1<<64 - 1, Type: consensus.EntryConfChange, Data: make([]byte, 300)},
	} {
		val, _, err := fr.appendFramed(nil, &e)
		if err != nil {
			f.Fatalf("appendFramed(%+v) = %v", e, err)
		}
		f.Add(val)
	}
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0})
	f.Add(frameBytes([]byte{0xc4, 0xff})) // a bin header longer than its body
	f.Add(frameBytes([]byte{0xdf, 0xff, 0xff, 0xff, 0xff}))

	vd := newValueDecoder(newMsgpackHandle(), castagnoli())
	f.Fuzz(func(t *testing.T, val []byte) {
		// As stored, and as the body of a frame with a correct checksum, so
		// that the mutations reach the msgpack decoder.
		checkDecodeEntry(t, vd, fr, val)
		checkDecodeEntry(t, vd, fr, frameBytes(val))
	})
}

func checkDecodeEntry(t *testing.T, vd *valueDecoder, fr *framer, val []byte) {
	e, err := vd.entry(val)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("decodeEntry(%x) = %v; want an ErrCorrupt", val, err)
		}
		return
	}
	if len(e.Data) > EntryDataBytesMax {
		t.Fatalf("decodeEntry(%x) data is %d bytes; want at most %d", val, len(e.Data), EntryDataBytesMax)
	}
	again, _, err := fr.appendFramed(nil, &e)
	if err != nil {
		t.Fatalf("appendFramed(%+v) = %v; want nil", e, err)
	}
	e2, err := vd.entry(again)
	if err != nil {
		t.Fatalf("decodeEntry(re-encoded %+v) = %v; want nil", e, err)
	}
	if len(e.Data) == 0 && len(e2.Data) == 0 {
		e.Data, e2.Data = nil, nil
	}
	if !reflect.DeepEqual(e2, e) {
		t.Fatalf("decodeEntry(re-encoded) = %+v; want %+v", e2, e)
	}
}
