package locks

import "math"

// mpWriter appends the msgpack encoding of snapshot records without
// reflection. It writes exactly what the codec writes for the same toarray
// structs (snapwriter_test.go compares the two), so Restore reads either, and
// Snapshot of a million locks costs a fraction of the reflective encoder.
type mpWriter struct {
	b []byte
}

func (w *mpWriter) reset() { w.b = w.b[:0] }

func (w *mpWriter) be(v uint64, n int) {
	for i := n - 1; i >= 0; i-- {
		w.b = append(w.b, byte(v>>(8*i)))
	}
}

// uint writes v in the shortest unsigned form, like the codec's EncodeUint.
func (w *mpWriter) uint(v uint64) {
	switch {
	case v <= math.MaxInt8:
		w.b = append(w.b, byte(v))
	case v <= math.MaxUint8:
		w.b = append(w.b, 0xcc, byte(v))
	case v <= math.MaxUint16:
		w.b = append(w.b, 0xcd)
		w.be(v, 2)
	case v <= math.MaxUint32:
		w.b = append(w.b, 0xce)
		w.be(v, 4)
	default:
		w.b = append(w.b, 0xcf)
		w.be(v, 8)
	}
}

// int writes v in the codec's signed forms (EncodeInt without
// PositiveIntUnsigned).
func (w *mpWriter) int(v int64) {
	switch {
	case v > math.MaxInt8 && v <= math.MaxInt16:
		w.b = append(w.b, 0xd1)
		w.be(uint64(v), 2)
	case v > math.MaxInt16 && v <= math.MaxInt32:
		w.b = append(w.b, 0xd2)
		w.be(uint64(v), 4)
	case v > math.MaxInt32:
		w.b = append(w.b, 0xd3)
		w.be(uint64(v), 8)
	case v >= -32:
		w.b = append(w.b, byte(v))
	case v >= math.MinInt8:
		w.b = append(w.b, 0xd0, byte(v))
	case v >= math.MinInt16:
		w.b = append(w.b, 0xd1)
		w.be(uint64(v), 2)
	case v >= math.MinInt32:
		w.b = append(w.b, 0xd2)
		w.be(uint64(v), 4)
	default:
		w.b = append(w.b, 0xd3)
		w.be(uint64(v), 8)
	}
}

// str writes s as a msgpack str (the codec's form with WriteExt).
func (w *mpWriter) str(s string) {
	n := len(s)
	switch {
	case n < 32:
		w.b = append(w.b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		w.b = append(w.b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		w.b = append(w.b, 0xda)
		w.be(uint64(n), 2)
	default:
		w.b = append(w.b, 0xdb)
		w.be(uint64(n), 4)
	}
	w.b = append(w.b, s...)
}

// arr writes an array header of n elements.
func (w *mpWriter) arr(n int) {
	switch {
	case n < 16:
		w.b = append(w.b, 0x90|byte(n))
	case n <= math.MaxUint16:
		w.b = append(w.b, 0xdc)
		w.be(uint64(n), 2)
	default:
		w.b = append(w.b, 0xdd)
		w.be(uint64(n), 4)
	}
}

func (w *mpWriter) bool(v bool) {
	if v {
		w.b = append(w.b, 0xc3)
	} else {
		w.b = append(w.b, 0xc2)
	}
}

// lease writes a snapLease of ls.
func (w *mpWriter) lease(ls *lease) {
	w.arr(7)
	w.uint(uint64(ls.id))
	w.int(int64(ls.ttl))
	w.int(ls.grantedAt)
	w.int(int64(ls.checkpointed))
	w.uint(uint64(ls.modifyIndex))
	w.bool(ls.single)
	w.uint(uint64(ls.creator))
}

// lock writes a snapLock of lk named name.
func (w *mpWriter) lock(name string, lk *lock) {
	h := &lk.holder
	w.arr(8)
	w.str(name)
	w.uint(uint64(h.LeaseID))
	w.str(h.Owner)
	w.str(h.Value)
	w.uint(uint64(h.Token))
	w.int(h.AcquiredAt)
	w.arr(len(lk.waiters))
	for i := range lk.waiters {
		wt := &lk.waiters[i]
		w.arr(4)
		w.uint(uint64(wt.lease))
		w.str(wt.owner)
		w.str(wt.value)
		w.uint(uint64(wt.enqueuedAt))
	}
	w.uint(uint64(lk.modifyIndex))
}
