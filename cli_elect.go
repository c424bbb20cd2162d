package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/raftlock/raftlock/client"
	"github.com/raftlock/raftlock/client/wire"
)

const electAbout = `Campaigns in election NAME announcing VALUE (e.g. host:port), waiting in the
server's FIFO queue up to --wait. Once leader, prints the leader line
("term=7 lease_id=41 value=host:7000"). With a command, runs it like
'raftlock lock' does, with RAFTLOCK_ELECTION, RAFTLOCK_TERM (the term: the
fencing token of the win), RAFTLOCK_VALUE, RAFTLOCK_LEASE_ID and
RAFTLOCK_ENDPOINTS added to its environment, and stops it (SIGTERM, then
SIGKILL) when the leadership or the lease is lost (exit 3); when it exits,
resigns and exits with its status. Without a command, holds the leadership
until SIGINT or SIGTERM (then resigns and exits 0) or until it is lost (exit 3).`

// cmdElect is `raftlock elect NAME VALUE [-- CMD...]`.
func cmdElect(ctx context.Context, cio cliIO, args []string) error {
	fs := newFlagSet("elect", "elect [flags] NAME VALUE [-- CMD [ARG...]]", electAbout, cio)
	cf := addCommonFlags(fs, cio.getenv, true)
	ttl := fs.Duration("ttl", client.TTLDefault, fmt.Sprintf("lease ttl; at least %v with a command", lockTTLMin))
	var wait waitFlag
	fs.Var(&wait, "wait", "how long to wait for the leadership: a duration, 0 to fail at once if led, or forever (default forever)")
	pos, argv, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("elect takes NAME and VALUE before --, got %d arguments %q", len(pos), pos)
	}
	if argv != nil && len(argv) == 0 {
		return usagef("elect needs a command after --, or no --")
	}
	if err := cf.check(); err != nil {
		return err
	}
	grace := killGraceMax
	if argv != nil {
		if grace, err = killGrace(*ttl); err != nil {
			return err
		}
	}
	c, err := cf.newClient()
	if err != nil {
		return err
	}
	defer c.Close()
	name, value := pos[0], pos[1]
	l, err := campaign(ctx, c, cio.signals, name, value, *ttl, wait)
	if err != nil {
		return err
	}
	defer l.resign(ctx, cio)
	w := watchLeadership(l)
	defer w.stop()
	if err := newPrinter(cio.stdout, cf.output).leader(l.info()); err != nil {
		return err
	}
	if argv == nil {
		select {
		case <-cio.signals:
			return nil
		case <-w.lost:
			return w.err()
		}
	}
	env := childEnv(cio.environ(),
		envPrefix+"ELECTION="+name,
		envPrefix+"TERM="+strconv.FormatUint(uint64(l.term), 10),
		envPrefix+"VALUE="+value,
		envPrefix+"LEASE_ID="+strconv.FormatUint(uint64(l.s.Lease()), 10),
		envEndpoints+"="+cf.endpoints)
	return runHeld(cio, argv, env, w.lost, grace, w.err)
}

// leadership is a won election.
type leadership struct {
	s     *client.Session
	e     *client.Election
	name  string
	value string
	// term is the term won: the fencing token of the grant.
	term client.Token
}

func (l *leadership) info() wire.ElectionInfo {
	return wire.ElectionInfo{Name: l.name, Leader: &wire.Leader{Value: l.value, Term: uint64(l.term), LeaseID: uint64(l.s.Lease())}}
}

// campaign creates a session and waits until it leads election name; the
// first signal from sigs gives up.
func campaign(ctx context.Context, c *client.Client, sigs <-chan os.Signal, name, value string, ttl time.Duration, wait waitFlag) (*leadership, error) {
	sctx, stop := cancelOnSignal(ctx, sigs)
	defer stop()
	s, err := client.NewSession(sctx, c, client.WithTTL(ttl))
	if err != nil {
		return nil, orInterrupted(sctx, err)
	}
	l := &leadership{s: s, e: client.NewElection(s, name), name: name, value: value}
	err = l.campaignWithin(sctx, wait)
	if err == nil {
		err = interruption(sctx) // a signal that raced the win
	}
	if err != nil {
		l.end(ctx)
		return nil, err
	}
	return l, nil
}

