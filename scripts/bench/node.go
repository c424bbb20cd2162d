package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/raftlock/raftlock/server"
)

// runNode is `bench node`: a raftlock node built from the same server
// package as `raftlock serve`, with the serve flags the benchmark passes,
// plus --cpuprofile: the whole life of the process is profiled and the
// profile written when SIGTERM stops the node. The profile step uses it
// because the raftlock binary serves no /debug/pprof.
func runNode(args []string, stderr io.Writer) int {
	cfg := server.DefaultConfig()
	fs := flag.NewFlagSet("bench node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Name, "id", cfg.Name, "member name")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "data dir")
	fs.StringVar(&cfg.ClientAddr, "client-addr", cfg.ClientAddr, "client host:port")
	fs.StringVar(&cfg.PeerAddr, "peer-addr", cfg.PeerAddr, "peer host:port")
	fs.StringVar(&cfg.InitialCluster, "initial-cluster", "", "name=peerURL,...")
	fs.DurationVar(&cfg.HeartbeatInterval, "heartbeat-interval", cfg.HeartbeatInterval, "heartbeat")
	fs.DurationVar(&cfg.ElectionTimeout, "election-timeout", cfg.ElectionTimeout, "election timeout")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "log level")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the whole run here")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := serveProfiled(cfg, *profile); err != nil {
		fmt.Fprintf(stderr, "bench node: %v\n", err)
		return 1
	}
	return 0
}

func serveProfiled(cfg server.Config, profile string) (err error) {
	log, err := server.NewLogger(cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	node, err := server.New(cfg, server.Options{Logger: log})
	if err != nil {
		return err
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return errors.Join(err, node.Close())
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return errors.Join(err, f.Close(), node.Close())
		}
		defer func() {
			pprof.StopCPUProfile()
			err = errors.Join(err, f.Close())
		}()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return node.Run(ctx)
}
