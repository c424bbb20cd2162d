package boltstore

import "github.com/raftlock/raftlock/consensus"

// tailCache holds copies of the most recently written entries, so that the
// reads that follow a write (replication to followers, applying committed
// entries) do not decode them back from bbolt. It is not safe for concurrent
// use; the Store's mu guards it.
type tailCache struct {
	// ents are the cached entries.
	// Invariant: contiguous indexes, and when not empty the last one is the
	// store's last index.
	ents []consensus.Entry
	// bytes is the total Size of ents.
	// Invariant: bytes <= tailCacheBytesMax.
	bytes uint64
}

// first is the index of the first cached entry; ok is false when empty.
func (c *tailCache) first() (i consensus.Index, ok bool) {
	if len(c.ents) == 0 {
		return 0, false
	}
	return c.ents[0].Index, true
}

// saved records a successful Save of ents (already validated and trimmed),
// which replaced the stored suffix from ents[0].Index on.
func (c *tailCache) saved(ents []consensus.Entry) {
	if len(ents) == 0 {
		return
	}
	at := ents[0].Index
	if first, ok := c.first(); ok {
		switch {
		case at <= first:
			c.clear()
		case at <= c.ents[len(c.ents)-1].Index:
			c.dropFrom(at)
		default:
			assertf(at == c.ents[len(c.ents)-1].Index+1, "cache ends at %d, append at %d", c.ents[len(c.ents)-1].Index, at)
		}
	}
	for i := range ents {
		e := ents[i]
		// Copy the data: the caller's slices are its own.
		e.Data = append([]byte(nil), e.Data...)
		c.ents = append(c.ents, e)
		c.bytes += e.Size()
	}
	c.evict(0)
}

// compacted drops the entries up to and including upTo.
func (c *tailCache) compacted(upTo consensus.Index) {
	first, ok := c.first()
	if !ok || upTo < first {
		return
	}
	c.evict(int(min(upTo-first+1, consensus.Index(len(c.ents)))))
}

// evict drops at least n entries from the front, and more until the cache
// is within its byte bound.
func (c *tailCache) evict(n int) {
	k := 0
	for ; k < len(c.ents) && (k < n || c.bytes > tailCacheBytesMax); k++ {
		c.bytes -= c.ents[k].Size()
		c.ents[k] = consensus.Entry{} // Let the data go.
	}
	c.ents = c.ents[k:]
	if len(c.ents) == 0 {
		c.clear()
	}
}

func (c *tailCache) dropFrom(at consensus.Index) {
	first, _ := c.first()
	keep := int(at - first)
	for k := keep; k < len(c.ents); k++ {
		c.bytes -= c.ents[k].Size()
		c.ents[k] = consensus.Entry{}
	}
	c.ents = c.ents[:keep]
}

func (c *tailCache) clear() {
	c.ents, c.bytes = nil, 0
}

// read returns copies of the cached entries in [lo, hi), at least one, within
// maxBytes; ok is false when lo is not cached. The caller checked hi against
// the last index, which the cache ends at.
func (c *tailCache) read(lo, hi consensus.Index, maxBytes uint64) (ents []consensus.Entry, ok bool) {
	first, ok := c.first()
	if !ok || lo < first || lo >= hi {
		return nil, false
	}
	src := c.ents[lo-first : hi-first]
	n := 1
	size := src[0].Size()
	for ; n < len(src); n++ {
		size += src[n].Size()
		if size > maxBytes {
			break
		}
	}
	out := make([]consensus.Entry, n)
	copy(out, src)
	return out, true
}

// appendWithin appends to dst copies of the cached entries from lo (which
// must be cached) up to hi, as many as fit in budget bytes (maybe none).
func (c *tailCache) appendWithin(dst []consensus.Entry, lo, hi consensus.Index, budget uint64) []consensus.Entry {
	first, ok := c.first()
	assertf(ok && lo >= first, "appendWithin from %d, cache starts at %d (cached %t)", lo, first, ok)
	var size uint64
	for _, e := range c.ents[lo-first : hi-first] {
		size += e.Size()
		if size > budget {
			break
		}
		dst = append(dst, e)
	}
	return dst
}
