package locks

import (
	"bytes"
	"testing"
	"time"
)

// Fuzz targets for the two decoders of untrusted bytes: commands (from the
// log, proposed by any node) and snapshots (from disk or a peer). Neither may
// panic; what they accept must be valid and round-trip.

func FuzzDecodeCommand(f *testing.F) {
	for _, c := range []Command{
		{Kind: KindCreateLease, TTL: dur(10 * time.Second), RequestID: "r", Time: 1},
		{Kind: KindAcquire, Name: "a", LeaseID: 1, Wait: true, Owner: "o"},
		{Kind: KindAcquire, Name: "e", Election: true, Value: "v"},
		{Kind: KindRelease, Name: "a", Token: 2},
		{Kind: KindCancelWait, Name: "a", LeaseID: 1},
		{Kind: KindCheckpointLeases, Checkpoints: []Checkpoint{{1, 5}, {2, 0}}},
		{Kind: KindRevokeLease, LeaseID: 1},
		{Kind: KindCreateLease, Creator: 3},
		{Kind: KindCreateACLToken, ACLName: "ci", SecretHash: testHash(1), TTL: dur(time.Hour), ACLRules: []ACLRule{{Prefix: "jobs/", Allow: CapRead | CapLock}, {Allow: CapAdmin}}},
		{Kind: KindDeleteACLToken, Accessor: 3},
	} {
		f.Add(raw(f, c))
	}
	f.Add([]byte{0x80})
	f.Add([]byte{0xc1})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCommand(data)
		if err != nil {
			if Code(err) != "invalid_argument" && Code(err) != "too_large" {
				t.Fatalf("DecodeCommand = %v; want invalid_argument or too_large", err)
			}
		} else {
			if verr := ValidateCommand(c); verr != nil {
				t.Fatalf("DecodeCommand accepted %+v that ValidateCommand refuses: %v", c, verr)
			}
			b, err := EncodeCommand(c)
			if err != nil {
				t.Fatalf("EncodeCommand(decoded %+v) = %v", c, err)
			}
			c2, err := DecodeCommand(b)
			if err != nil || fingerprint(&c2) != fingerprint(&c) || c2.RequestID != c.RequestID || c2.Time != c.Time {
				t.Fatalf("round trip of %+v = %+v, %v", c, c2, err)
			}
		}
		h := busyTable(t)
		r := h.tbl.Apply(h.tbl.Applied()+1, data)
		if err != nil && (Code(r.Err) != Code(err) || len(h.tbl.Changes()) != 0) {
			t.Fatalf("Apply of undecodable bytes = %v, changes %v; want %v and no change", r.Err, h.tbl.Changes(), err)
		}
		if err := h.tbl.checkInvariants(); err != nil {
			t.Fatalf("after Apply(%x): %v", data, err)
		}
	})
}

func FuzzRestore(f *testing.F) {
	f.Add(snap(f, busyTable(f).tbl))
	f.Add(snap(f, NewTable()))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		tbl := NewTable()
		if err := tbl.Restore(bytes.NewReader(data)); err != nil {
			return
		}
		if err := tbl.checkInvariants(); err != nil {
			t.Fatalf("Restore accepted an invalid table: %v", err)
		}
		s1 := snap(t, tbl)
		again := NewTable()
		if err := again.Restore(bytes.NewReader(s1)); err != nil {
			t.Fatalf("Restore(Snapshot(Restore(data))) = %v", err)
		}
		if s2 := snap(t, again); !bytes.Equal(s1, s2) {
			t.Fatalf("snapshot of a restored table is not stable")
		}
	})
}
