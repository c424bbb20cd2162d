package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Mutex is a named lock held with a Session's lease. Lock waits in the
// server's FIFO queue; the token it returns is the fencing token to pass to
// whatever the lock guards. Use one Mutex per lock name per Session: the
// server sees a session's lease, not a Mutex, as the holder.
type Mutex struct {
	s    *Session
	name string

	mu sync.Mutex
	// token is the fencing token of the current grant, 0 when not held.
	token Token
}

// NewMutex returns a Mutex for lock name held through s.
func NewMutex(s *Session, name string) *Mutex {
	return &Mutex{s: s, name: name}
}

// Name returns the lock's name.
func (m *Mutex) Name() string { return m.name }

// Lock waits until the lock is granted to the session and returns its
// fencing token. It waits in the server's FIFO queue in windows of at most
// WaitMax (or until ctx's deadline), re-queueing when a window ends. It
// returns ErrSessionExpired when the session ends first, and ctx's error when
// ctx ends first; a grant that raced the cancellation is released.
func (m *Mutex) Lock(ctx context.Context) (Token, error) {
	if err := m.s.alive(); err != nil {
		return 0, err
	}
	lctx, stop := m.s.bind(ctx)
	defer stop()
	for {
		wait, err := waitWindow(lctx)
		if err != nil {
			return 0, m.abandon(ctx, err)
		}
		tok, err := m.acquire(lctx, wait)
		switch {
		case err == nil:
			return tok, nil
		case lctx.Err() != nil:
			return 0, m.abandon(ctx, ended(ctx, lctx, err))
		case errors.Is(err, ErrLockHeld) && nearDeadline(lctx):
			// The window ran to the deadline's margin: wait it out unqueued.
			<-lctx.Done()
			return 0, m.abandon(ctx, ended(ctx, lctx, err))
		case errors.Is(err, ErrLockHeld):
			continue // the window ended without a grant: queue again
		}
		return 0, err
	}
}

// TryLock takes the lock if it is free and returns its fencing token, or
// fails at once with ErrLockHeld (Error.Holder names the holder).
func (m *Mutex) TryLock(ctx context.Context) (Token, error) {
	if err := m.s.alive(); err != nil {
		return 0, err
	}
	return m.acquire(ctx, 0)
}

// acquire sends one acquire with the session's lease.
func (m *Mutex) acquire(ctx context.Context, wait time.Duration) (Token, error) {
	g, err := m.s.c.Acquire(ctx, m.name, AcquireOptions{LeaseID: m.s.id, Wait: wait})
	if err == nil {
		return m.set(Token(g.Token)), nil
	}
	if tok, ok := heldBy(err, m.s.id); ok {
		// A retry after a grant the first answer lost: the session holds it.
		return m.set(tok), nil
	}
	if errors.Is(err, ErrNotFound) {
		return 0, fmt.Errorf("client: lock %q: %w: lease %d: %w", m.name, ErrSessionExpired, m.s.id, err)
	}
	return 0, fmt.Errorf("client: lock %q: %w", m.name, err)
}

// abandon returns err for a Lock whose ctx or session ended, after releasing
// a grant that may have raced the cancellation.
func (m *Mutex) abandon(ctx context.Context, err error) error {
	if serr := m.s.alive(); serr != nil {
		return fmt.Errorf("client: lock %q: %w", m.name, serr)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CleanupTimeout)
	defer cancel()
	info, lerr := m.s.c.Lock(cctx, m.name)
	if lerr != nil {
		return errors.Join(err, fmt.Errorf("client: lock %q: check for a raced grant: %w", m.name, lerr))
	}
	if info.Holder != nil && LeaseID(info.Holder.LeaseID) == m.s.id {
		if rerr := m.s.c.Release(cctx, m.name, Token(info.Holder.Token)); rerr != nil && !errors.Is(rerr, ErrNotHolder) {
			return errors.Join(err, fmt.Errorf("client: lock %q: release raced grant %d: %w", m.name, info.Holder.Token, rerr))
		}
	}
	return err
}

// Unlock releases the lock with its token. ErrNotHolder means the lock was
// no longer the session's (its lease was lost); the Mutex forgets the token
// either way. Other errors leave it, so Unlock can be retried.
func (m *Mutex) Unlock(ctx context.Context) error {
	tok := m.Token()
	if tok == 0 {
		return fmt.Errorf("client: unlock %q: not locked: %w", m.name, ErrNotHolder)
	}
	err := m.s.c.Release(ctx, m.name, tok)
	if err == nil || errors.Is(err, ErrNotHolder) {
		m.clear(tok)
	}
	if err != nil {
		return fmt.Errorf("client: unlock %q with token %d: %w", m.name, tok, err)
	}
	return nil
}

// Token returns the fencing token of the current grant, 0 when not locked.
func (m *Mutex) Token() Token {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.token
}

// IsHeld reports whether the Mutex was granted, not unlocked since, and its
// session is alive. The server may still have expired the lease a moment
// ago; guard resources with the fencing token (Client.Fence), not IsHeld.
func (m *Mutex) IsHeld() bool {
	return m.Token() != 0 && m.s.alive() == nil
}

func (m *Mutex) set(tok Token) Token {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.token = tok
	return tok
}

// clear forgets tok if it is still the current token.
func (m *Mutex) clear(tok Token) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.token == tok {
		m.token = 0
	}
}

// heldBy reports the token when err is lock_held with lease as the holder.
func heldBy(err error, lease LeaseID) (Token, bool) {
	var e *Error
	if !errors.As(err, &e) || !errors.Is(e, ErrLockHeld) || e.Holder == nil {
		return 0, false
	}
	if LeaseID(e.Holder.LeaseID) != lease {
		return 0, false
	}
	return Token(e.Holder.Token), true
}

// ended is the error of a wait cut short by ctx (or by the session, through
// lctx): the ctx's error, with the last answer for context. Without it a
// lock_held answered just before the deadline would hide the deadline.
func ended(ctx, lctx context.Context, last error) error {
	cause := ctx.Err()
	if cause == nil {
		cause = lctx.Err()
	}
	if cause == nil || errors.Is(last, cause) {
		return last
	}
	return fmt.Errorf("%w (last answer: %v)", cause, last)
}

// waitWindow is the wait of the next acquire: WaitMax, or less when ctx has
// an earlier deadline. The server's wait then ends a margin before that
// deadline (a DeadlineMarginDivisor-th of the time left, at most
// DeadlineMarginMax), so the server withdraws the wait and answers before
// the SDK gives up on it: a wait still queued after Lock returned could be
// granted to the live session with nobody to release it.
func waitWindow(ctx context.Context) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	wait := WaitMax
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return 0, context.DeadlineExceeded
		}
		wait = min(wait, left-min(DeadlineMarginMax, left/DeadlineMarginDivisor))
	}
	return wait, nil
}

// nearDeadline reports whether ctx's deadline is DeadlineMarginMax away or
// closer: a window that ended there is not re-queued, since a new wait that
// short would race the deadline.
func nearDeadline(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) <= DeadlineMarginMax
}

// bind returns a ctx that also ends when the session does; stop releases it.
func (s *Session) bind(ctx context.Context) (context.Context, context.CancelFunc) {
	bctx, cancel := context.WithCancel(ctx)
	exited := make(chan struct{})
	// Exits when bctx ends (stop or ctx) or the session does.
	go func() {
		defer close(exited)
		select {
		case <-bctx.Done():
		case <-s.done:
			cancel()
		}
	}()
	return bctx, func() { cancel(); <-exited }
}
