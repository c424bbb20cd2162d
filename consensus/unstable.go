package consensus

// unstable is the tail of the log that is not yet known to be persisted: the
// entries appended since the last Advance that covered them. Entries below
// offset are read through Storage.
type unstable struct {
	// offset is the index of entries[0] (or where the next entry goes when
	// entries is empty). Invariant: the log is Storage[..offset-1] ++ entries.
	offset  Index
	entries []Entry
}

// lastIndex returns the index of the last unstable entry and whether there is one.
func (u *unstable) lastIndex() (Index, bool) {
	if len(u.entries) == 0 {
		return 0, false
	}
	return u.offset + Index(len(u.entries)) - 1, true
}

// term returns the term of the unstable entry at i and whether it is unstable.
func (u *unstable) term(i Index) (Term, bool) {
	if i < u.offset || i-u.offset >= Index(len(u.entries)) {
		return 0, false
	}
	return u.entries[i-u.offset].Term, true
}

// stableTo marks the entries up to i stable if the entry at i still has term t:
// a Ready's entries that were replaced before its Advance stay unstable and are
// handed out again.
func (u *unstable) stableTo(i Index, t Term) {
	got, ok := u.term(i)
	if !ok || got != t {
		return
	}
	n := int(i - u.offset + 1)
	u.entries = u.entries[n:]
	u.offset = i + 1
	u.shrink()
}

// shrink drops the backing array when most of it is stale, so a long-lived
// tail does not pin memory.
func (u *unstable) shrink() {
	if len(u.entries) == 0 {
		u.entries = nil
		return
	}
	if cap(u.entries) > unstableShrinkFactor*len(u.entries) {
		u.entries = append([]Entry(nil), u.entries...)
	}
}

// truncateAndAppend appends ents, replacing every entry from ents[0].Index on.
// A truncation copies into a new array: slices handed out earlier (messages,
// Ready.Entries) never change under their holders.
func (u *unstable) truncateAndAppend(ents []Entry) {
	after := ents[0].Index
	switch {
	case after == u.offset+Index(len(u.entries)):
		u.entries = append(u.entries, ents...)
	case after <= u.offset:
		// Replaces the whole tail and the stored suffix from after on.
		u.offset = after
		u.entries = append([]Entry(nil), ents...)
	default:
		keep := u.entries[:after-u.offset]
		fresh := make([]Entry, 0, len(keep)+len(ents))
		u.entries = append(append(fresh, keep...), ents...)
	}
}

// slice returns the unstable entries in [lo, hi); the caller checked bounds.
func (u *unstable) slice(lo, hi Index) []Entry {
	assertf(lo >= u.offset, "unstable slice lo %d below offset %d", lo, u.offset)
	assertf(hi <= u.offset+Index(len(u.entries)), "unstable slice hi %d past %d", hi, u.offset+Index(len(u.entries)))
	return u.entries[lo-u.offset : hi-u.offset : hi-u.offset]
}
