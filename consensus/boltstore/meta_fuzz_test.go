package boltstore

// FuzzDecodeMeta feeds the decoders of the meta bucket's values, which Open
// reads from disk (hard state, log base, snapshot metadata), arbitrary bytes
// and proves that they never panic, that every refusal wraps ErrCorrupt, that
// they bound what they accept, and that an accepted value re-encodes to one
// that decodes to the same thing. Snapshot metadata that passes Open's check
// is also one SetSnapshot would store. Seeds: testdata/fuzz/FuzzDecodeMeta.

import (
	"errors"
	"reflect"
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

func FuzzDecodeMeta(f *testing.F) {
	fr := newFramer(newMsgpackHandle())
	for _, v := range []any{
		&consensus.HardState{Term: 3, Vote: 2, Commit: 10},
		&logBase{Index: 7, Term: 2},
		&consensus.SnapshotMeta{Index: 9, Term: 2, Voters: []consensus.NodeID{1, 2, 3}},
		&consensus.SnapshotMeta{Index: 9, Term: 2, Voters: []consensus.NodeID{1, 2, 3},
			Outgoing: []consensus.NodeID{1, 2}, Learners: []consensus.NodeID{4}, ConfContext: []byte("ctx")},
	} {
		val, _, err := fr.appendFramed(nil, v)
		if err != nil {
			f.Fatalf("appendFramed(%+v) = %v", v, err)
		}
		f.Add(val)
	}
	f.Add(frameBytes([]byte{0x81, 0xa1, 0x76, 0xdc, 0xff, 0xff})) // voters: an array longer than its body

	vd := newValueDecoder(newMsgpackHandle(), castagnoli())
	f.Fuzz(func(t *testing.T, val []byte) {
		for _, raw := range [][]byte{val, frameBytes(val)} {
			checkDecodeMeta(t, vd, fr, raw, metaValueBytesMax, func() any { return new(consensus.HardState) })
			checkDecodeMeta(t, vd, fr, raw, metaValueBytesMax, func() any { return new(logBase) })
			if snap, ok := checkDecodeMeta(t, vd, fr, raw, snapshotMetaBytesMax, func() any { return new(consensus.SnapshotMeta) }).(*consensus.SnapshotMeta); ok {
				checkOpenedSnapshot(t, raw, *snap)
			}
		}
	})
}

// checkDecodeMeta decodes raw into a new value of fresh's type, checks the
// round trip of what it accepts and returns it (nil when refused).
func checkDecodeMeta(t *testing.T, vd *valueDecoder, fr *framer, raw []byte, maxBytes int, fresh func() any) any {
	v := fresh()
	if err := vd.unframe(raw, maxBytes, v); err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("unframe(%x) into %T = %v; want an ErrCorrupt", raw, v, err)
		}
		return nil
	}
	if len(raw) > maxBytes {
		t.Fatalf("unframe(%x) into %T accepted %d bytes; want at most %d", raw, v, len(raw), maxBytes)
	}
	again, _, err := fr.appendFramed(nil, v)
	if err != nil {
		t.Fatalf("appendFramed(%+v) = %v; want nil", v, err)
	}
	back := fresh()
	if err := vd.unframe(again, len(again), back); err != nil {
		t.Fatalf("unframe(re-encoded %+v) = %v; want nil", v, err)
	}
	if !reflect.DeepEqual(normalizeMeta(back), normalizeMeta(v)) {
		t.Fatalf("unframe(re-encoded %T) = %+v; want %+v", v, back, v)
	}
	return v
}

// checkOpenedSnapshot: metadata Open's check lets through (with a hard state
// that commits it and an empty log) is metadata SetSnapshot would write.
func checkOpenedSnapshot(t *testing.T, raw []byte, snap consensus.SnapshotMeta) {
	hs := consensus.HardState{Term: snap.Term, Commit: snap.Index}
	idx := logIndex{base: logBase{Index: snap.Index, Term: snap.Term}, last: snap.Index}
	if err := checkSnapshot(snap, hs, &idx); err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("checkSnapshot(%+v) = %v; want an ErrCorrupt", snap, err)
		}
		return
	}
	if err := checkVoters(snap); err != nil {
		t.Fatalf("Open would accept snapshot metadata %x (%+v) that SetSnapshot refuses: %v", raw, snap, err)
	}
}

// normalizeMeta makes empty and nil slices equal: msgpack does not tell them
// apart.
func normalizeMeta(v any) any {
	s, ok := v.(*consensus.SnapshotMeta)
	if !ok {
		return v
	}
	c := *s
	for _, p := range []*[]consensus.NodeID{&c.Voters, &c.Outgoing, &c.Learners} {
		if len(*p) == 0 {
			*p = nil
		}
	}
	if len(c.ConfContext) == 0 {
		c.ConfContext = nil
	}
	return &c
}
