package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/raftlock/raftlock/client/wire"
)

// LeaderInfo is an election's leader as an observer sees it. Term 0 means
// the election has no leader.
type LeaderInfo struct {
	// Value is what the leader announced (e.g. "host:port").
	Value string
	// Term is the leader's term: the fencing token of its grant. Terms of
	// one election strictly increase.
	Term Token
	// LeaseID is the leader's lease.
	LeaseID LeaseID
}

func leaderOf(ev wire.ElectionInfo) LeaderInfo {
	if ev.Leader == nil {
		return LeaderInfo{}
	}
	return LeaderInfo{Value: ev.Leader.Value, Term: Token(ev.Leader.Term), LeaseID: LeaseID(ev.Leader.LeaseID)}
}

// Election is a leader election held with a Session's lease: Campaign
// blocks until the session leads, and the leadership lasts until Resign or
// the session's end. Use one Election per name per Session.
type Election struct {
	s    *Session
	name string

	mu sync.Mutex
	// term is the term this Election leads with, 0 when it does not lead.
	term Token
}

// NewElection returns an Election for name run through s.
func NewElection(s *Session, name string) *Election {
	return &Election{s: s, name: name}
}

// Name returns the election's name.
func (e *Election) Name() string { return e.name }

// Campaign waits until the session leads the election, announcing value. It
// waits in the server's FIFO queue in windows of at most WaitMax, like
// Mutex.Lock; it returns ErrSessionExpired when the session ends first and
// ctx's error when ctx ends first (resigning a win that raced it).
func (e *Election) Campaign(ctx context.Context, value string) error {
	if err := e.s.alive(); err != nil {
		return err
	}
	lctx, stop := e.s.bind(ctx)
	defer stop()
	for {
		wait, err := waitWindow(lctx)
		if err != nil {
			return e.abandon(ctx, err)
		}
		err = e.campaign(lctx, value, wait)
		switch {
		case err == nil:
			return nil
		case lctx.Err() != nil:
			return e.abandon(ctx, ended(ctx, lctx, err))
		case errors.Is(err, ErrLockHeld) && nearDeadline(lctx):
			// The window ran to the deadline's margin: wait it out unqueued.
			<-lctx.Done()
			return e.abandon(ctx, ended(ctx, lctx, err))
		case errors.Is(err, ErrLockHeld):
			continue
		}
		return err
	}
}

// campaign sends one campaign with the session's lease.
func (e *Election) campaign(ctx context.Context, value string, wait time.Duration) error {
	c := e.s.c
	got, err := c.Campaign(ctx, e.name, CampaignOptions{LeaseID: e.s.id, Value: value, Wait: wait})
	if err == nil {
		e.set(Token(got.Term))
		return nil
	}
	if term, ok := heldBy(err, e.s.id); ok {
		// The session already leads (a lost answer): make value current.
		if _, perr := c.Proclaim(ctx, e.name, term, value); perr != nil {
			return fmt.Errorf("client: campaign %q: proclaim term %d: %w", e.name, term, perr)
		}
		e.set(term)
		return nil
	}
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("client: campaign %q: %w: lease %d: %w", e.name, ErrSessionExpired, e.s.id, err)
	}
	return fmt.Errorf("client: campaign %q: %w", e.name, err)
}

// abandon returns err for a Campaign whose ctx or session ended, resigning a
// win that may have raced the cancellation.
func (e *Election) abandon(ctx context.Context, err error) error {
	if serr := e.s.alive(); serr != nil {
		return fmt.Errorf("client: campaign %q: %w", e.name, serr)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CleanupTimeout)
	defer cancel()
	info, lerr := e.s.c.Leader(cctx, e.name)
	if lerr != nil {
		return errors.Join(err, fmt.Errorf("client: campaign %q: check for a raced win: %w", e.name, lerr))
	}
	if info.Leader != nil && LeaseID(info.Leader.LeaseID) == e.s.id {
		if rerr := e.s.c.Resign(cctx, e.name, Token(info.Leader.Term)); rerr != nil && !errors.Is(rerr, ErrNotLeader) {
			return errors.Join(err, fmt.Errorf("client: campaign %q: resign raced term %d: %w", e.name, info.Leader.Term, rerr))
		}
	}
	return err
}

// Proclaim changes the leader's value without giving up leadership. It
// returns ErrNotLeader when this Election does not lead (any more).
func (e *Election) Proclaim(ctx context.Context, value string) error {
	term := e.Term()
	if term == 0 {
		return fmt.Errorf("client: proclaim %q: not the leader: %w", e.name, ErrNotLeader)
	}
	_, err := e.s.c.Proclaim(ctx, e.name, term, value)
	if errors.Is(err, ErrNotLeader) {
		e.clear(term)
	}
	if err != nil {
		return fmt.Errorf("client: proclaim %q with term %d: %w", e.name, term, err)
	}
	return nil
}

// Resign gives up leadership so the next candidate in the queue is elected.
// It is a no-op when this Election does not lead.
func (e *Election) Resign(ctx context.Context) error {
	term := e.Term()
	if term == 0 {
		return nil
	}
	err := e.s.c.Resign(ctx, e.name, term)
	if err == nil || errors.Is(err, ErrNotLeader) {
		e.clear(term)
		return nil
	}
	return fmt.Errorf("client: resign %q with term %d: %w", e.name, term, err)
}

// Leader returns the election's current leader, or an error wrapping
// ErrNotFound when it has none.
func (e *Election) Leader(ctx context.Context) (LeaderInfo, error) {
	info, err := e.s.c.Leader(ctx, e.name)
	if err != nil {
		return LeaderInfo{}, fmt.Errorf("client: leader of %q: %w", e.name, err)
	}
	if info.Leader == nil {
		return LeaderInfo{}, fmt.Errorf("client: election %q has no leader: %w", e.name, ErrNotFound)
	}
	return leaderOf(info), nil
}

// Observe returns a channel that receives the election's leader now and at
// every change (Term 0: no leader), reconnecting with backoff when the
// stream fails; repeats across reconnects are dropped. The channel is closed
// when ctx ends; the caller must keep receiving until then.
func (e *Election) Observe(ctx context.Context) <-chan LeaderInfo {
	ch := make(chan LeaderInfo)
	// Exits when ctx ends; closes ch.
	go e.observe(ctx, ch)
	return ch
}

func (e *Election) observe(ctx context.Context, ch chan<- LeaderInfo) {
	defer close(ch)
	c := e.s.c
	var last LeaderInfo
	sent, failures := false, 0
	for {
		err := c.Observe(ctx, e.name, func(ev wire.ElectionInfo) error {
			failures = 0
			li := leaderOf(ev)
			if sent && li == last {
				return nil
			}
			select {
			case ch <- li:
				last, sent = li, true
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if ctx.Err() != nil {
			return
		}
		failures++
		d := c.retry.delay(failures, err, false)
		c.log.Debug("observe reconnect", zap.String("election", e.name), zap.Duration("delay", d), zap.Error(err))
		if sleepCtx(ctx, d) != nil {
			return
		}
	}
}

// Term returns the term this Election leads with, 0 when it does not lead.
func (e *Election) Term() Token {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.term
}

func (e *Election) set(term Token) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.term = term
}

func (e *Election) clear(term Token) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.term == term {
		e.term = 0
	}
}
