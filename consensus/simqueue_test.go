package consensus

// This file holds the simulator's priority queue, ordered by virtual time and
// then by insertion: the network's deliveries and the agenda of ticks, client
// calls and faults both live in one.

// timed is one item due at a virtual time; seq breaks ties by insertion order,
// so the order of a timedQueue is total and a seed replays exactly.
type timed[T any] struct {
	at  simTime
	seq uint64
	v   T
}

// timedQueue is a binary min-heap ordered by (at, seq).
type timedQueue[T any] struct {
	items []timed[T]
	seq   uint64
}

func (q *timedQueue[T]) less(i, j int) bool {
	a, b := &q.items[i], &q.items[j]
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

func (q *timedQueue[T]) len() int { return len(q.items) }

// push schedules v at time at.
func (q *timedQueue[T]) push(at simTime, v T) {
	q.seq++
	q.items = append(q.items, timed[T]{at: at, seq: q.seq, v: v})
	for i := len(q.items) - 1; i > 0; {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.items[i], q.items[p] = q.items[p], q.items[i]
		i = p
	}
}

// peek returns the time of the earliest item; ok is false when q is empty.
func (q *timedQueue[T]) peek() (at simTime, ok bool) {
	if len(q.items) == 0 {
		return 0, false
	}
	return q.items[0].at, true
}

// pop removes and returns the earliest item; q must not be empty.
func (q *timedQueue[T]) pop() timed[T] {
	h := q.items
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = timed[T]{}
	h = h[:last]
	q.items = h
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && q.less(l, m) {
			m = l
		}
		if r < len(h) && q.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	return top
}

// peekValue returns the earliest item's value; ok is false when q is empty.
func (q *timedQueue[T]) peekValue() (v T, ok bool) {
	if len(q.items) == 0 {
		return v, false
	}
	return q.items[0].v, true
}
