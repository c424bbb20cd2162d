package locks

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// The property test applies long random command sequences and checks after
// every step: at most one holder per lock, every holder's and waiter's lease
// alive, tokens strictly increasing per lock (never reused), queues FIFO (a
// grant from a queue goes to the first live waiter, new waiters join at the
// end), no waiter on a free lock; plus checkInvariants. At a random step it
// snapshots the table, restores a copy, and feeds both the rest of the
// sequence: every result and the final snapshot bytes must be equal.
// A failure prints the seed; -locks.seed=N replays it.

var (
	propSeeds = flag.Int("locks.seeds", 6, "random sequences the property test runs")
	propSteps = flag.Int("locks.steps", 2000, "commands per random sequence")
	propSeed  = flag.Uint64("locks.seed", 0, "run only this seed (0 = seeds 1..locks.seeds)")
)

var propNames = [...]string{"a", "b", "c", "d", "e/f"}

// gen draws random commands against what it knows of the table.
type gen struct {
	r      *rand.Rand
	tbl    *Table
	now    int64
	ids    []string
	sent   []Command // commands sent with a request id, for retries
	leases []LeaseID // every lease id ever returned (live or not)
}

func (g *gen) lease() LeaseID {
	switch p := g.r.IntN(10); {
	case p == 0 || len(g.leases) == 0:
		return LeaseID(g.r.IntN(50) + 1)
	case p < 3:
		return g.leases[g.r.IntN(len(g.leases))]
	}
	live := g.tbl.LeaseTimers()
	if len(live) == 0 {
		return g.leases[g.r.IntN(len(g.leases))]
	}
	return live[g.r.IntN(len(live))].ID
}

func (g *gen) token(name string, election bool) Token {
	li := g.tbl.info(name, election)
	if li.Held && g.r.IntN(5) != 0 {
		return li.Holder.Token
	}
	return Token(g.r.IntN(int(g.tbl.applied)+2) + 1)
}

func (g *gen) next() Command {
	g.now += int64(g.r.IntN(int(2 * time.Second)))
	if g.r.IntN(50) == 0 {
		g.now -= int64(time.Second) // a new leader's clock may be behind
	}
	if len(g.sent) > 0 && g.r.IntN(10) == 0 {
		c := g.sent[len(g.sent)-1-g.r.IntN(min(len(g.sent), 20))] // a retry
		c.Time = max(g.now, 0)
		return c
	}
	c := g.draw()
	if c.RequestID != "" {
		g.sent = append(g.sent, c)
	}
	return c
}

func (g *gen) draw() Command {
	c := Command{Time: max(g.now, 0)}
	name, election := propNames[g.r.IntN(len(propNames))], g.r.IntN(4) == 0
	switch p := g.r.IntN(100); {
	case p < 12:
		c.Kind, c.TTL = KindCreateLease, Duration(g.r.IntN(3))*TTLMin
	case p < 17:
		c.Kind, c.LeaseID = KindRevokeLease, g.lease()
	case p < 22:
		c.Kind, c.LeaseID = KindExpireLease, g.lease()
	case p < 25:
		c.Kind = KindCheckpointLeases
		for _, lt := range g.tbl.LeaseTimers() {
			if g.r.IntN(2) == 0 {
				c.Checkpoints = append(c.Checkpoints, Checkpoint{LeaseID: lt.ID, Remaining: Duration(g.r.Int64N(int64(lt.TTL) + 1))})
			}
		}
	case p < 60:
		c.Kind, c.Name, c.Election, c.Wait = KindAcquire, name, election, g.r.IntN(2) == 0
		if g.r.IntN(8) != 0 {
			c.LeaseID = g.lease()
		}
		if election {
			c.Value = fmt.Sprintf("v%d", g.r.IntN(3))
		}
	case p < 75:
		c.Kind, c.Name, c.Token = KindRelease, name, g.token(name, false)
	case p < 85:
		c.Kind, c.Name, c.Election, c.LeaseID = KindCancelWait, name, election, g.lease()
		if li := g.tbl.info(name, election); len(li.Waiters) > 0 && g.r.IntN(2) == 0 {
			c.LeaseID = li.Waiters[g.r.IntN(len(li.Waiters))].LeaseID
		}
	case p < 92:
		c.Kind, c.Name, c.Token, c.Value = KindProclaim, name, g.token(name, true), fmt.Sprintf("p%d", g.r.IntN(3))
	default:
		c.Kind, c.Name, c.Token = KindResign, name, g.token(name, true)
	}
	switch q := g.r.IntN(10); {
	case q < 3:
		c.RequestID = fmt.Sprintf("req-%d", len(g.ids))
		g.ids = append(g.ids, c.RequestID)
	case q < 4 && len(g.ids) > 0:
		c.RequestID = g.ids[g.r.IntN(len(g.ids))] // a retry, or a reuse for another command
	}
	return c
}

