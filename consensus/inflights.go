package consensus

// inflights is the window of MsgApps sent to one follower in replicate state
// and not yet acknowledged, as the last index each carried, oldest first.
type inflights struct {
	// ring holds the window; start is the oldest slot and count the used slots.
	// Invariant: count <= len(ring); the indexes in it increase.
	ring  []Index
	start int
	count int
}

func newInflights(size int) *inflights {
	return &inflights{ring: make([]Index, size)}
}

// full reports whether no more MsgApps may be sent.
func (in *inflights) full() bool { return in.count == len(in.ring) }

// add records a MsgApp whose last entry is last.
func (in *inflights) add(last Index) {
	assertf(!in.full(), "adding index %d to a full in-flight window of %d", last, len(in.ring))
	if in.count > 0 {
		prev := in.ring[(in.start+in.count-1)%len(in.ring)]
		assertf(last > prev, "in-flight index %d not above the previous %d", last, prev)
	}
	in.ring[(in.start+in.count)%len(in.ring)] = last
	in.count++
}

// freeLE frees every slot whose MsgApp ended at or below i: acknowledged.
func (in *inflights) freeLE(i Index) {
	for in.count > 0 && in.ring[in.start] <= i {
		in.start = (in.start + 1) % len(in.ring)
		in.count--
	}
	if in.count == 0 {
		in.start = 0
	}
}

// freeFirst frees the oldest slot, so a window whose acknowledgements were
// lost can make progress.
func (in *inflights) freeFirst() {
	if in.count == 0 {
		return
	}
	in.start = (in.start + 1) % len(in.ring)
	in.count--
}

// reset empties the window.
func (in *inflights) reset() {
	in.start = 0
	in.count = 0
}
