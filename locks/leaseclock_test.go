package locks

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// Tests of LeaseClock with a fake clock (plain Duration readings): keepalive,
// expiry reports, a leader change in the middle of a lease, and the three
// sides of lease checkpoints: a new leader never expires a lease earlier than
// the old one would have; repeated elections extend a lease only boundedly
// once some leader lasted long enough to record it (and without bound when
// none does: the trade-off); and a lease kept alive in time never costs a
// log write.

func TestLeaseClockKeepaliveAndExpiry(t *testing.T) {
	c := NewLeaseClock()
	s := dur(time.Second)
	c.Track(1, 10*s, 0)
	c.Track(2, 5*s, 0)
	c.Track(3, 10*s, 0)
	steps := []struct {
		name    string
		do      func() any
		wantAny any
	}{
		{"nothing expired at 4s", func() any { return fmt.Sprint(c.Expired(4*s, 10)) }, "[]"},
		{"keepalive 1 at 4s", func() any { ttl, clr, ok := c.Keepalive(1, 4*s); return fmt.Sprint(ttl, clr, ok) }, "10s false true"},
		{"2 expired at 5s", func() any { return fmt.Sprint(c.Expired(5*s, 10)) }, "[2]"},
		{"2 not reported twice", func() any { return fmt.Sprint(c.Expired(6*s, 10)) }, "[]"},
		{"2 cannot be kept alive", func() any { _, _, ok := c.Keepalive(2, 6*s); return ok }, false},
		{"3 past deadline cannot be kept alive", func() any { _, _, ok := c.Keepalive(3, 10*s); return ok }, false},
		{"limit 0 reports nothing", func() any { return fmt.Sprint(c.Expired(20*s, 0)) }, "[]"},
		{"1 and 3 expired at 14s, earliest deadline first", func() any { return fmt.Sprint(c.Expired(14*s, 10)) }, "[3 1]"},
		{"unknown lease", func() any { _, _, ok := c.Keepalive(9, 0); return ok }, false},
		{"remaining of expired", func() any { r, ok := c.Remaining(1, 20*s); return fmt.Sprint(r, ok) }, "0s true"},
		{"forget", func() any { c.Forget(1); _, ok := c.Remaining(1, 0); return ok }, false},
	}
	for _, st := range steps {
		if got := st.do(); got != st.wantAny {
			t.Fatalf("%s: got %v; want %v", st.name, got, st.wantAny)
		}
		checkClock(t, c)
	}
}

// TestLeaseClockLeaderChange: a lease kept alive by the old leader survives
// a leader change in the middle of it: the new leader (whose monotonic clock
// has another origin) expires it no earlier than the old leader's deadline.
func TestLeaseClockLeaderChange(t *testing.T) {
	s := dur(time.Second)
	h := newHarness(t)
	id := h.lease(10 * time.Second)
	old := NewLeaseClock()
	old.Reset(100*s, h.tbl.LeaseTimers()) // old leader's clock reads 100s at real 0
	old.Keepalive(id, 103*s)              // real 3s: deadline real 13s
	// The old leader dies at real 5s; the new one (clock = real + 7s)
	// resets at real 8s.
	nw := NewLeaseClock()
	nw.Reset(15*s, h.tbl.LeaseTimers())
	for real := 8 * s; real < 13*s; real += s / 10 {
		if got := nw.Expired(real+7*s, 10); len(got) != 0 {
			t.Fatalf("new leader expired %v at real %s; old deadline was real 13s", got, real)
		}
	}
	if got := nw.Expired(18*s+7*s, 10); len(got) != 1 || got[0] != id {
		t.Errorf("Expired(real 18s) = %v; want [%d]", got, id)
	}
}

// leaderSim runs leaders over one table in real time, with per-leader clock
// offsets, periodic checkpoints, elections and random keepalives.
type leaderSim struct {
	t       *testing.T
	h       *harness
	clock   *LeaseClock
	offset  Duration
	expired map[LeaseID]Duration // real time of expiry
	r       *rand.Rand
	// records and clears count the CheckpointLeases commands committed by
	// checkpoint rounds and by keepalives (clearing writes).
	records, clears int
}

func (s *leaderSim) elect(real Duration) {
	s.offset = Duration(s.r.Int64N(int64(time.Hour)))
	s.clock = NewLeaseClock()
	s.clock.Reset(real+s.offset, s.h.tbl.LeaseTimers())
}

func (s *leaderSim) checkpoint(real Duration) {
	cps := s.clock.Checkpoints(real + s.offset)
	if len(cps) > 0 {
		s.h.ok(Command{Kind: KindCheckpointLeases, Checkpoints: cps})
		s.records++
	}
}

// keepalive answers a keepalive the way the server must: clear first.
func (s *leaderSim) keepalive(id LeaseID, real Duration) (deadline Duration, ok bool) {
	_, clr, ok := s.clock.Keepalive(id, real+s.offset)
	if !ok {
		return 0, false
	}
	if clr {
		s.h.ok(Command{Kind: KindCheckpointLeases, Checkpoints: []Checkpoint{{LeaseID: id}}})
		s.clears++
	}
	rem, _ := s.clock.Remaining(id, real+s.offset)
	return real + rem, true
}

