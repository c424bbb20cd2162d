package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"
)

// run is one harness run; it returns the exit status. Every node it starts
// is killed before it returns, whatever happens.
func run(ctx context.Context, cfg config, stdout io.Writer) int {
	out := newProgress(stdout)
	dir, err := cfg.resultsDir()
	if err != nil {
		out.printf("results dir: %v", err)
		return exitHarness
	}
	out.printf("seed %d: %d nodes, %d clients, %d locks, %d elections, %v; results in %s", cfg.seed, cfg.nodes, cfg.clients, cfg.locks, cfg.elects, cfg.duration, dir)
	bin := cfg.bin
	if bin == "" {
		if bin, err = buildBinary(ctx, dir); err != nil {
			out.printf("%v", err)
			return exitHarness
		}
	}
	c, err := newCluster(bin, dir, cfg.nodes, []string{"--snapshot-count", fmt.Sprint(cfg.snapshotCount)}, out)
	if err != nil {
		out.printf("%v", err)
		return exitHarness
	}
	defer c.killAll()
	a := newAPI()
	defer a.close()
	r := &runState{cfg: cfg, out: out, dir: dir, c: c, api: a}
	if err := r.startCluster(ctx); err != nil {
		out.printf("%v", err)
		return exitHarness
	}
	if err := r.drive(ctx); err != nil {
		out.printf("harness failed: %v", err)
		out.printf("seed %d; replay: %s", cfg.seed, cfg.replayCommand())
		return exitHarness
	}
	return r.judge()
}

// runState is what one run gathers for its verdicts.
type runState struct {
	cfg config
	out *progress
	dir string
	c   *cluster
	api *api

	hist     *history
	store    *fencedStore
	inj      *injector
	mon      *monitor
	live     verdict
	converge verdict
	target   uint64
	ran      time.Duration
}

// buildBinary builds raftlock from the module root into dir.
func buildBinary(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "raftlock")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build in %s: %v\n%s", root, err, b)
	}
	return bin, nil
}

// moduleRoot finds the directory of go.mod from the working directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for range ModuleRootDepthMax {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("no go.mod above the working directory; pass --bin")
}

// startCluster starts every node and waits until they agree on a leader.
func (r *runState) startCluster(ctx context.Context) error {
	for i := range r.c.nodes {
		if err := r.c.start(i); err != nil {
			return err
		}
	}
	ok := waitFor(ctx, time.Now().Add(StartTimeout), func() bool {
		_, _, ok := agreedLeader(ctx, r.c, r.api)
		return ok
	})
	if !ok {
		return fmt.Errorf("no leader all %d nodes agree on within %v (node logs in %s)", len(r.c.nodes), StartTimeout, r.dir)
	}
	r.out.printf("cluster up: %d nodes agree on a leader", len(r.c.nodes))
	return nil
}

// drive runs the clients, the monitor and the faults for the run's
// duration, then checks liveness, stops the clients and the nodes.
func (r *runState) drive(ctx context.Context) error {
	events, err := os.Create(filepath.Join(r.dir, "events.jsonl"))
	if err != nil {
		return err
	}
	defer events.Close()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, r.cfg.clients+2)
	start := time.Now()
	r.hist = newHistory(start)
	r.store = newFencedStore(r.hist.now)
	r.mon = newMonitor(r.c, r.api)
	r.inj = &injector{c: r.c, api: r.api, out: r.out, events: events}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// guarded runs fn in a goroutine that turns a panic into an error and
	// ends the run; each fn returns when stop closes or runCtx ends.
	guarded := func(fn func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					errc <- fmt.Errorf("panic: %v\n%s", p, debug.Stack())
					cancel()
				}
			}()
			fn()
		}()
	}
	guarded(func() { r.mon.run(runCtx, stop) })
	for i := range r.cfg.clients {
		w := r.newWorker(i)
		guarded(func() { w.run(runCtx, stop) })
	}
	liveDone := make(chan struct{})
	guarded(func() {
		defer close(liveDone)
		r.faultsThenLiveness(runCtx, start, errc)
	})
	sleepCtx(runCtx, time.Until(start.Add(r.cfg.duration)))
	r.out.printf("stopping the clients")
	close(stop)
	<-liveDone
	wg.Wait()
	r.ran = time.Since(start)
	select {
	case err := <-errc:
		return err
	default:
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	return r.finish(ctx)
}

// faultsThenLiveness fires the schedule, heals everything and checks
// liveness while the clients keep running.
func (r *runState) faultsThenLiveness(ctx context.Context, start time.Time, errc chan<- error) {
	var faults []fault
	if !r.cfg.noFaults {
		faults = schedule(r.cfg.seed, r.cfg.duration)
	}
	r.out.printf("%d faults scheduled", len(faults))
	err := r.inj.run(ctx, start, faults)
	r.c.healAll()
	if err != nil {
		errc <- err
		return
	}
	if ctx.Err() != nil {
		return // interrupted: drive reports it
	}
	r.out.printf("last fault healed; checking liveness")
	r.live = checkLiveness(ctx, r.c, r.api)
	r.out.printf("liveness: %s %v", r.live.Note, r.live.Violations)
}

// newWorker makes client i with its own random source.
func (r *runState) newWorker(i int) *worker {
	urls := make([]string, len(r.c.nodes))
	for k, nd := range r.c.nodes {
		urls[k] = nd.clientURL()
	}
	return &worker{
		id: i, rng: rand.New(rand.NewPCG(r.cfg.seed, uint64(i)+1)), api: r.api, urls: urls,
		hist: r.hist, store: r.store,
		nlocks: r.cfg.locks, nelecs: r.cfg.elects, start: r.hist.start, nameEpoch: r.cfg.nameEpoch, epoch: -1,
		buggy: r.cfg.bug == bugUnfenced && i == 0,
		holds: make(map[string]*hold), leads: make(map[string]lead),
	}
}

// finish waits for the nodes to converge and stops them with SIGTERM.
func (r *runState) finish(ctx context.Context) error {
	var f finding
	target, err := converge(ctx, r.c, r.api)
	if err != nil {
		f.addf("%v", err)
	}
	r.target = target
	r.converge = f.verdict("converged", fmt.Sprintf("every node applied commit index %d before the stop", target))
	var wg sync.WaitGroup
	for i := range r.c.nodes {
		wg.Add(1)
		// Exits when node i has exited (StopTimeout at most, then SIGKILL).
		go func() {
			defer wg.Done()
			if !r.c.stop(i) {
				r.out.printf("%s did not exit within %v of SIGTERM; killed", r.c.nodes[i].name, StopTimeout)
			}
		}()
	}
	wg.Wait()
	return nil
}
