package locks

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// snapshotVersion is the format Snapshot writes. Version 2 added the ACL
// tokens and each lease's creator; Restore also reads version 1 (a lease
// record of 6 fields decodes with creator 0, and there are no tokens).
const snapshotVersion = 2

// snapshotVersionMin is the oldest format Restore reads.
const snapshotVersionMin = 1

// snapshotMagic opens and closes every snapshot.
const snapshotMagic = "raftlock-locks"

// snapshotBufferBytes is the buffer size between the codec and the
// io.Writer/io.Reader of Snapshot and Restore.
const snapshotBufferBytes = 64 << 10

// A snapshot is a stream of msgpack values: one snapHeader, then Leases
// snapLease in id order, Locks snapLock and Elections snapLock in name order,
// Dedup snapDedup in index order, ACLTokens snapACLToken in accessor order
// (version 2), and one snapTrailer.
type snapHeader struct {
	Magic        string `codec:"m"`
	Version      int    `codec:"v"`
	Applied      Index  `codec:"a"`
	NewestTime   int64  `codec:"nt"`
	ForgottenMax Token  `codec:"fm"`
	RemovedIndex Index  `codec:"ri"`
	Leases       int    `codec:"nl"`
	Locks        int    `codec:"nk"`
	Elections    int    `codec:"ne"`
	Dedup        int    `codec:"nd"`
	ACLTokens    int    `codec:"na,omitempty"`
}

// The records are encoded as msgpack arrays (toarray): smaller and faster
// than maps for a million of them, at the price of field order being the
// format (bump snapshotVersion when it changes).
type snapLease struct {
	_struct      struct{} `codec:",toarray"` //nolint:unused // read by the codec
	ID           LeaseID  `codec:"i"`
	TTL          Duration `codec:"d"`
	GrantedAt    int64    `codec:"g"`
	Checkpointed Duration `codec:"c"`
	ModifyIndex  Index    `codec:"x"`
	Single       bool     `codec:"s"`
	// Creator is new in version 2; a version 1 record ends before it.
	Creator AccessorID `codec:"cr"`
}

type snapLock struct {
	_struct     struct{}     `codec:",toarray"` //nolint:unused // read by the codec
	Name        string       `codec:"n"`
	LeaseID     LeaseID      `codec:"l"`
	Owner       string       `codec:"o"`
	Value       string       `codec:"v"`
	Token       Token        `codec:"tk"`
	AcquiredAt  int64        `codec:"a"`
	Waiters     []snapWaiter `codec:"w"`
	ModifyIndex Index        `codec:"x"`
}

func (sl *snapLock) holder() Holder {
	return Holder{LeaseID: sl.LeaseID, Owner: sl.Owner, Value: sl.Value, Token: sl.Token, AcquiredAt: sl.AcquiredAt}
}

type snapWaiter struct {
	_struct    struct{} `codec:",toarray"` //nolint:unused // read by the codec
	LeaseID    LeaseID  `codec:"l"`
	Owner      string   `codec:"o"`
	Value      string   `codec:"v"`
	EnqueuedAt Index    `codec:"e"`
}

type snapDedup struct {
	ID          string       `codec:"i"`
	Index       Index        `codec:"x"`
	Time        int64        `codec:"t,omitempty"`
	Fingerprint uint64       `codec:"f"`
	Result      storedResult `codec:"r"`
}

type snapACLToken struct {
	Accessor   AccessorID `codec:"i"`
	Name       string     `codec:"n"`
	SecretHash []byte     `codec:"h"`
	Rules      []ACLRule  `codec:"r"`
	CreatedAt  int64      `codec:"c"`
	ExpiresAt  int64      `codec:"x,omitempty"`
}

type snapTrailer struct {
	Magic string `codec:"m"`
}

// Snapshot writes the whole table to w: the same table always gives the
// same bytes (every map is written in sorted order).
func (t *Table) Snapshot(w io.Writer) error {
	bw := bufio.NewWriterSize(w, snapshotBufferBytes)
	enc := codec.NewEncoder(bw, t.h)
	put := func(v any) error {
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("locks: snapshot: %w", err)
		}
		return nil
	}
	hdr := snapHeader{
		Magic: snapshotMagic, Version: snapshotVersion, Applied: t.applied, NewestTime: t.newestTime,
		ForgottenMax: t.forgottenMax, RemovedIndex: t.removedIndex,
		Leases: len(t.leases), Locks: len(t.locks), Elections: len(t.elections), Dedup: t.dedup.len(),
		ACLTokens: len(t.aclTokens),
	}
	if err := put(&hdr); err != nil {
		return err
	}
	// Leases and locks, the bulk, go through mpWriter; the rest through
	// the codec. Both write the same msgpack for the same records.
	// The codec's encoder has no buffer of its own (WriterBufferSize 0): each
	// Encode has written all its bytes to bw when it returns, so the two
	// writers interleave in order.
	var mw mpWriter
	for _, ls := range t.sortedLeases() {
		mw.reset()
		mw.lease(ls)
		if _, err := bw.Write(mw.b); err != nil {
			return fmt.Errorf("locks: snapshot: %w", err)
		}
	}
	for _, election := range [2]bool{false, true} {
		if err := t.snapshotLocks(bw, &mw, election); err != nil {
			return err
		}
	}
	for _, e := range t.dedup.order[t.dedup.head:] {
		r := t.dedup.records[e.id]
		sd := snapDedup{ID: e.id, Index: r.index, Time: r.time, Fingerprint: r.fingerprint, Result: storeResult(r.result)}
		if err := put(&sd); err != nil {
			return err
		}
	}
	for _, tk := range t.sortedACLTokens() {
		st := snapACLToken{Accessor: tk.Accessor, Name: tk.Name, SecretHash: tk.SecretHash, Rules: tk.Rules, CreatedAt: tk.CreatedAt, ExpiresAt: tk.ExpiresAt}
		if err := put(&st); err != nil {
			return err
		}
	}
	if err := put(&snapTrailer{Magic: snapshotMagic}); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("locks: snapshot: %w", err)
	}
	return nil
}

func (t *Table) snapshotLocks(bw *bufio.Writer, mw *mpWriter, election bool) error {
	ns := t.namespace(election)
	names := make([]string, 0, len(ns))
	for name := range ns {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		mw.reset()
		mw.lock(name, ns[name])
		if _, err := bw.Write(mw.b); err != nil {
			return fmt.Errorf("locks: snapshot: %w", err)
		}
	}
	return nil
}

func (t *Table) sortedLeases() []*lease {
	out := make([]*lease, 0, len(t.leases))
	for _, ls := range t.leases {
		out = append(out, ls)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// ErrCorruptSnapshot is wrapped by every Restore error about the bytes read.
var ErrCorruptSnapshot = errors.New("corrupt snapshot")

// Restore replaces the table with the snapshot read from r, validating every
// record. On error (a read error, or bytes that are not a valid snapshot:
// ErrCorruptSnapshot) the table is left as it was. Restore never panics on
// bad bytes. Changes is empty after Restore.
func (t *Table) Restore(r io.Reader) error {
	n := NewTable()
	n.limits = t.limits
	n.dedup.max = t.dedup.max
	rd := restorer{t: n, dec: codec.NewDecoder(bufio.NewReaderSize(r, snapshotBufferBytes), n.h)}
	if err := rd.run(); err != nil {
		return fmt.Errorf("locks: restore: %w", err)
	}
	*t = *n
	return nil
}
