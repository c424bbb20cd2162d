package locks

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// TestMPWriterMatchesCodec: mpWriter writes byte for byte what the codec
// writes for the same snapLease and snapLock, over the boundaries of every
// integer, string and array form.
func TestMPWriterMatchesCodec(t *testing.T) {
	uints := []uint64{0, 1, 127, 128, 255, 256, 65535, 65536, math.MaxUint32, math.MaxUint32 + 1, math.MaxUint64}
	ints := []int64{0, 1, -1, -32, -33, 127, 128, -128, -129, 32767, 32768, -32768, -32769, math.MaxInt32, math.MaxInt32 + 1, math.MinInt32, math.MinInt32 - 1, math.MaxInt64, math.MinInt64}
	strs := []string{"", "a", strings.Repeat("s", 31), strings.Repeat("s", 32), strings.Repeat("s", 255), strings.Repeat("s", 256), strings.Repeat("s", 65535), strings.Repeat("s", 65536)}
	waiters := []int{0, 1, 15, 16}
	h := newHandle()
	enc := func(v any) []byte {
		var b []byte
		if err := codec.NewEncoderBytes(&b, h).Encode(v); err != nil {
			t.Fatal(err)
		}
		return b
	}
	var mw mpWriter
	for i, u := range uints {
		in := ints[i%len(ints)]
		ls := &lease{id: LeaseID(u), ttl: Duration(in), grantedAt: ints[(i+3)%len(ints)], checkpointed: Duration(ints[(i+5)%len(ints)]), modifyIndex: Index(uints[(i+1)%len(uints)]), single: i%2 == 0, creator: AccessorID(uints[(i+2)%len(uints)])}
		mw.reset()
		mw.lease(ls)
		want := enc(&snapLease{ID: ls.id, TTL: ls.ttl, GrantedAt: ls.grantedAt, Checkpointed: ls.checkpointed, ModifyIndex: ls.modifyIndex, Single: ls.single, Creator: AccessorID(uints[(i+2)%len(uints)])})
		if !bytes.Equal(mw.b, want) {
			t.Fatalf("mpWriter.lease(%+v) = %x; want codec's %x", ls, mw.b, want)
		}
	}
	for i := 0; i < len(ints)*len(strs); i++ {
		lk := &lock{holder: Holder{LeaseID: LeaseID(uints[i%len(uints)]), Owner: strs[i%len(strs)], Value: strs[(i+1)%len(strs)], Token: Token(uints[(i+2)%len(uints)]), AcquiredAt: ints[i%len(ints)]}, modifyIndex: Index(uints[(i+4)%len(uints)])}
		sl := &snapLock{Name: strs[(i+2)%len(strs)], LeaseID: lk.holder.LeaseID, Owner: lk.holder.Owner, Value: lk.holder.Value, Token: lk.holder.Token, AcquiredAt: lk.holder.AcquiredAt, ModifyIndex: lk.modifyIndex, Waiters: []snapWaiter{}}
		for j := 0; j < waiters[i%len(waiters)]; j++ {
			w := waiter{lease: LeaseID(uints[j%len(uints)]), owner: strs[j%3], value: strs[(j+1)%3], enqueuedAt: Index(uints[(j+2)%len(uints)])}
			lk.waiters = append(lk.waiters, w)
			sl.Waiters = append(sl.Waiters, snapWaiter{LeaseID: w.lease, Owner: w.owner, Value: w.value, EnqueuedAt: w.enqueuedAt})
		}
		mw.reset()
		mw.lock(sl.Name, lk)
		if want := enc(sl); !bytes.Equal(mw.b, want) {
			t.Fatalf("mpWriter.lock(%d) differs from the codec:\n got %x\nwant %x", i, mw.b[:min(len(mw.b), 64)], want[:min(len(want), 64)])
		}
	}
}
