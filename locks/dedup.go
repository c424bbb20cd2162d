package locks

import (
	"cmp"
	"slices"
)

// dedupRecord is what exactly-once apply keeps per request id.
type dedupRecord struct {
	index       Index
	time        int64
	fingerprint uint64
	result      Result
}

// dedupTable holds the records by request id and their ids in apply order,
// so pruning is by index and never by map order.
type dedupTable struct {
	records map[string]dedupRecord
	// order holds the ids of records in increasing index from head on.
	// Invariant: len(order)-head == len(records).
	order []dedupEntry
	head  int
	// max is DedupRecordsMax; tests shrink it.
	max int
}

type dedupEntry struct {
	id    string
	index Index
	time  int64
}

func newDedupTable() dedupTable {
	return dedupTable{records: make(map[string]dedupRecord), max: DedupRecordsMax}
}

func (d *dedupTable) get(id string) (dedupRecord, bool) {
	r, ok := d.records[id]
	return r, ok
}

// add records id, evicting the oldest record when DedupRecordsMax is reached.
func (d *dedupTable) add(id string, r dedupRecord) {
	assertf(d.records[id].index == 0, "request id %q recorded twice", id)
	for len(d.records) >= d.max {
		d.popOldest()
	}
	d.records[id] = r
	d.order = append(d.order, dedupEntry{id: id, index: r.index, time: r.time})
}

// granted records that the acquire applied at index, which queued lease,
// has since been granted holder: a retry of that request then answers the
// grant, not "queued". Without this, a retry arriving after the grant and
// after the lease's expiry would find the waiter gone and report not_found
// for an acquire that did take effect. Nothing happens when no record has
// that index (the acquire carried no request id, or its record is gone).
func (d *dedupTable) granted(index Index, lease LeaseID, holder Holder) {
	live := d.order[d.head:]
	i, found := slices.BinarySearchFunc(live, index, func(e dedupEntry, x Index) int { return cmp.Compare(e.index, x) })
	if !found {
		return
	}
	id := live[i].id
	r := d.records[id]
	if !r.result.Queued || r.result.LeaseID != lease {
		return
	}
	r.result.Queued = false
	r.result.Token = holder.Token
	r.result.Holder = holder
	d.records[id] = r
}

// prune drops records older than DedupRetention before newest, oldest index
// first, stopping at the first record young enough.
func (d *dedupTable) prune(newest int64) {
	for d.head < len(d.order) && newest-d.order[d.head].time > int64(DedupRetention) {
		d.popOldest()
	}
}

func (d *dedupTable) popOldest() {
	e := d.order[d.head]
	d.order[d.head] = dedupEntry{}
	d.head++
	delete(d.records, e.id)
	if d.head == len(d.order) {
		d.order = d.order[:0]
		d.head = 0
	} else if d.head >= 1024 && d.head*2 >= len(d.order) {
		n := copy(d.order, d.order[d.head:])
		clear(d.order[n:])
		d.order = d.order[:n]
		d.head = 0
	}
}

func (d *dedupTable) len() int { return len(d.records) }

// fingerprint hashes what a command asks for, without its request id and
// time (FNV-1a, 64 bits), so a retry matches its first attempt.
func fingerprint(c *Command) uint64 {
	h := fnv{sum: 14695981039346656037}
	h.u64(uint64(c.Kind))
	h.u64(uint64(c.LeaseID))
	h.u64(uint64(c.TTL))
	h.str(c.Name)
	h.str(c.Owner)
	h.str(c.Value)
	h.u64(uint64(c.Token))
	h.bool(c.Wait)
	h.bool(c.Election)
	h.u64(uint64(len(c.Checkpoints)))
	for _, cp := range c.Checkpoints {
		h.u64(uint64(cp.LeaseID))
		h.u64(uint64(cp.Remaining))
	}
	// The access-control fields are hashed only when set, so every command
	// without them keeps the fingerprint it had before they existed (dedup
	// records in older snapshots still match their retries).
	if c.Creator != 0 || c.Accessor != 0 || c.ACLName != "" || len(c.ACLRules) != 0 || len(c.SecretHash) != 0 {
		h.u64(uint64(c.Creator))
		h.u64(uint64(c.Accessor))
		h.str(c.ACLName)
		h.u64(uint64(len(c.ACLRules)))
		for _, r := range c.ACLRules {
			h.str(r.Prefix)
			h.u64(uint64(r.Allow))
		}
		h.str(string(c.SecretHash))
	}
	return h.sum
}

type fnv struct{ sum uint64 }

func (h *fnv) byte(b byte) {
	h.sum ^= uint64(b)
	h.sum *= 1099511628211
}

func (h *fnv) u64(v uint64) {
	for i := 0; i < 8; i++ {
		h.byte(byte(v >> (8 * i)))
	}
}

func (h *fnv) str(s string) {
	h.u64(uint64(len(s)))
	for i := 0; i < len(s); i++ {
		h.byte(s[i])
	}
}

func (h *fnv) bool(b bool) {
	if b {
		h.byte(1)
	} else {
		h.byte(0)
	}
}
