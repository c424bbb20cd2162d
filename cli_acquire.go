package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/raftlock/raftlock/client"
	"github.com/raftlock/raftlock/client/wire"
)

const acquireAbout = `Low level: takes lock NAME once and prints its fencing token and lease id
("token=42 lease_id=41"). The server creates a lease of --ttl for this lock
alone and nothing keeps it alive: the lock is freed when the ttl runs out
(or at 'raftlock release NAME --token N', which also ends the lease). To hold
a lock while a command runs, use 'raftlock lock'.`

// cmdAcquire is `raftlock acquire NAME`.
func cmdAcquire(ctx context.Context, cio cliIO, args []string) error {
	fs := newFlagSet("acquire", "acquire [flags] NAME", acquireAbout, cio)
	cf := addCommonFlags(fs, cio.getenv, true)
	ttl := fs.Duration("ttl", 0, "ttl of the lock's own lease (0: the server's default, 15s)")
	wait := fs.Duration("wait", 0, fmt.Sprintf("wait for a held lock in its FIFO queue up to this long (max %v)", client.WaitMax))
	owner := fs.String("owner", "", "free-form label of the holder shown to others (a host name)")
	pos, err := parseNoCommand(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("acquire takes one NAME, got %d arguments %q", len(pos), pos)
	}
	if err := checkDurationFlags(*ttl, *wait); err != nil {
		return err
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
	a, err := c.Acquire(sctx, pos[0], client.AcquireOptions{TTL: *ttl, Wait: *wait, Owner: *owner})
	if errors.Is(err, client.ErrLockHeld) {
		var within *time.Duration
		if *wait > 0 {
			within = wait
		}
		return notGranted("lock", pos[0], within, err)
	}
	if err != nil {
		return orInterrupted(sctx, err)
	}
	return newPrinter(cio.stdout, cf.output).acquired(a)
}

// checkDurationFlags refuses a negative --ttl and a --wait out of
// [0, client.WaitMax].
func checkDurationFlags(ttl, wait time.Duration) error {
	if ttl < 0 {
		return usagef("--ttl %v is negative", ttl)
	}
	if wait < 0 {
		return usagef("--wait %v is negative", wait)
	}
	if wait > client.WaitMax {
		return usagef("--wait is %v, max %v", wait, client.WaitMax)
	}
	return nil
}

const releaseAbout = `Low level: releases lock NAME held with fencing token N (from 'raftlock
acquire'). A token that does not hold the lock is refused (not_holder), so a
late release cannot free the next holder's lock.`

// cmdRelease is `raftlock release NAME --token N`.
func cmdRelease(ctx context.Context, cio cliIO, args []string) error {
	fs := newFlagSet("release", "release [flags] NAME --token N", releaseAbout, cio)
	cf := addCommonFlags(fs, cio.getenv, true)
	token := fs.Uint64("token", 0, "the fencing token the lock was acquired with (required)")
	pos, err := parseNoCommand(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("release takes one NAME, got %d arguments %q", len(pos), pos)
	}
	if *token == 0 {
		return usagef("release needs --token, the lock's fencing token")
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
	if err := c.Release(sctx, pos[0], client.Token(*token)); err != nil {
		return orInterrupted(sctx, err)
	}
	return newPrinter(cio.stdout, cf.output).released(wire.Released{Released: true})
}

// parseNoCommand parses the flags and positional arguments of a subcommand
// that runs no CMD; arguments after a "--" are positional too (a NAME that
// starts with '-').
func parseNoCommand(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, rest, err := parseArgs(fs, args)
	return append(pos, rest...), err
}
