package lockmodel

import (
	"fmt"

	"github.com/anishathalye/porcupine"
)

// expiry is one spontaneous lease expiry the model may insert before an
// operation: the end of a known lease, or the freeing of an object whose own
// lease id is not known yet.
type expiry struct {
	lease  LeaseID // 0: free the object at position object
	object int
}

// expiries lists the expiries that could change the outcome of in from s: the
// operation's own lease and the lease holding its object. Delaying every
// other expiry until an operation it can change is harmless, so these are all
// the model needs to try (doc.go, rule 3).
func expiries(s *state, in Input) []expiry {
	var c []expiry
	usesLease := in.Kind == KindKeepAlive || in.Kind == KindRevoke || in.Kind == KindAcquire || in.Kind == KindCampaign
	if usesLease && in.Lease != 0 {
		if l, known := s.lease(in.Lease); known && !l.dead {
			c = append(c, expiry{lease: in.Lease, object: -1})
		}
	}
	if in.Kind.isLeaseOp() {
		return c
	}
	o, i := s.object(keyOf(in))
	switch {
	case !o.held:
	case o.h.lease == 0:
		c = append(c, expiry{object: i})
	case o.h.lease != in.Lease || !usesLease:
		l, known := s.lease(o.h.lease)
		assertf(known && !l.dead, "%s held by lease %d the state does not hold alive", o.key, o.h.lease)
		c = append(c, expiry{lease: o.h.lease, object: -1})
	}
	assertf(len(c) <= 2, "%d expiries for one operation", len(c))
	return c
}

// nextStates is the model's step: every state in may lead to from s with out,
// after the fewest relevant lease expiries that allow it. An expiry the answer
// does not need is left for later: the answers that hold with and without it
// change nothing it touches, so it commutes with them, and taking both
// branches would double the checker's state set for every lease left to
// expire on its own (doc.go, rule 3).
func nextStates(opts Options, s *state, in Input, out Output) []*state {
	if out.Status == StatusRejected {
		return one(s)
	}
	c := expiries(s, in)
	var next []*state
	for _, level := range expiryLevels(len(c)) {
		for _, mask := range level {
			t := s
			if mask != 0 {
				t = s.clone()
				for b, e := range c {
					if mask&(1<<b) == 0 {
						continue
					}
					if e.lease != 0 {
						t.kill(e.lease)
					} else {
						t.free(e.object)
					}
				}
			}
			if out.Status != StatusUnknown {
				next = append(next, step(opts, t, in, out)...)
			} else if e := effect(t, in); e != nil {
				next = append(next, e)
			}
		}
		if len(next) > 0 {
			break
		}
	}
	assertf(len(next) <= StatesPerStepMax, "%d states from one step", len(next))
	if out.Status == StatusUnknown && len(next) == 0 {
		return one(s) // no effect possible here: the same as linearizing it last
	}
	return next
}

// expiryLevels lists, for n candidate expiries, the subsets to try (as bit
// masks) grouped by size: none, then each alone, then both.
func expiryLevels(n int) [][]int {
	switch n {
	case 0:
		return [][]int{{0}}
	case 1:
		return [][]int{{0}, {1}}
	}
	assertf(n == 2, "%d candidate expiries", n)
	return [][]int{{0}, {1, 2}, {3}}
}

// FenceRule is the rule by which the server validates a fencing token.
type FenceRule uint8

// The fence rules.
const (
	// FenceHolderOnly: fence(N) is valid iff N is the current holder's
	// token. The default.
	FenceHolderOnly FenceRule = iota
	// FenceHolderOrNewer: also valid when the lock is free and N is greater
	// than every grant of that lock (the lock table's Fence compares with the
	// newest token of every forgotten lock, so stale is always accepted for a
	// free lock).
	FenceHolderOrNewer
)

// Options select between the semantics the model can check.
type Options struct {
	Fence FenceRule
}

// Model returns the Porcupine model of raftlock's client API with the
// default options. Operation inputs must be Input and outputs Output values.
// The model partitions a history per lock and per election name (see
// doc.go); use Check to add the cross-partition checks.
func Model() porcupine.Model {
	return Options{}.Model()
}

// Model returns the Porcupine model under o.
func (o Options) Model() porcupine.Model {
	nm := porcupine.NondeterministicModel{
		Partition:      partitionOperations,
		PartitionEvent: partitionEvents,
		Init:           func() []any { return []any{&state{}} },
		Step: func(st, in, out any) []any {
			next := nextStates(o, st.(*state), in.(Input), out.(Output))
			states := make([]any, len(next))
			for i, n := range next {
				states[i] = n
			}
			return states
		},
		Equal: func(a, b any) bool { return a.(*state).equal(b.(*state)) },
		Hash:  func(st any) uint64 { return st.(*state).hash() },
		DescribeOperation: func(in, out any) string {
			return fmt.Sprintf("%v -> %v", in, out)
		},
		DescribeState: func(st any) string { return st.(*state).String() },
	}
	return nm.ToModel()
}
