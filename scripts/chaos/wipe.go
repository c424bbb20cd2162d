package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

// wipe is the lost-data-dir fault: SIGKILL a node, delete its data dir,
// remove it from the membership through the others (a member must never
// come back with an empty log under its old identity: it could vote twice
// in a term), then after the fault's length start it again, empty, with
// --join: it is added as a learner and promotes itself once caught up. The
// event's detail says how long the removal and the return to voter took.
func (in *injector) wipe(ctx context.Context, f fault, rng *rand.Rand, ev *faultEvent) error {
	t, was := in.target(ctx, f, rng)
	ev.Nodes, ev.WasLeader = in.names([]int{t}), was
	// Removing a voter while an earlier wiped node is still a learner
	// shrinks the voters each time: two wipes in a row of a five-node
	// cluster whose learners lag would leave two voters, and one more
	// fault would take the quorum (an operator replacing nodes waits for
	// each to be a voter again; so does the harness).
	if !in.awaitAllVoters(ctx) {
		ev.Detail = fmt.Sprintf("skipped: not every node was a voter within %v", WipeRejoinTimeout)
		in.record(f, *ev)
		return nil
	}
	in.record(f, *ev)
	in.c.kill(t)
	if err := in.c.wipe(t); err != nil {
		return err
	}
	start := time.Now()
	if err := in.removeMember(ctx, t); err != nil {
		return err
	}
	removed := time.Since(start)
	sleepCtx(ctx, f.Length)
	if err := in.c.start(t); err != nil {
		return err
	}
	restarted := time.Now()
	voter := in.awaitVoter(ctx, t)
	name := in.c.nodes[t].name
	if voter {
		in.out.printf("wipe %s: removed in %v, voter again %v after its restart", name,
			removed.Round(time.Millisecond), time.Since(restarted).Round(time.Millisecond))
	} else {
		in.out.printf("wipe %s: removed in %v, NOT a voter again within %v", name, removed.Round(time.Millisecond), WipeRejoinTimeout)
	}
	return nil
}

// removeMember removes node t from the membership, asking the running
// nodes in turn until one answers that it is removed (or already gone).
// A cluster that cannot remove a member within WipeRemoveTimeout while no
// other fault runs is a harness failure worth stopping for.
func (in *injector) removeMember(ctx context.Context, t int) error {
	ctx, cancel := context.WithTimeout(ctx, WipeRemoveTimeout)
	defer cancel()
	name := in.c.nodes[t].name
	var last string
	for i := 0; ; i++ {
		j := in.others(t)[i%(len(in.c.nodes)-1)]
		if in.c.running(j) {
			actx, acancel := context.WithTimeout(ctx, AttemptTimeout)
			ans, err := in.api.do(actx, http.MethodDelete, in.c.nodes[j].clientURL()+"/v1/cluster/members/"+name, nil, "")
			acancel()
			switch {
			case err == nil && (ans.ok() || ans.code == wire.CodeNotFound):
				return nil
			case err != nil:
				last = err.Error()
			default:
				last = fmt.Sprintf("%d %s", ans.status, ans.code)
			}
		}
		if !sleepCtx(ctx, PollInterval) {
			return fmt.Errorf("wipe: %s not removed from the membership within %v (last answer: %s)", name, WipeRemoveTimeout, last)
		}
	}
}

// awaitVoter waits up to WipeRejoinTimeout until a node other than t lists
// t as a voter.
func (in *injector) awaitVoter(ctx context.Context, t int) bool {
	ctx, cancel := context.WithTimeout(ctx, WipeRejoinTimeout)
	defer cancel()
	name := in.c.nodes[t].name
	for i := 0; ; i++ {
		j := in.others(t)[i%(len(in.c.nodes)-1)]
		if in.c.running(j) {
			actx, acancel := context.WithTimeout(ctx, StatusTimeout)
			ans, err := in.api.do(actx, http.MethodGet, in.c.nodes[j].clientURL()+"/v1/cluster/members", nil, "")
			acancel()
			var list wire.MemberList
			if err == nil && ans.ok() && ans.decode(&list) == nil {
				for _, m := range list.Members {
					if m.Name == name && m.Role == wire.RoleVoter && !list.ChangeInProgress {
						return true
					}
				}
			}
		}
		if !sleepCtx(ctx, PollInterval) {
			return false
		}
	}
}

// awaitAllVoters waits up to WipeRejoinTimeout until a running node lists
// every node as a voter with no change in progress.
func (in *injector) awaitAllVoters(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, WipeRejoinTimeout)
	defer cancel()
	for i := 0; ; i++ {
		j := i % len(in.c.nodes)
		if in.c.running(j) && in.allVoters(ctx, j) {
			return true
		}
		if !sleepCtx(ctx, PollInterval) {
			return false
		}
	}
}

// allVoters reports whether node j lists every node as a voter, with no
// membership change in progress.
func (in *injector) allVoters(ctx context.Context, j int) bool {
	actx, cancel := context.WithTimeout(ctx, StatusTimeout)
	defer cancel()
	ans, err := in.api.do(actx, http.MethodGet, in.c.nodes[j].clientURL()+"/v1/cluster/members", nil, "")
	var list wire.MemberList
	if err != nil || !ans.ok() || ans.decode(&list) != nil || list.ChangeInProgress || len(list.Members) != len(in.c.nodes) {
		return false
	}
	for _, m := range list.Members {
		if m.Role != wire.RoleVoter {
			return false
		}
	}
	return true
}
