package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the command line of the benchmark.
type options struct {
	raftlockBin string
	etcdBin     string
	vsEtcd      bool
	dir         string
	duration    time.Duration
	warmup      time.Duration
	runs        int
	clients     []int
	rawClients  []int
	kills       int
	kaLeases    int
	kaTTL       time.Duration
	heldLocks   int
	only        map[string]bool
	profile     []string
	rev         string
}

// workloadNames are the values of --only.
var workloadNames = []string{"lock", "raw", "contended", "leases", "keepalive", "failover", "memory"}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "node" {
		os.Exit(runNode(os.Args[2:], os.Stderr))
	}
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, opts, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		stop()
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.raftlockBin, "raftlock-bin", "", "the raftlock binary (go build at the repository root)")
	fs.StringVar(&o.etcdBin, "etcd-bin", "etcd", "the etcd binary (with --vs-etcd)")
	fs.BoolVar(&o.vsEtcd, "vs-etcd", false, "also run every workload against a 3-member etcd cluster, alternating")
	fs.StringVar(&o.dir, "dir", "", "work dir for data dirs, logs and profiles (default: a new temp dir)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of one measured run")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "unmeasured run before the first run of each workload")
	fs.IntVar(&o.runs, "runs", 3, "measured runs per workload and system (medians are reported)")
	clients := fs.String("clients", "1,16,64,256", "client counts of the uncontended lock workload")
	raw := fs.String("raw-clients", "1,64", "client counts of raftlock's raw HTTP variant")
	fs.IntVar(&o.kills, "kills", 3, "leader SIGKILLs in the failover workload (the issue's figure is 20)")
	fs.IntVar(&o.kaLeases, "keepalive-leases", keepaliveLeasesDefault, "live leases of the keepalive workload")
	fs.DurationVar(&o.kaTTL, "keepalive-ttl", keepaliveTTLDefault, "ttl of those leases")
	fs.IntVar(&o.heldLocks, "held-locks", 0, "memory workload: locks held at once (0 measures idle RSS only)")
	only := fs.String("only", strings.Join(workloadNames, ","), "workloads to run: "+strings.Join(workloadNames, ","))
	profile := fs.String("profile", "", "afterwards, CPU-profile raftlock nodes (this program in node mode) under these workloads: lock (C=64), keepalive")
	fs.StringVar(&o.rev, "rev", "", "the revision under test, for the report")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.raftlockBin == "" {
		return o, errors.New("--raftlock-bin is required")
	}
	var err error
	if o.clients, err = parseInts(*clients); err != nil {
		return o, fmt.Errorf("--clients: %w", err)
	}
	if o.rawClients, err = parseInts(*raw); err != nil {
		return o, fmt.Errorf("--raw-clients: %w", err)
	}
	for _, p := range strings.Split(*profile, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if p != "lock" && p != "keepalive" {
			return o, fmt.Errorf("--profile: unknown workload %q, want lock or keepalive", p)
		}
		o.profile = append(o.profile, p)
	}
	o.only = map[string]bool{}
	for _, w := range strings.Split(*only, ",") {
		if w = strings.TrimSpace(w); w == "" {
			continue
		}
		if !slices.Contains(workloadNames, w) {
			return o, fmt.Errorf("--only: unknown workload %q, want some of %s", w, strings.Join(workloadNames, ","))
		}
		o.only[w] = true
	}
	if o.runs < 1 || o.duration <= 0 || o.warmup < 0 || o.kills < 0 || o.kaLeases < 1 || o.kaTTL < time.Second || o.heldLocks < 0 {
		return o, errors.New("--runs >= 1, --duration > 0, --warmup >= 0, --kills >= 0, --keepalive-leases >= 1, --keepalive-ttl >= 1s, --held-locks >= 0")
	}
	return o, nil
}

// parseInts parses "1,16,64".
func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive count", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// run starts the clusters, runs the chosen workloads and prints the report.
func run(ctx context.Context, o options, out io.Writer) (err error) {
	if o.dir == "" {
		if o.dir, err = os.MkdirTemp("", "raftlock-bench-"); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(o.dir, dirPerm); err != nil {
		return err
	}
	b := &bench{o: o, out: out}
	m, err := readMachine(o.dir)
	if err != nil {
		return err
	}
	b.machine = m
	b.printf("%s\nwork dir: %s\n", m, o.dir)
	rl := raftlockCluster(o.raftlockBin, []string{"serve"}, filepath.Join(o.dir, "raftlock"), raftlockPortBaseDefault, nil)
	if err := b.startTarget(ctx, rl, func() (target, error) { return newRaftlockTarget(rl) }); err != nil {
		return err
	}
	if o.vsEtcd {
		ec := etcdCluster(o.etcdBin, filepath.Join(o.dir, "etcd"), etcdPortBaseDefault)
		if err := b.startTarget(ctx, ec, func() (target, error) { return newEtcdTarget(ec) }); err != nil {
			b.stopTargets()
			return err
		}
	}
	runErr := b.runAll(ctx)
	b.stopTargets()
	b.report()
	if runErr != nil {
		return runErr
	}
	if len(o.profile) > 0 {
		return b.profile(ctx)
	}
	return nil
}
