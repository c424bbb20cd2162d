package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

// agreedLeader returns the leader every node names, when all answer, all
// name the same one and it says it leads; ok is false otherwise.
func agreedLeader(ctx context.Context, c *cluster, a *api) (idx int, cs wire.Cluster, ok bool) {
	leader := ""
	var all []wire.Cluster
	for _, nd := range c.nodes {
		s, ok := a.status(ctx, nd)
		if !ok || s.Leader == "" || (leader != "" && s.Leader != leader) {
			return -1, cs, false
		}
		leader = s.Leader
		all = append(all, s)
	}
	for i, nd := range c.nodes {
		if nd.name == leader && all[i].Role == "leader" {
			return i, all[i], true
		}
	}
	return -1, cs, false
}

// waitFor calls cond every PollInterval until it is true or the deadline
// passes; false then.
func waitFor(ctx context.Context, deadline time.Time, cond func() bool) bool {
	for {
		if cond() {
			return true
		}
		if !sleepCtx(ctx, min(PollInterval, time.Until(deadline))) || time.Now().After(deadline) {
			return cond()
		}
	}
}

// checkLiveness runs right after the last fault healed: within
// LivenessTimeout every node must name the same leader and one write must
// commit through it.
func checkLiveness(ctx context.Context, c *cluster, a *api) verdict {
	var f finding
	start := time.Now()
	deadline := start.Add(LivenessTimeout)
	var leader int
	var cs wire.Cluster
	if !waitFor(ctx, deadline, func() bool {
		var ok bool
		leader, cs, ok = agreedLeader(ctx, c, a)
		return ok
	}) {
		f.addf("the nodes did not agree on a leader within %v of the last heal", LivenessTimeout)
		return f.verdict("liveness", "")
	}
	agreed := time.Since(start)
	var written time.Duration
	probe := 0
	if !waitFor(ctx, deadline, func() bool {
		probe++
		actx, cancel := context.WithTimeout(ctx, time.Until(deadline))
		defer cancel()
		ans, err := a.do(actx, http.MethodPost, c.nodes[leader].clientURL()+"/v1/leases",
			wire.LeaseRequest{TTL: wire.Duration(LeaseTTL)}, fmt.Sprintf("chaos-liveness-%d", probe))
		written = time.Since(start)
		return err == nil && ans.ok()
	}) {
		f.addf("no write committed through leader %s within %v of the last heal", c.nodes[leader].name, LivenessTimeout)
	}
	return f.verdict("liveness", fmt.Sprintf("after the last heal all nodes named %s (term %d) within %v; a write committed within %v",
		cs.ID, cs.Term, agreed.Round(time.Millisecond), written.Round(time.Millisecond)))
}

// converge waits, at the end of the run, until every node names the same
// leader and has applied that leader's commit index; it returns that index.
func converge(ctx context.Context, c *cluster, a *api) (uint64, error) {
	deadline := time.Now().Add(LivenessTimeout)
	var target uint64
	ok := waitFor(ctx, deadline, func() bool {
		_, cs, ok := agreedLeader(ctx, c, a)
		if !ok {
			return false
		}
		target = cs.CommitIndex
		for _, nd := range c.nodes {
			s, ok := a.status(ctx, nd)
			if !ok || s.AppliedIndex < target {
				return false
			}
		}
		return true
	})
	if !ok {
		return target, fmt.Errorf("the nodes did not converge on one leader and its commit index %d within %v", target, LivenessTimeout)
	}
	return target, nil
}
