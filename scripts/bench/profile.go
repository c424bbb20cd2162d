package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// profile starts, for each workload --profile names, a fresh 3-node
// raftlock cluster of this program in node mode (the same server package,
// CPU-profiled for its whole life), runs the workload against it for a
// warm-up and one run, stops the nodes and prints `go tool pprof -top` of
// the leader's profile.
func (b *bench) profile(ctx context.Context) error {
	for _, name := range b.o.profile {
		var w workload
		switch name {
		case "lock":
			w = uncontended(profileClients, false)
		case "keepalive":
			w = keepalives(b.o.kaLeases, b.o.kaTTL, b.printf)
		}
		if err := b.profileWorkload(ctx, name, w); err != nil {
			return fmt.Errorf("profile %s: %w", name, err)
		}
	}
	return nil
}

func (b *bench) profileWorkload(ctx context.Context, name string, w workload) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir := filepath.Join(b.o.dir, "profile-"+name)
	prof := func(i int) string { return filepath.Join(dir, fmt.Sprintf("n%d.cpu.pprof", i+1)) }
	c := raftlockCluster(self, []string{"node"}, dir, raftlockPortBaseDefault, func(i int) []string {
		return []string{"--cpuprofile", prof(i)}
	})
	if err := c.startAll(ctx); err != nil {
		return err
	}
	defer c.stopAll()
	t, err := newRaftlockTarget(c)
	if err != nil {
		return err
	}
	defer t.close()
	ws, err := w.open(ctx, t)
	if err != nil {
		return err
	}
	measure(ctx, ws, b.o.warmup)
	res := measure(ctx, ws, b.o.duration)
	b.printf("\nprofiled run, %s on `bench node`: %.0f %s p50 %.2f ms p99 %.2f ms, %d errors, load %.1f\n",
		w.key, res.rate(), w.unit, ms(quantile(res.lat, 0.5)), ms(quantile(res.lat, 0.99)), res.errs, res.load)
	leader, lerr := c.leader(ctx)
	if err := closeWorkers(ws); err != nil {
		b.printf("close workers: %v\n", err)
	}
	c.stopAll()
	if lerr != nil {
		return lerr
	}
	for i := range c.procs {
		role := "follower"
		if i == leader {
			role = "leader"
		}
		b.printf("profile of n%d (%s): %s\n", i+1, role, prof(i))
	}
	cmd := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=35", prof(leader))
	cmd.Stdout, cmd.Stderr = b.out, b.out
	b.printf("\n$ go tool pprof -top -nodecount=35 %s\n", prof(leader))
	return cmd.Run()
}