func TestProperties(t *testing.T) {
	seeds := make([]uint64, 0, *propSeeds)
	if *propSeed != 0 {
		seeds = append(seeds, *propSeed)
	} else {
		for s := 1; s <= *propSeeds; s++ {
			seeds = append(seeds, uint64(s))
		}
	}
	steps := *propSteps
	if testing.Short() && *propSeed == 0 {
		seeds, steps = seeds[:min(len(seeds), 2)], min(steps, 500)
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			runProperties(t, seed, steps)
		})
	}
}

func runProperties(t *testing.T, seed uint64, steps int) {
	r := rand.New(rand.NewPCG(seed, 0x10c5))
	a := NewTable()
	g := &gen{r: r, tbl: a, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()}
	var b *Table // the restored copy, once made
	restoreAt := r.IntN(steps)
	h := newHandle()
	outcomes := make(map[string]int) // kind/code -> count, logged with -v
	defer func() { t.Logf("seed %d: restored at step %d; outcomes %v", seed, restoreAt, outcomes) }()
	for i := 0; i < steps; i++ {
		index := a.applied + 1 + Index(r.IntN(3)) // gaps: entries locks never sees
		if i == restoreAt {
			b = snapshotCopy(t, a)
		}
		c := g.next()
		data, err := encodeCommand(h, &c)
		if err != nil {
			t.Fatalf("seed %d step %d: encode: %v", seed, i, err)
		}
		before, leasesBefore := observe(a), observeLeases(a)
		res := a.Apply(index, data)
		outcomes[fmt.Sprintf("%s/%s/dup=%t/queued=%t", c.Kind, Code(res.Err), res.Duplicate, res.Queued)]++
		if len(a.Changes()) > 0 && res.Err == nil {
			for _, ch := range a.Changes() {
				if li := a.info(ch.Name, ch.Kind == ObjectElection); ch.Kind != ObjectLease && li.Held && li.Holder.Token == Token(index) && c.Kind != KindAcquire {
					outcomes["handoff"]++
				}
			}
		}
		if res.LeaseID != 0 && res.Err == nil {
			g.leases = append(g.leases, res.LeaseID)
		}
		if err := a.checkInvariants(); err != nil {
			t.Fatalf("seed %d step %d (%s): %v", seed, i, c.Kind, err)
		}
		if err := checkStep(a, index, before, observe(a)); err != nil {
			t.Fatalf("seed %d step %d (%+v): %v", seed, i, c, err)
		}
		if err := checkChanges(a, index, before, observe(a), leasesBefore, observeLeases(a)); err != nil {
			t.Fatalf("seed %d step %d (%+v): %v", seed, i, c, err)
		}
		if b != nil {
			if got := b.Apply(index, data); !sameResult(got, res) {
				t.Fatalf("seed %d step %d: restored table gave %+v (%v); want %+v (%v)", seed, i, got, got.Err, res, res.Err)
			}
		}
	}
	if b == nil {
		return
	}
	var sa, sb bytes.Buffer
	if err := a.Snapshot(&sa); err != nil {
		t.Fatal(err)
	}
	if err := b.Snapshot(&sb); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sa.Bytes(), sb.Bytes()) {
		t.Fatalf("seed %d: snapshots differ after the same commands (%d vs %d bytes)", seed, sa.Len(), sb.Len())
	}
}

func snapshotCopy(t *testing.T, a *Table) *Table {
	t.Helper()
	var buf bytes.Buffer
	if err := a.Snapshot(&buf); err != nil {
		t.Fatalf("Snapshot() = %v", err)
	}
	b := NewTable()
	if err := b.Restore(&buf); err != nil {
		t.Fatalf("Restore(Snapshot()) = %v", err)
	}
	return b
}

func sameResult(x, y Result) bool {
	if Code(x.Err) != Code(y.Err) || (x.Err != nil && x.Err.Error() != y.Err.Error()) {
		return false
	}
	x.Err, y.Err = nil, nil
	return x == y
}

// view is the observable state of every name of the property test.
type view map[ObjectRef]LockInfo

func observe(t *Table) view {
	v := make(view)
	for _, name := range propNames {
		for _, election := range [2]bool{false, true} {
			v[ObjectRef{Kind: objectKind(election), Name: name}] = t.info(name, election)
		}
	}
	return v
}

func observeLeases(t *Table) map[LeaseID]LeaseInfo {
	m := make(map[LeaseID]LeaseInfo)
	for _, lt := range t.LeaseTimers() {
		m[lt.ID], _ = t.Lease(lt.ID)
	}
	return m
}

