package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/raftlock/raftlock/client"
)

const lockAbout = `Holds lock NAME while CMD runs. Waits for the lock in the server's FIFO queue
(up to --wait), keeps its lease alive, and runs CMD in a process group of its
own with RAFTLOCK_TOKEN (the fencing token), RAFTLOCK_LOCK, RAFTLOCK_LEASE_ID
and RAFTLOCK_ENDPOINTS added to the environment. SIGINT, SIGTERM and SIGHUP
are forwarded to that group. When CMD exits the lock is released and raftlock
exits with CMD's status. Should the lease be lost (keepalives failing, or the
lease revoked), the group gets SIGTERM and then SIGKILL, timed to be gone
before any server could grant the lock to someone else, and raftlock exits 3.
CMD runs in the background of a terminal: it must not read from it.`

// cmdLock is `raftlock lock NAME -- CMD...`.
func cmdLock(ctx context.Context, cio cliIO, args []string) error {
	fs := newFlagSet("lock", "lock [flags] NAME -- CMD [ARG...]", lockAbout, cio)
	cf := addCommonFlags(fs, cio.getenv, false)
	ttl := fs.Duration("ttl", client.TTLDefault, fmt.Sprintf("lease ttl; at least %v", lockTTLMin))
	var wait waitFlag
	fs.Var(&wait, "wait", "how long to wait for the lock: a duration, 0 to fail at once if held, or forever (default forever)")
	pos, argv, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("lock takes one NAME before --, got %d arguments %q", len(pos), pos)
	}
	if len(argv) == 0 {
		return usagef("lock needs a command after --")
	}
	if err := cf.check(); err != nil {
		return err
	}
	grace, err := killGrace(*ttl)
	if err != nil {
		return err
	}
	c, err := cf.newClient()
	if err != nil {
		return err
	}
	defer c.Close()
	name := pos[0]
	s, m, err := takeLock(ctx, c, cio.signals, name, *ttl, wait)
	if err != nil {
		return err
	}
	env := childEnv(cio.environ(),
		envPrefix+"TOKEN="+strconv.FormatUint(uint64(m.Token()), 10),
		envPrefix+"LOCK="+name,
		envPrefix+"LEASE_ID="+strconv.FormatUint(uint64(s.Lease()), 10),
		envEndpoints+"="+cf.endpoints)
	runErr := runHeld(cio, argv, env, s.Done(), grace, func() error {
		return fmt.Errorf("lock %q %w: %w; stopped the command", name, errLost, s.Err())
	})
	if err := unlock(ctx, s, m); err != nil {
		fmt.Fprintf(cio.stderr, "raftlock lock: %v\n", err)
	}
	return runErr
}

// takeLock creates a session and waits for lock name; the first signal
// from sigs gives up. On success the session holds the lock.
func takeLock(ctx context.Context, c *client.Client, sigs <-chan os.Signal, name string, ttl time.Duration, wait waitFlag) (*client.Session, *client.Mutex, error) {
	sctx, stop := cancelOnSignal(ctx, sigs)
	defer stop()
	s, err := client.NewSession(sctx, c, client.WithTTL(ttl))
	if err != nil {
		return nil, nil, orInterrupted(sctx, err)
	}
	m := client.NewMutex(s, name)
	_, err = lockWithin(sctx, m, wait)
	if err == nil {
		err = interruption(sctx) // a signal that raced the grant
	}
	if err != nil {
		return nil, nil, errors.Join(err, unlock(ctx, s, m))
	}
	return s, m, nil
}

// lockWithin takes m, waiting up to wait (without limit when wait is not
// limited; not at all when it is 0).
func lockWithin(ctx context.Context, m *client.Mutex, wait waitFlag) (client.Token, error) {
	if wait.limited && wait.d == 0 {
		tok, err := m.TryLock(ctx)
		if errors.Is(err, client.ErrLockHeld) {
			return 0, notGranted("lock", m.Name(), nil, err)
		}
		return tok, orInterrupted(ctx, err)
	}
	wctx, cancel := ctx, context.CancelFunc(func() {})
	if wait.limited {
		wctx, cancel = context.WithTimeoutCause(ctx, wait.d, errNotAcquired)
	}
	defer cancel()
	tok, err := m.Lock(wctx)
	if err != nil && errors.Is(context.Cause(wctx), errNotAcquired) {
		return 0, notGranted("lock", m.Name(), &wait.d, err)
	}
	return tok, orInterrupted(ctx, err)
}

// orInterrupted returns the signal that canceled ctx in place of err, when
// one did.
func orInterrupted(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if intr := interruption(ctx); intr != nil {
		return intr
	}
	return err
}

// unlock releases m if it is held and closes s (revoking its lease), with a
// ctx of its own: a signal that stopped CMD must not stop the release.
func unlock(ctx context.Context, s *client.Session, m *client.Mutex) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), client.CleanupTimeout)
	defer cancel()
	var err error
	if m.Token() != 0 && s.Err() == nil {
		if uerr := m.Unlock(cctx); uerr != nil && !errors.Is(uerr, client.ErrNotHolder) {
			err = uerr
		}
	}
	if cerr := s.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		return fmt.Errorf("release (the lease expires after its ttl): %w", err)
	}
	return nil
}

// runHeld runs argv with env while lost stays open and returns CMD's
// status as an error (nil for 0), or lostErr() when lost closed first and
// CMD was stopped (or never started).
func runHeld(cio cliIO, argv, env []string, lost <-chan struct{}, grace time.Duration, lostErr func() error) error {
	select {
	case <-lost:
		return lostErr() // lost before CMD could start: do not start it
	default:
	}
	ch, err := startChild(argv, env, cio.stdin, cio.stdout, cio.stderr)
	if err != nil {
		return err
	}
	out := supervise(ch, lost, cio.signals, grace)
	if out.err != nil {
		fmt.Fprintf(cio.stderr, "raftlock: %v\n", out.err)
	}
	if out.lost {
		return lostErr()
	}
	if out.status != 0 {
		return &statusError{out.status}
	}
	return nil
}
