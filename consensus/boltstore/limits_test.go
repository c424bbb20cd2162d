package boltstore

// TestLimits proves the relations between this package's limits: the value
// bounds Open enforces admit everything Save can write, with the largest
// numbers and the largest data.

import (
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

func TestLimits(t *testing.T) {
	if LockWaitDefault <= 0 || LockWaitDefault > LockWaitMax {
		t.Errorf("LockWaitDefault = %v; want in (0, %v]", LockWaitDefault, LockWaitMax)
	}
	fr := newFramer(newMsgpackHandle())
	const maxU64 = 1<<64 - 1
	largest := consensus.Entry{Index: maxU64, Term: maxU64, Type: 255, Data: make([]byte, EntryDataBytesMax)}
	val, _, err := fr.appendFramed(nil, &largest)
	if err != nil {
		t.Fatalf("appendFramed(largest entry) = %v", err)
	}
	if len(val) > entryValueBytesMax {
		t.Errorf("largest entry value is %d bytes; want at most entryValueBytesMax %d", len(val), entryValueBytesMax)
	}
	if overhead := len(val) - crcBytes - EntryDataBytesMax; overhead > entryEncodingOverheadBytesMax {
		t.Errorf("entry encoding overhead is %d bytes; want at most %d", overhead, entryEncodingOverheadBytesMax)
	}
	for _, v := range []any{
		&consensus.HardState{Term: maxU64, Vote: maxU64, Commit: maxU64},
		&logBase{Index: maxU64, Term: maxU64},
	} {
		val, _, err := fr.appendFramed(nil, v)
		if err != nil {
			t.Fatalf("appendFramed(%T) = %v", v, err)
		}
		if len(val) > metaValueBytesMax {
			t.Errorf("largest %T value is %d bytes; want at most metaValueBytesMax %d", v, len(val), metaValueBytesMax)
		}
	}
	voters := make([]consensus.NodeID, consensus.VotersMax)
	for i := range voters {
		voters[i] = maxU64
	}
	snap, _, err := fr.appendFramed(nil, &consensus.SnapshotMeta{Index: maxU64, Term: maxU64, Voters: voters})
	if err != nil {
		t.Fatalf("appendFramed(largest snapshot metadata) = %v", err)
	}
	if len(snap) > snapshotMetaBytesMax {
		t.Errorf("largest snapshot metadata is %d bytes; want at most snapshotMetaBytesMax %d", len(snap), snapshotMetaBytesMax)
	}
	if decodeInitLenMax < EntryDataBytesMax || decodeInitLenMax > entryValueBytesMax {
		t.Errorf("decodeInitLenMax = %d; want in [EntryDataBytesMax %d, entryValueBytesMax %d]", decodeInitLenMax, EntryDataBytesMax, entryValueBytesMax)
	}
}