// checkClock verifies the clock's heap invariant.
func checkClock(t *testing.T, c *LeaseClock) {
	t.Helper()
	n := 0
	for id, lt := range c.timers {
		if lt.id != id {
			t.Fatalf("timer %d has id %d", id, lt.id)
		}
		if lt.expiring {
			continue
		}
		n++
		if lt.heapIndex < 0 || lt.heapIndex >= len(c.due) || c.due[lt.heapIndex] != lt {
			t.Fatalf("timer %d not at its heap index %d", id, lt.heapIndex)
		}
	}
	if n != len(c.due) {
		t.Fatalf("%d timers due, heap holds %d", n, len(c.due))
	}
	for i := 1; i < len(c.due); i++ {
		if c.due.Less(i, (i-1)/2) {
			t.Fatalf("heap order broken at %d", i)
		}
	}
}

func (s *leaderSim) expire(real Duration) {
	checkClock(s.t, s.clock)
	for _, id := range s.clock.Expired(real+s.offset, CheckpointsPerCommandMax) {
		s.h.ok(Command{Kind: KindExpireLease, LeaseID: id})
		s.clock.Forget(id)
		s.expired[id] = real
	}
}

// TestCheckpointNeverEarlier: with random keepalives, checkpoints and
// elections, every lease expires no earlier than the latest deadline any
// leader promised a client (real time).
func TestCheckpointNeverEarlier(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			sec := dur(time.Second)
			sim := &leaderSim{t: t, h: newHarness(t), expired: make(map[LeaseID]Duration), r: rand.New(rand.NewPCG(seed, 7))}
			var ids []LeaseID
			for i := 0; i < 5; i++ {
				ids = append(ids, sim.h.lease(time.Duration(2+i*2)*time.Second))
			}
			promised := make(map[LeaseID]Duration)
			sim.elect(0)
			for _, lt := range sim.h.tbl.LeaseTimers() {
				promised[lt.ID] = lt.TTL
			}
			step := sec / 10
			for real := Duration(0); real < 90*sec; real += step {
				switch p := sim.r.IntN(100); {
				case p < 3:
					// Elections stop at 75s so every lease ends: one nobody
					// keeps alive is recorded only under a leader that lasts
					// ttl/2 + C (TestCheckpointBoundsExtension).
					if real < 75*sec {
						sim.elect(real)
					}
				case p < 10:
					sim.checkpoint(real)
				case p < 40:
					id := ids[sim.r.IntN(len(ids))]
					if real < 30*sec { // keepalives stop at 30s so every lease ends
						if d, ok := sim.keepalive(id, real); ok {
							promised[id] = d
						}
					}
				}
				sim.expire(real)
				for id, at := range sim.expired {
					if at < promised[id] {
						t.Fatalf("lease %d expired at real %s; a leader promised it until %s", id, at, promised[id])
					}
				}
			}
			if len(sim.expired) != len(ids) {
				t.Errorf("%d of %d leases expired by 90s; want all", len(sim.expired), len(ids))
			}
		})
	}
}

// TestCheckpointBoundsExtension: a lease nobody keeps alive, with a new
// leader every E and checkpoints every C < E. Without checkpoints each leader
// restarts the full ttl and the lease never expires. With them it is first
// recorded once it is quiet (ttl/CheckpointQuietDivisor left), so only by a
// leader that lasts ttl/CheckpointQuietDivisor + C:
//   - E >= ttl/2 + C: the first leader records it; from then on every round
//     records it and each election wastes at most the C since the last
//     round, so it expires by ttl/(1 - C/E) (here 10s/(1 - 1/7) = 11.7s);
//   - E < ttl/2 + C: no leader records it, so each one restarts the ttl and
//     the lease lives for ever. This is the price of keepalives that never
//     write (TestCheckpointHealthyLeaseNeverWrites); changing it changes
//     that trade-off, so this case pins it.
func TestCheckpointBoundsExtension(t *testing.T) {
	sec := dur(time.Second)
	ttl, cpEvery := 10*sec, 1*sec
	cases := []struct {
		name        string
		every       Duration // election interval E
		checkpoints bool
		expireBy    Duration // 0: must never expire within the run
	}{
		{"no checkpoints: lives for ever", 7 * sec, false, 0},
		{"elections every 7s >= ttl/2 + C: bounded by ttl/(1 - C/E)", 7 * sec, true, Duration(float64(ttl) / (1 - float64(cpEvery)/float64(7*sec)))},
		{"elections every 4s < ttl/2 + C: never recorded, lives for ever", 4 * sec, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sim := &leaderSim{t: t, h: newHarness(t), expired: make(map[LeaseID]Duration), r: rand.New(rand.NewPCG(1, 2))}
			id := sim.h.lease(time.Duration(ttl))
			sim.elect(0)
			step := sec / 10
			for real := Duration(0); real <= 100*sec; real += step {
				if real > 0 && real%tc.every == 0 {
					sim.elect(real)
				}
				if tc.checkpoints && real%cpEvery == 0 {
					sim.checkpoint(real)
				}
				sim.expire(real)
			}
			at, gone := sim.expired[id]
			switch {
			case tc.expireBy == 0 && gone:
				t.Errorf("lease expired at %s; want alive at 100s: no leader records it, so each election restarts the ttl", at)
			case tc.expireBy != 0 && (!gone || at > tc.expireBy+step):
				t.Errorf("lease expired at %s (expired %t); want by %s", at, gone, tc.expireBy)
			case tc.expireBy != 0 && at < ttl:
				t.Errorf("lease expired at %s; want no earlier than its ttl %s", at, ttl)
			}
		})
	}
}

