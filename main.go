// Command raftlock is the one binary of raftlock: `raftlock serve` runs a node;
// lock, acquire, release, elect, leader and status are clients of a cluster
// built on the SDK in client/ (the cli*.go files).
//
// Every flag of serve can also be set by an environment variable named
// RAFTLOCK_ and the flag in upper case with '-' as '_' (--data-dir is
// RAFTLOCK_DATA_DIR). A flag on the command line wins over the variable, which
// wins over the default.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"go.uber.org/zap"

	"github.com/raftlock/raftlock/server"
)

// envPrefix starts the name of every environment variable raftlock reads.
const envPrefix = "RAFTLOCK_"

const usage = `usage: raftlock <command> [flags] [args]

commands:
  serve                          run a node (raftlock serve -h lists its flags)
  lock NAME -- CMD [ARG...]      hold lock NAME while CMD runs; CMD gets RAFTLOCK_TOKEN
  acquire NAME                   take lock NAME once; print its token and lease id
  release NAME --token N         release lock NAME held with token N
  elect NAME VALUE [-- CMD...]   lead election NAME; run CMD while leader
  leader NAME [--watch]          print the leader of election NAME (and each change)
  status                         print the answering node's view of the cluster
  acl token create|list|delete   manage ACL tokens (raftlock acl -h)
  member list|add|remove|promote|transfer-leadership
                                 change the membership (raftlock member -h)

'raftlock <command> -h' lists a command's flags. Every client command takes
--endpoints URL,... (default $RAFTLOCK_ENDPOINTS, else http://127.0.0.1:7070)
and, for https nodes, --cacert, --cert and --key (default $RAFTLOCK_CACERT,
$RAFTLOCK_CERT, $RAFTLOCK_KEY), and, for a cluster with access control,
--token-file FILE (default $RAFTLOCK_ACL_TOKEN_FILE, else the secret in
$RAFTLOCK_ACL_TOKEN);
lock and elect take --ttl and --wait; acquire, release, elect, leader and
status take --output text|json.

exit codes of the client commands:
  0    success
  1    error: the cluster could not be reached or refused the request
  2    usage: bad flags or arguments
  3    lock or elect: the lease or the leadership was lost while CMD ran; CMD was stopped
  4    the lock or election is held by someone else and was not granted within --wait
  126  lock or elect: CMD could not be started (127: CMD was not found)
  128+N  signal N ended CMD, or interrupted raftlock before CMD started
  else lock or elect: CMD's own exit status
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

// run executes the command line and returns the exit code.
func run(args []string, getenv func(string) string, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], getenv, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stderr, usage)
		return 0
	}
	if isClientCommand(args[0]) {
		return runClient(args[0], args[1:], cliIO{
			getenv: getenv, environ: os.Environ,
			stdin: os.Stdin, stdout: os.Stdout, stderr: stderr,
		})
	}
	fmt.Fprintf(stderr, "raftlock: unknown command %q\n%s", args[0], usage)
	return 2
}

// serve runs a node until SIGTERM or SIGINT, then shuts it down and returns 0.
// SIGHUP reloads its certificates.
func serve(args []string, getenv func(string) string, stderr io.Writer) int {
	cfg, err := parseServe(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "raftlock serve: %v\n", err)
		return 2
	}
	log, err := server.NewLogger(cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		fmt.Fprintf(stderr, "raftlock serve: %v\n", err)
		return 2
	}
	defer syncLogger(log)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	if err := joinCluster(cfg, log, sigs); err != nil {
		log.Error("node did not join", zap.Error(err))
		return 1
	}
	node, err := server.New(cfg, server.Options{Logger: log})
	if err != nil {
		log.Error("node did not start", zap.Error(err))
		return 1
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	handedOff := make(chan struct{})
	// Exits after the first SIGTERM or SIGINT, once a leader handed off its
	// leadership (so a rolling restart causes no election timeout), or when
	// Run returns on its own.
	go func() {
		defer close(handedOff)
		select {
		case <-sigs:
			if err := node.HandOff(ctx); err != nil {
				log.Warn("leadership not handed off", zap.Error(err))
			}
			stop()
		case <-ctx.Done():
		}
	}()
	defer reloadOnHangup(node, log)()
	err = node.Run(ctx)
	stop()
	<-handedOff
	if err != nil {
		log.Error("node failed", zap.Error(err))
		return 1
	}
	return 0
}

// joinCluster runs server.Join for --join; a signal cancels it.
func joinCluster(cfg server.Config, log *zap.Logger, sigs <-chan os.Signal) error {
	if len(cfg.Join) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	// Exits when Join returns (cancel bounds it).
	go func() { done <- server.Join(ctx, cfg, log) }()
	select {
	case err := <-done:
		return err
	case sig := <-sigs:
		cancel()
		<-done
		return fmt.Errorf("interrupted by %s", sig)
	}
}

// syncLogger flushes buffered log lines; stderr cannot be synced on some
// systems, which is not worth reporting.
func syncLogger(log *zap.Logger) {
	if err := log.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTTY) {
		fmt.Fprintf(os.Stderr, "raftlock: flush log: %v\n", err)
	}
}

// parseServe turns serve's flags and RAFTLOCK_* variables into a validated
// config: flag > environment > default.
func parseServe(args []string, getenv func(string) string, stderr io.Writer) (server.Config, error) {
	cfg := server.DefaultConfig()
	fs := flag.NewFlagSet("raftlock serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Name, "id", cfg.Name, "this member's name; must be in --initial-cluster")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory of the Raft log (created if missing)")
	fs.StringVar(&cfg.ClientAddr, "client-addr", cfg.ClientAddr, "host:port of the client HTTP API")
	fs.StringVar(&cfg.PeerAddr, "peer-addr", cfg.PeerAddr, "host:port of the peer (Raft) listener")
	fs.StringVar(&cfg.AdvertiseClientURL, "advertise-client-url", "", "client URL others reach this node at (default http://<client-addr>)")
	fs.StringVar(&cfg.AdvertisePeerURL, "advertise-peer-url", "", "peer URL others reach this node at (default: this member's URL in --initial-cluster, else http://<peer-addr>)")
	fs.StringVar(&cfg.InitialCluster, "initial-cluster", "", "name=peerURL,... of every voting member (default: a one-node cluster of --id)")
	fs.DurationVar(&cfg.HeartbeatInterval, "heartbeat-interval", cfg.HeartbeatInterval, "leader heartbeat period (the Raft tick)")
	fs.DurationVar(&cfg.ElectionTimeout, "election-timeout", cfg.ElectionTimeout, "election timeout; at least 5 heartbeat intervals")
	fs.Uint64Var(&cfg.SnapshotCount, "snapshot-count", cfg.SnapshotCount, "applied entries between two snapshots of the lock table; the log is compacted behind each")
	fs.Float64Var(&cfg.RateLimit, "rate-limit", 0, "requests per second one client (its bearer token, else its IP) may make; 0 is no limit")
	fs.IntVar(&cfg.RateBurst, "rate-burst", 0, "requests a client may make at once before --rate-limit applies (default: --rate-limit rounded up)")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "json or console")
	fs.StringVar(&cfg.PeerCertFile, "peer-cert-file", "", "PEM certificate for peer mutual TLS")
	fs.StringVar(&cfg.PeerKeyFile, "peer-key-file", "", "PEM key of --peer-cert-file")
	fs.StringVar(&cfg.PeerTrustedCAFile, "peer-trusted-ca-file", "", "PEM CA that signs every member's peer certificate")
	addServeTLSFlags(fs, &cfg)
	join := fs.String("join", "", "comma-separated client URLs of a running cluster to join as a learner (with an empty --data-dir; promoted once caught up)")
	bootFile := fs.String("bootstrap-token-file", "", "file holding the bootstrap ACL token (the same on every node); turns access control on (else the secret itself in "+envBootstrapToken+")")
	if err := applyEnv(fs, getenv); err != nil {
		return server.Config{}, err
	}
	if err := fs.Parse(args); err != nil {
		return server.Config{}, err
	}
	if fs.NArg() > 0 {
		return server.Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, u := range strings.Split(*join, ",") {
		if u = strings.TrimSpace(u); u != "" {
			cfg.Join = append(cfg.Join, u)
		}
	}
	var err error
	if cfg.BootstrapToken, err = bootstrapToken(*bootFile, getenv); err != nil {
		return server.Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return server.Config{}, err
	}
	return cfg, nil
}

// applyEnv sets every flag whose RAFTLOCK_* variable is set and not empty;
// fs.Parse runs afterwards, so the command line wins.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		v := getenv(name)
		if v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
		}
	})
	return errors.Join(errs...)
}

// envName is the environment variable of a flag: data-dir -> RAFTLOCK_DATA_DIR.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}