// campaignWithin campaigns, waiting up to wait (without limit when wait is
// not limited; not at all when it is 0), and records the term won.
func (l *leadership) campaignWithin(ctx context.Context, wait waitFlag) error {
	if wait.limited && wait.d == 0 {
		// One campaign without a wait; the Election's own Campaign
		// always waits.
		got, err := l.s.Client().Campaign(ctx, l.name, client.CampaignOptions{LeaseID: l.s.Lease(), Value: l.value})
		if errors.Is(err, client.ErrLockHeld) {
			return notGranted("election", l.name, nil, err)
		}
		l.term = client.Token(got.Term)
		return orInterrupted(ctx, err)
	}
	wctx, cancel := ctx, context.CancelFunc(func() {})
	if wait.limited {
		wctx, cancel = context.WithTimeoutCause(ctx, wait.d, errNotAcquired)
	}
	defer cancel()
	err := l.e.Campaign(wctx, l.value)
	if err != nil && errors.Is(context.Cause(wctx), errNotAcquired) {
		return notGranted("election", l.name, &wait.d, err)
	}
	l.term = l.e.Term()
	return orInterrupted(ctx, err)
}

// resign gives up the leadership and ends the session, reporting a failure
// on stderr (the lease then expires after its ttl).
func (l *leadership) resign(ctx context.Context, cio cliIO) {
	if err := l.end(ctx); err != nil {
		fmt.Fprintf(cio.stderr, "raftlock elect: resign (the lease expires after its ttl): %v\n", err)
	}
}

// end resigns a won term while the session lives, then closes the session.
func (l *leadership) end(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), client.CleanupTimeout)
	defer cancel()
	var err error
	if l.term != 0 && l.s.Err() == nil {
		rerr := l.s.Client().Resign(cctx, l.name, l.term)
		if rerr != nil && !errors.Is(rerr, client.ErrNotLeader) {
			err = fmt.Errorf("election %q term %d: %w", l.name, l.term, rerr)
		}
	}
	return errors.Join(err, l.s.Close())
}

// leadershipWatch closes lost when the session ends or the election shows
// a leader other than l's term.
type leadershipWatch struct {
	lost   chan struct{}
	cancel context.CancelFunc
	exited chan struct{}

	mu sync.Mutex
	// why says what was lost; set before lost closes.
	why error
}

// watchLeadership starts watching l; stop ends the watch.
func watchLeadership(l *leadership) *leadershipWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &leadershipWatch{lost: make(chan struct{}), cancel: cancel, exited: make(chan struct{})}
	obs := l.e.Observe(ctx)
	// Exits when stop cancels ctx and Observe has closed obs.
	go w.run(l, obs)
	return w
}

// run follows the session and the election's leaders. An event of an
// earlier term is a node that has not applied the win yet; once the win
// was seen, any other leader (or none) means it is over.
func (w *leadershipWatch) run(l *leadership, obs <-chan client.LeaderInfo) {
	defer close(w.exited)
	done := l.s.Done()
	seen := false
	for {
		select {
		case <-done:
			done = nil
			w.lose(fmt.Errorf("election %q term %d %w: %w", l.name, l.term, errLost, l.s.Err()))
		case li, ok := <-obs:
			if !ok {
				return
			}
			switch {
			case li.Term == l.term:
				seen = true
			case seen || li.Term > l.term:
				w.lose(fmt.Errorf("election %q term %d %w: now led by term %d (value %q)", l.name, l.term, errLost, li.Term, li.Value))
			}
		}
	}
}

// lose records why and closes lost, the first time only.
func (w *leadershipWatch) lose(why error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.why != nil {
		return
	}
	w.why = why
	close(w.lost)
}

// err says what was lost; nil while nothing was.
func (w *leadershipWatch) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.why
}

// stop ends the watch and waits for it.
func (w *leadershipWatch) stop() {
	w.cancel()
	<-w.exited
}