// checkChanges: every lock, election and lease whose observable state
// changed in the entry is in Changes() and carries ModifyIndex == index (an
// absent object reports the index that removed it), so the server's blocking
// queries and event streams miss nothing.
func checkChanges(t *Table, index Index, before, after view, lb, la map[LeaseID]LeaseInfo) error {
	listed := make(map[Change]bool)
	for _, ch := range t.Changes() {
		listed[ch] = true
	}
	for ref, cur := range after {
		old := before[ref]
		cmpOld, cmpCur := old, cur
		cmpOld.ModifyIndex, cmpCur.ModifyIndex = 0, 0
		if sameInfo(cmpOld, cmpCur) {
			continue
		}
		if !listed[Change{Kind: ref.Kind, Name: ref.Name}] {
			return fmt.Errorf("%s %q changed but is not in Changes() %v", ref.Kind, ref.Name, t.Changes())
		}
		if cur.ModifyIndex != index {
			return fmt.Errorf("%s %q changed at %d but reports ModifyIndex %d", ref.Kind, ref.Name, index, cur.ModifyIndex)
		}
	}
	for id, old := range lb {
		cur, ok := la[id]
		if ok && sameLeaseState(old, cur) {
			continue
		}
		if !listed[Change{Kind: ObjectLease, LeaseID: id}] {
			return fmt.Errorf("lease %d changed (alive %t) but is not in Changes() %v", id, ok, t.Changes())
		}
		if ok && cur.ModifyIndex != index {
			return fmt.Errorf("lease %d changed at %d but reports ModifyIndex %d", id, index, cur.ModifyIndex)
		}
	}
	for id := range la {
		if _, ok := lb[id]; !ok && !listed[Change{Kind: ObjectLease, LeaseID: id}] {
			return fmt.Errorf("lease %d created but not in Changes() %v", id, t.Changes())
		}
	}
	return nil
}

func sameLeaseState(x, y LeaseInfo) bool {
	x.ModifyIndex, y.ModifyIndex = 0, 0
	if !sameLease(x, y) {
		return false
	}
	for i := range x.Waits {
		if x.Waits[i] != y.Waits[i] {
			return false
		}
	}
	return true
}

// checkStep checks the properties between two views around the entry index.
func checkStep(t *Table, index Index, before, after view) error {
	for ref, li := range after {
		old := before[ref]
		if !li.Held && len(li.Waiters) > 0 {
			return fmt.Errorf("%s %q is free with %d waiters", ref.Kind, ref.Name, len(li.Waiters))
		}
		if li.Held {
			if _, ok := t.Lease(li.Holder.LeaseID); !ok {
				return fmt.Errorf("%s %q held by dead lease %d", ref.Kind, ref.Name, li.Holder.LeaseID)
			}
		}
		for _, w := range li.Waiters {
			if _, ok := t.Lease(w.LeaseID); !ok {
				return fmt.Errorf("%s %q: dead lease %d waits", ref.Kind, ref.Name, w.LeaseID)
			}
		}
		if li.Holder.Token != old.Holder.Token && li.Held {
			if li.Holder.Token <= old.Holder.Token && old.Held {
				return fmt.Errorf("%s %q: token %d after %d", ref.Kind, ref.Name, li.Holder.Token, old.Holder.Token)
			}
			if li.Holder.Token != Token(index) {
				return fmt.Errorf("%s %q: granted token %d at index %d", ref.Kind, ref.Name, li.Holder.Token, index)
			}
		}
		if err := checkFIFO(ref, index, old, li); err != nil {
			return err
		}
	}
	return nil
}

// checkFIFO: the new queue is the old one minus some waiters, plus waiters
// enqueued at index appended; a waiter granted from the queue had every
// waiter ahead of it leave the queue in the same entry.
func checkFIFO(ref ObjectRef, index Index, old, cur LockInfo) error {
	j := 0
	for _, w := range cur.Waiters {
		if w.EnqueuedAt == index {
			continue
		}
		for j < len(old.Waiters) && old.Waiters[j] != w {
			j++
		}
		if j == len(old.Waiters) {
			return fmt.Errorf("%s %q: waiter %+v not in the old queue order %+v", ref.Kind, ref.Name, w, old.Waiters)
		}
		j++
	}
	for i, w := range cur.Waiters {
		if w.EnqueuedAt == index && i < len(cur.Waiters)-1 && cur.Waiters[i+1].EnqueuedAt != index {
			return fmt.Errorf("%s %q: new waiter %+v not at the end", ref.Kind, ref.Name, w)
		}
	}
	if !cur.Held || cur.Holder.Token == old.Holder.Token {
		return nil
	}
	for p, w := range old.Waiters {
		if w.LeaseID != cur.Holder.LeaseID {
			continue
		}
		for _, ahead := range old.Waiters[:p] {
			for _, still := range cur.Waiters {
				if still == ahead {
					return fmt.Errorf("%s %q: lease %d granted over earlier waiter %d", ref.Kind, ref.Name, w.LeaseID, ahead.LeaseID)
				}
			}
		}
	}
	return nil
}
