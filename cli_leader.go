package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/raftlock/raftlock/client"
	"github.com/raftlock/raftlock/client/wire"
)

const leaderAbout = `Prints the leader of election NAME: "term=7 lease_id=41 value=host:7000",
or "term=0" when nobody leads it. With --watch, prints the leader now and a
line at each change until SIGINT or SIGTERM (exit 0), reconnecting when the
event stream fails.`

// cmdLeader is `raftlock leader NAME [--watch]`.
func cmdLeader(ctx context.Context, cio cliIO, args []string) error {
	fs := newFlagSet("leader", "leader [flags] NAME", leaderAbout, cio)
	cf := addCommonFlags(fs, cio.getenv, true)
	watch := fs.Bool("watch", false, "print each change until interrupted")
	pos, err := parseNoCommand(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("leader takes one NAME, got %d arguments %q", len(pos), pos)
	}
	if err := cf.check(); err != nil {
		return err
	}
	c, err := cf.newClient()
	if err != nil {
		return err
	}
	defer c.Close()
	sctx, stop := cancelOnSignal(ctx, cio.signals)
	defer stop()
	p := newPrinter(cio.stdout, cf.output)
	if !*watch {
		info, err := c.Leader(sctx, pos[0])
		if err != nil {
			return orInterrupted(sctx, err)
		}
		return p.leader(info)
	}
	err = watchLeader(sctx, c, pos[0], p, cio.stderr)
	if interruption(sctx) != nil {
		return nil // the way a watch ends
	}
	return err
}

// leaderKey identifies a leader for dropping repeats; the zero value is
// "no leader".
type leaderKey struct {
	term, lease uint64
	value       string
}

func keyOf(info wire.ElectionInfo) leaderKey {
	if info.Leader == nil {
		return leaderKey{}
	}
	return leaderKey{info.Leader.Term, info.Leader.LeaseID, info.Leader.Value}
}

// watchLeader prints election name's leader now and at each change until
// ctx ends, reconnecting a failed stream after a backoff; repeats across
// reconnects are dropped. A refusal (4xx) or a failed write ends it.
func watchLeader(ctx context.Context, c *client.Client, name string, p printer, stderr io.Writer) error {
	var last leaderKey
	printed, failures := false, 0
	for {
		var werr error
		err := c.Observe(ctx, name, func(ev wire.ElectionInfo) error {
			failures = 0
			if k := keyOf(ev); !printed || k != last {
				if werr = p.leader(ev); werr != nil {
					return werr
				}
				last, printed = k, true
			}
			return nil
		})
		var e *client.Error
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case werr != nil:
			return werr
		case errors.As(err, &e) && e.Status >= 400 && e.Status < 500:
			return err
		}
		failures++
		d := watchBackoff(failures)
		fmt.Fprintf(stderr, "raftlock leader: %v; reconnecting in %v\n", err, d)
		if err := sleepCtx(ctx, d); err != nil {
			return err
		}
	}
}

// watchBackoff is the delay before reconnect number n (n >= 1):
// watchRetryMin doubled per failure in a row, capped at watchRetryMax.
func watchBackoff(n int) time.Duration {
	d := watchRetryMin
	for i := 1; i < n && d < watchRetryMax; i++ {
		d *= 2
	}
	return min(d, watchRetryMax)
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

const statusAbout = `Prints GET /v1/cluster of the first node that answers: its id, role, Raft
term, leader, commit and applied index, then one line per member.`

// cmdStatus is `raftlock status`.
func cmdStatus(ctx context.Context, cio cliIO, args []string) error {
	fs := newFlagSet("status", "status [flags]", statusAbout, cio)
	cf := addCommonFlags(fs, cio.getenv, true)
	pos, err := parseNoCommand(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("status takes no arguments, got %q", pos)
	}
	if err := cf.check(); err != nil {
		return err
	}
	c, err := cf.newClient()
	if err != nil {
		return err
	}
	defer c.Close()
	sctx, stop := cancelOnSignal(ctx, cio.signals)
	defer stop()
	st, err := c.Cluster(sctx)
	if err != nil {
		return orInterrupted(sctx, err)
	}
	return newPrinter(cio.stdout, cf.output).cluster(st)
}
