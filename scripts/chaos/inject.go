package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"
)

// injector fires a schedule of faults at a cluster.
type injector struct {
	c      *cluster
	api    *api
	out    *progress
	events io.Writer // one JSON object per fault

	mu     sync.Mutex
	counts [faultKinds]int
	// leaderHits counts the faults aimed at the leader that found one.
	leaderHits int
}

// faultEvent is one line of events.jsonl.
type faultEvent struct {
	AtMillis     int64    `json:"at_ms"`
	Fault        string   `json:"fault"`
	Nodes        []string `json:"nodes"`
	WasLeader    bool     `json:"was_leader,omitempty"`
	LengthMillis int64    `json:"length_ms"`
	Detail       string   `json:"detail,omitempty"`
}

// run fires faults, each at phaseStart+At, until they are done or ctx ends;
// every fault heals before run returns. The error is a harness failure (a
// node that could not be restarted).
func (in *injector) run(ctx context.Context, phaseStart time.Time, faults []fault) error {
	for _, f := range faults {
		if !sleepCtx(ctx, time.Until(phaseStart.Add(f.At))) {
			return nil
		}
		if err := in.inject(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

// sleepCtx waits d; false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// leader returns the running node that leads the highest term, or -1.
func (in *injector) leader(ctx context.Context) int {
	best, bestTerm := -1, uint64(0)
	for i, nd := range in.c.nodes {
		if !in.c.running(i) {
			continue
		}
		cs, ok := in.api.status(ctx, nd)
		if ok && cs.Role == "leader" && cs.Term >= bestTerm {
			best, bestTerm = i, cs.Term
		}
	}
	return best
}

// target resolves the node a fault aims at.
func (in *injector) target(ctx context.Context, f fault, rng *rand.Rand) (int, bool) {
	if f.Leader {
		if l := in.leader(ctx); l >= 0 {
			return l, true
		}
	}
	return rng.IntN(len(in.c.nodes)), false
}

// inject runs one fault for its length and heals it.
func (in *injector) inject(ctx context.Context, f fault) error {
	rng := rand.New(rand.NewPCG(f.Pick, 1))
	ev := faultEvent{Fault: f.Kind.String(), LengthMillis: f.Length.Milliseconds()}
	var err error
	switch f.Kind {
	case faultKill, faultPause, faultLongPause:
		err = in.process(ctx, f, rng, &ev)
	case faultWipe:
		err = in.wipe(ctx, f, rng, &ev)
	case faultPartition, faultFlap:
		minority, majority := sides(rng, len(in.c.nodes))
		ev.Nodes, ev.Detail = in.names(minority), "minority "+in.join(minority)+" | majority "+in.join(majority)
		in.record(f, ev)
		in.cutBetween(ctx, minority, majority, f, rng)
	case faultIsolateLeader:
		t, was := in.target(ctx, f, rng)
		ev.Nodes, ev.WasLeader = in.names([]int{t}), was
		in.record(f, ev)
		in.cutBetween(ctx, []int{t}, in.others(t), f, rng)
	case faultBridge:
		perm := rng.Perm(len(in.c.nodes))
		half := 1 + (len(perm)-1)/2
		a, b := perm[1:half], perm[half:]
		ev.Nodes, ev.Detail = in.names(perm[:1]), "bridge "+in.join(perm[:1])+" between "+in.join(a)+" and "+in.join(b)
		in.record(f, ev)
		in.cutBetween(ctx, a, b, f, rng)
	case faultSlow:
		t, was := in.target(ctx, f, rng)
		ev.Nodes, ev.WasLeader, ev.Detail = in.names([]int{t}), was, "delay "+f.Delay.String()
		in.record(f, ev)
		in.slow(ctx, t, f)
	}
	return err
}

// process kills or pauses a node for the fault's length.
func (in *injector) process(ctx context.Context, f fault, rng *rand.Rand, ev *faultEvent) error {
	t, was := in.target(ctx, f, rng)
	ev.Nodes, ev.WasLeader = in.names([]int{t}), was
	in.record(f, *ev)
	if f.Kind == faultKill {
		in.c.kill(t)
		sleepCtx(ctx, f.Length)
		return in.c.start(t)
	}
	in.c.pause(t)
	sleepCtx(ctx, f.Length)
	in.c.resume(t)
	return nil
}

// cutBetween cuts every link between a and b for the fault's length (for
// faultFlap, on and off), then heals them.
func (in *injector) cutBetween(ctx context.Context, a, b []int, f fault, rng *rand.Rand) {
	set := func(cut bool) {
		for _, i := range a {
			for _, j := range b {
				in.c.setCut(i, j, cut)
				in.c.setCut(j, i, cut)
			}
		}
	}
	defer set(false)
	if f.Kind != faultFlap {
		set(true)
		sleepCtx(ctx, f.Length)
		return
	}
	end := time.Now().Add(f.Length)
	cut := false
	for range FlapsMax {
		left := time.Until(end)
		if left <= 0 {
			return
		}
		cut = !cut
		set(cut)
		if !sleepCtx(ctx, min(left, between(rng, FlapPeriodMin, FlapPeriodMax))) {
			return
		}
	}
}

// slow delays every link to and from t for the fault's length.
func (in *injector) slow(ctx context.Context, t int, f fault) {
	set := func(d time.Duration) {
		for _, j := range in.others(t) {
			in.c.links[t][j].setDelay(d)
			in.c.links[j][t].setDelay(d)
		}
	}
	set(f.Delay)
	defer set(0)
	sleepCtx(ctx, f.Length)
}

// record counts a fault and logs it.
func (in *injector) record(f fault, ev faultEvent) {
	ev.AtMillis = in.out.elapsed().Milliseconds()
	in.mu.Lock()
	in.counts[f.Kind]++
	if ev.WasLeader {
		in.leaderHits++
	}
	in.mu.Unlock()
	b, err := json.Marshal(ev)
	assertf(err == nil, "marshal fault event: %v", err)
	if _, err := in.events.Write(append(b, '\n')); err != nil {
		in.out.printf("events file: %v", err)
	}
	lead := ""
	if ev.WasLeader {
		lead = " (leader)"
	}
	in.out.printf("fault %s %s%s for %v %s", ev.Fault, strings.Join(ev.Nodes, ","), lead, f.Length.Round(time.Millisecond), ev.Detail)
}

// faultCounts returns how many faults of each kind fired, by name.
func (in *injector) faultCounts() (map[string]int, int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	m := make(map[string]int)
	for k, n := range in.counts {
		m[faultKind(k).String()] = n
	}
	return m, in.leaderHits
}

func (in *injector) others(t int) []int {
	var o []int
	for i := range in.c.nodes {
		if i != t {
			o = append(o, i)
		}
	}
	return o
}

func (in *injector) names(idx []int) []string {
	s := append([]int(nil), idx...)
	sort.Ints(s)
	out := make([]string, len(s))
	for k, i := range s {
		out[k] = in.c.nodes[i].name
	}
	return out
}

func (in *injector) join(idx []int) string {
	return fmt.Sprintf("{%s}", strings.Join(in.names(idx), ","))
}
