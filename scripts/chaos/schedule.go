package main

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// faultKind names a kind of fault.
type faultKind uint8

// The fault kinds, in the order of faultWeights.
const (
	// faultKill: SIGKILL a node (the leader when Leader) and restart it
	// after Length.
	faultKill faultKind = iota
	// faultPause: SIGSTOP a node for Length, then SIGCONT.
	faultPause
	// faultLongPause: SIGSTOP the leader for longer than the lease ttl.
	faultLongPause
	// faultPartition: cut a minority from the majority.
	faultPartition
	// faultIsolateLeader: cut the leader from everyone.
	faultIsolateLeader
	// faultBridge: split the others in two sides that only one node (the
	// bridge) still connects.
	faultBridge
	// faultFlap: a minority/majority partition that comes and goes.
	faultFlap
	// faultSlow: every link to and from a node delayed by Delay.
	faultSlow
	// faultWipe: SIGKILL a node, lose its data dir, remove it from the
	// membership, and after Length start it again empty with --join: it
	// comes back as a learner and promotes itself once caught up.
	faultWipe
	faultKinds // the number of kinds
)

// faultWeights are the relative frequencies of the kinds.
var faultWeights = [faultKinds]int{
	faultKill: 20, faultPause: 12, faultLongPause: 8, faultPartition: 15,
	faultIsolateLeader: 12, faultBridge: 10, faultFlap: 10, faultSlow: 13,
	faultWipe: 6,
}

// String returns the kind's name as reports show it.
func (k faultKind) String() string {
	switch k {
	case faultKill:
		return "kill"
	case faultPause:
		return "pause"
	case faultLongPause:
		return "long_pause"
	case faultPartition:
		return "partition"
	case faultIsolateLeader:
		return "isolate_leader"
	case faultBridge:
		return "bridge"
	case faultFlap:
		return "flap"
	case faultWipe:
		return "wipe"
	case faultSlow:
		return "slow"
	}
	return fmt.Sprintf("fault(%d)", uint8(k))
}

// fault is one scheduled fault. Which node is the leader is resolved when it
// fires; everything else random is decided by Pick, so one seed always
// yields the same schedule.
type fault struct {
	// At is when it starts, from the start of the faulting phase.
	At time.Duration
	// Kind is what it does; Length how long until it heals.
	Kind   faultKind
	Length time.Duration
	// Leader: aim at the leader when one is known.
	Leader bool
	// Delay is the delay of faultSlow.
	Delay time.Duration
	// Pick seeds the choice of nodes and sides.
	Pick uint64
}

// quietTail is the fault-free end of a run of duration d.
func quietTail(d time.Duration) time.Duration { return max(QuietTailMin, d/10) }

// schedule returns the faults of a run: a function of its arguments only.
// The faults never overlap; every one heals before the quiet tail.
func schedule(seed uint64, duration time.Duration) []fault {
	rng := rand.New(rand.NewPCG(seed, 0x6368616f73)) // "chaos"
	end := duration - quietTail(duration)
	var out []fault
	t := QuietStart
	for len(out) < FaultsMax {
		t += between(rng, FaultGapMin, FaultGapMax)
		f := fault{At: t, Kind: pickKind(rng), Length: between(rng, FaultLengthMin, FaultLengthMax), Pick: rng.Uint64()}
		switch f.Kind {
		case faultKill:
			f.Leader = rng.IntN(10) < 6
		case faultWipe:
			f.Leader = rng.IntN(3) == 0
		case faultPause:
			f.Leader = rng.IntN(2) == 0
		case faultLongPause:
			f.Leader = true
			f.Length = LongPauseFactor*LeaseTTL + between(rng, 0, FaultLengthMin)
		case faultIsolateLeader:
			f.Leader = true
		case faultSlow:
			f.Leader = rng.IntN(2) == 0
			f.Delay = between(rng, SlowDelayMin, SlowDelayMax)
		}
		if t+f.Length > end {
			break
		}
		out = append(out, f)
		t += f.Length
	}
	return out
}

// between returns a random duration in [lo, hi).
func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(rng.Int64N(int64(hi-lo)))
}

func pickKind(rng *rand.Rand) faultKind {
	total := 0
	for _, w := range faultWeights {
		total += w
	}
	r := rng.IntN(total)
	for k, w := range faultWeights {
		if r < w {
			return faultKind(k)
		}
		r -= w
	}
	assertf(false, "weight %d past the total %d", r, total)
	return faultKill
}

// sides splits n nodes in a minority (1..(n-1)/2 nodes) and the rest, from
// rng.
func sides(rng *rand.Rand, n int) (minority, majority []int) {
	perm := rng.Perm(n)
	k := 1 + rng.IntN((n-1)/2)
	return perm[:k], perm[k:]
}
