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
	"syscall"
	"time"

	"github.com/raftlock/raftlock/server"
)

// Exit statuses.
const (
	exitOK           = 0
	exitViolation    = 1
	exitUsage        = 2
	exitHarness      = 3
	exitCheckTimeout = 4
)

// config is one run's settings.
type config struct {
	nodes, clients  int
	locks, elects   int
	nameEpoch       time.Duration
	duration        time.Duration
	seed            uint64
	bin             string
	results         string
	checkTimeout    time.Duration
	bug             string
	noFaults        bool
	snapshotCount   uint64
	commandLineArgs []string
}

// bugUnfenced makes client 0 write to the fenced resource without fencing
// and never give up a hold: the run must fail.
const bugUnfenced = "unfenced"

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

// runMain parses the flags, runs the harness and returns the exit status.
func runMain(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "chaos: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return run(ctx, cfg, stdout)
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.nodes, "nodes", 3, "raftlock processes (3 or 5)")
	fs.IntVar(&cfg.clients, "clients", 8, "concurrent clients")
	fs.IntVar(&cfg.locks, "locks", 0, "lock names the clients share (default clients/4, at least 2)")
	fs.IntVar(&cfg.elects, "elections", 0, "election names the clients share (default clients/8, at least 1)")
	fs.DurationVar(&cfg.nameEpoch, "name-epoch", NameEpochDefault, "how long the clients use one set of lock and election names before moving to fresh ones (keeps each name's history checkable)")
	fs.DurationVar(&cfg.duration, "duration", time.Minute, "how long the clients run; faults stop a tenth (at least 5s) before the end")
	fs.Uint64Var(&cfg.seed, "seed", 0, "seed of the fault schedule and the clients (default: from the clock; printed)")
	fs.StringVar(&cfg.bin, "bin", "", "raftlock binary (default: go build into the results dir)")
	fs.StringVar(&cfg.results, "results", "", "results dir: node data and logs, events.jsonl, summary.json, history.html (default: a new temp dir)")
	fs.DurationVar(&cfg.checkTimeout, "check-timeout", CheckTimeoutDefault, "budget of the linearizability check")
	fs.StringVar(&cfg.bug, "bug", "", "inject a client bug the verdicts must catch: "+bugUnfenced)
	fs.BoolVar(&cfg.noFaults, "no-faults", false, "run the clients without faults")
	fs.Uint64Var(&cfg.snapshotCount, "snapshot-count", 0, "every node's --snapshot-count, to exercise snapshots and compaction (default: the largest, so the verdicts see whole logs)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg.commandLineArgs = args
	if cfg.seed == 0 {
		cfg.seed = uint64(time.Now().UnixNano())
	}
	if cfg.locks == 0 {
		cfg.locks = max(2, cfg.clients/4)
	}
	if cfg.snapshotCount == 0 {
		cfg.snapshotCount = server.SnapshotCountMax
	}
	if cfg.elects == 0 {
		cfg.elects = max(1, cfg.clients/8)
	}
	return cfg, cfg.validate()
}

func (cfg *config) validate() error {
	switch {
	case cfg.nodes < NodesMin || cfg.nodes > NodesMax || cfg.nodes%2 == 0:
		return fmt.Errorf("--nodes is %d, want an odd number in [%d, %d]", cfg.nodes, NodesMin, NodesMax)
	case cfg.clients < ClientsMin || cfg.clients > ClientsMax:
		return fmt.Errorf("--clients is %d, want [%d, %d]", cfg.clients, ClientsMin, ClientsMax)
	case cfg.duration < DurationMin || cfg.duration > DurationMax:
		return fmt.Errorf("--duration is %v, want [%v, %v]", cfg.duration, DurationMin, DurationMax)
	case cfg.locks < 1 || cfg.locks > LocksMax:
		return fmt.Errorf("--locks is %d, want [1, %d]", cfg.locks, LocksMax)
	case cfg.elects < 1 || cfg.elects > ElectionsMax:
		return fmt.Errorf("--elections is %d, want [1, %d]", cfg.elects, ElectionsMax)
	case cfg.nameEpoch < NameEpochMin:
		return fmt.Errorf("--name-epoch is %v, want at least %v", cfg.nameEpoch, NameEpochMin)
	case cfg.checkTimeout <= 0:
		return fmt.Errorf("--check-timeout is %v, want > 0", cfg.checkTimeout)
	case cfg.snapshotCount < server.SnapshotCountMin || cfg.snapshotCount > server.SnapshotCountMax:
		return fmt.Errorf("--snapshot-count is %d, want [%d, %d]", cfg.snapshotCount, server.SnapshotCountMin, server.SnapshotCountMax)
	case cfg.bug != "" && cfg.bug != bugUnfenced:
		return fmt.Errorf("--bug is %q, want %q or empty", cfg.bug, bugUnfenced)
	}
	return nil
}

// replayCommand is the command line that replays this run's schedule.
func (cfg *config) replayCommand() string {
	s := fmt.Sprintf("go run ./scripts/chaos --seed %d --nodes %d --clients %d --duration %v --locks %d --elections %d --name-epoch %v",
		cfg.seed, cfg.nodes, cfg.clients, cfg.duration, cfg.locks, cfg.elects, cfg.nameEpoch)
	if cfg.bug != "" {
		s += " --bug " + cfg.bug
	}
	if cfg.noFaults {
		s += " --no-faults"
	}
	if cfg.snapshotCount != 0 {
		s += fmt.Sprintf(" --snapshot-count %d", cfg.snapshotCount)
	}
	return s
}

// resultsDir creates the results dir.
func (cfg *config) resultsDir() (string, error) {
	if cfg.results == "" {
		return os.MkdirTemp("", fmt.Sprintf("raftlock-chaos-%d-", cfg.seed))
	}
	dir, err := filepath.Abs(cfg.results)
	if err != nil {
		return "", err
	}
	return dir, os.MkdirAll(dir, 0o755)
}