// TestLeaseClockObserve: the clock follows the leases each Apply creates and
// ends, including one created by an acquire and revoked with its release.
func TestLeaseClockObserve(t *testing.T) {
	sec := dur(time.Second)
	h := newHarness(t)
	c := NewLeaseClock()
	steps := []struct {
		name string
		cmd  Command
		now  Duration
		want string // tracked leases and remaining times after the step
	}{
		{"create", Command{Kind: KindCreateLease, TTL: dur(10 * time.Second)}, 0, "1:10s"},
		{"acquire without lease", Command{Kind: KindAcquire, Name: "a", TTL: dur(5 * time.Second)}, sec, "1:9s 2:5s"},
		{"acquire on lease 1 keeps its deadline", Command{Kind: KindAcquire, Name: "b", LeaseID: 1}, 2 * sec, "1:8s 2:4s"},
		{"release revokes the single lease", Command{Kind: KindRelease, Name: "a", Token: 2}, 3 * sec, "1:7s"},
		{"revoke", Command{Kind: KindRevokeLease, LeaseID: 1}, 4 * sec, ""},
	}
	for _, st := range steps {
		h.ok(st.cmd)
		c.Observe(h.tbl, st.now)
		got := ""
		for id := LeaseID(1); id <= 5; id++ {
			if r, ok := c.Remaining(id, st.now); ok {
				got += fmt.Sprintf(" %d:%s", id, r)
			}
		}
		if len(got) > 0 {
			got = got[1:]
		}
		if got != st.want {
			t.Errorf("%s: tracked %q; want %q", st.name, got, st.want)
		}
	}
}

// TestCheckpointHealthyLeaseNeverWrites: a lease kept alive every ttl/3
// across checkpoint rounds and leader changes is never recorded, so its
// keepalives need no clearing write. Once it misses keepalives (at most half
// its ttl left) a round records it, and its late keepalive clears the record.
func TestCheckpointHealthyLeaseNeverWrites(t *testing.T) {
	sec := dur(time.Second)
	ttl := 15 * sec
	sim := &leaderSim{t: t, h: newHarness(t), expired: make(map[LeaseID]Duration), r: rand.New(rand.NewPCG(3, 4))}
	id := sim.h.lease(time.Duration(ttl))
	sim.elect(0)
	keepalive := func(real Duration) {
		t.Helper()
		if _, ok := sim.keepalive(id, real); !ok {
			t.Fatalf("keepalive(%d) at %s: lease gone", id, real)
		}
	}
	for real := Duration(0); real < 120*sec; real += sec {
		if real > 0 && real%(20*sec) == 0 { // a new leader every 20s
			sim.elect(real)
		}
		if real%(5*sec) == 0 { // a checkpoint round every 5s
			sim.checkpoint(real)
		}
		if real%(5*sec) == 2*sec { // a keepalive every ttl/3, between rounds
			keepalive(real)
		}
		sim.expire(real)
	}
	if sim.records != 0 || sim.clears != 0 {
		t.Fatalf("a healthy lease over 120s and 5 leader changes: %d checkpoint and %d clearing writes; want 0 and 0", sim.records, sim.clears)
	}
	// Quiet for 9s after its keepalive at 117s: at most half its ttl is
	// left, so the next round records it.
	sim.checkpoint(126 * sec)
	if got := sim.h.tbl.LeaseTimers(); sim.records != 1 || len(got) != 1 || got[0].Checkpointed != 6*sec {
		t.Fatalf("after the round at 126s: %d checkpoint writes, leases %+v; want 1 write recording 6s left", sim.records, got)
	}
	keepalive(128 * sec)
	if got := sim.h.tbl.LeaseTimers(); sim.clears != 1 || len(got) != 1 || got[0].Checkpointed != 0 {
		t.Fatalf("after the late keepalive: %d clearing writes, leases %+v; want 1 write clearing the record", sim.clears, got)
	}
	// Healthy again, under a new leader too: no more writes.
	sim.elect(130 * sec)
	for real := 130 * sec; real < 160*sec; real += sec {
		if real%(5*sec) == 0 {
			sim.checkpoint(real)
		}
		if real%(5*sec) == 3*sec {
			keepalive(real)
		}
		sim.expire(real)
	}
	if sim.records != 1 || sim.clears != 1 {
		t.Fatalf("healthy again: %d checkpoint and %d clearing writes in all; want 1 and 1", sim.records, sim.clears)
	}
}
