package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// SessionOption configures NewSession.
type SessionOption func(*sessionConfig)

type sessionConfig struct {
	ttl time.Duration
}

// WithTTL sets the session lease's ttl (default TTLDefault). A shorter ttl
// frees the session's locks sooner after a crash and costs more keepalives.
func WithTTL(ttl time.Duration) SessionOption {
	return func(c *sessionConfig) { c.ttl = ttl }
}

// Session is a lease kept alive by a goroutine the Session owns. Locks and
// elections taken through it (Mutex, Election) last as long as the lease.
//
// Done closes when the lease is lost (a keepalive answered not_found) or
// could not be confirmed in time: the SDK counts the lease's ttl from the
// send time of the last acknowledged keepalive, earlier than any server
// could, and reports the loss LossMarginDivisor-th of a ttl before that.
// After Done, assume every lock of the session is held by someone else.
type Session struct {
	c   *Client
	id  LeaseID
	ttl time.Duration
	log *zap.Logger

	// cancel stops the keepalive goroutine; exited closes when it returned.
	cancel context.CancelFunc
	exited chan struct{}

	closeOnce sync.Once
	// done closes exactly once, by lose or by Close.
	done     chan struct{}
	doneOnce sync.Once

	mu sync.Mutex
	// err says why done closed; nil while it is open.
	err error
}

// NewSession creates a lease and starts keeping it alive every ttl/3.
func NewSession(ctx context.Context, c *Client, opts ...SessionOption) (*Session, error) {
	cfg := sessionConfig{ttl: TTLDefault}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.ttl <= 0 {
		return nil, fmt.Errorf("client: session ttl %v is not positive: %w", cfg.ttl, ErrInvalidArgument)
	}
	sent := time.Now()
	l, err := c.CreateLease(ctx, cfg.ttl)
	if err != nil {
		return nil, fmt.Errorf("client: new session: %w", err)
	}
	ttl := l.TTL.D()
	if ttl <= 0 {
		ttl = cfg.ttl
	}
	rctx, cancel := context.WithCancel(context.Background())
	s := &Session{
		c: c, id: LeaseID(l.LeaseID), ttl: ttl,
		log:    c.log.With(zap.Uint64("lease_id", l.LeaseID)),
		cancel: cancel, exited: make(chan struct{}), done: make(chan struct{}),
	}
	// Exits when Close cancels rctx or the lease is lost.
	go s.run(rctx, sent.Add(ttl))
	return s, nil
}

// Lease returns the session's lease id.
func (s *Session) Lease() LeaseID { return s.id }

// TTL returns the lease's ttl as the server granted it.
func (s *Session) TTL() time.Duration { return s.ttl }

// Client returns the Client the session was created with.
func (s *Session) Client() *Client { return s.c }

// Done closes when the lease is lost, could not be confirmed in time, or the
// session was closed.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns nil while the session is alive, then an error wrapping
// ErrSessionExpired that says why it ended.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// alive returns Err() without waiting.
func (s *Session) alive() error {
	select {
	case <-s.done:
		return s.Err()
	default:
		return nil
	}
}

// Close stops the keepalives and revokes the lease, which releases the
// session's locks and resigns its elections at once (instead of after the
// ttl). It returns the revoke's error, nil if the lease was already gone.
func (s *Session) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.cancel()
		<-s.exited
		if s.alive() == nil {
			ctx, cancel := context.WithTimeout(context.Background(), CleanupTimeout)
			defer cancel()
			if rerr := s.c.Revoke(ctx, s.id); rerr != nil && !errors.Is(rerr, ErrNotFound) {
				err = fmt.Errorf("client: close session of lease %d: %w", s.id, rerr)
			}
		}
		s.end(fmt.Errorf("%w: lease %d: session closed", ErrSessionExpired, s.id))
	})
	return err
}

// end records why the session ended and closes done, once.
func (s *Session) end(err error) {
	s.doneOnce.Do(func() {
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(s.done)
	})
}

// run keeps the lease alive until ctx ends or the lease is lost. deadline is
// the send time of the last acknowledged request plus ttl: no server can have
// expired the lease before it.
func (s *Session) run(ctx context.Context, deadline time.Time) {
	defer close(s.exited)
	period := s.ttl / KeepAliveDivisor
	margin := s.ttl / LossMarginDivisor
	next := deadline.Add(period - s.ttl)
	// The loss timer fires on its own goroutine, so a keepalive stuck in the
	// network cannot delay the report: Done closes margin before the deadline
	// whatever this loop is doing.
	loss := s.lossTimer(deadline, margin)
	defer func() { loss.Stop() }()
	wake := time.NewTimer(time.Until(next))
	defer wake.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-wake.C:
		}
		sent := time.Now()
		kctx, kcancel := context.WithDeadline(ctx, deadline.Add(-margin))
		l, err := s.c.KeepAlive(kctx, s.id)
		kcancel()
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			ttl := l.TTL.D()
			if ttl <= 0 {
				ttl = s.ttl
			}
			if !loss.Stop() {
				// The loss was reported already: a late acknowledgement
				// cannot revive a session that told its user it is gone.
				return
			}
			deadline = sent.Add(ttl)
			loss = s.lossTimer(deadline, margin)
			wake.Reset(time.Until(sent.Add(period)))
			continue
		case errors.Is(err, ErrNotFound):
			s.lose(deadline, err)
			return
		case !time.Now().Before(deadline.Add(-margin)):
			s.lose(deadline, err)
			return
		}
		s.log.Debug("keepalive failed", zap.Time("deadline", deadline), zap.Error(err))
		wake.Reset(BackoffMin)
	}
}

// lossTimer reports the session lost margin before deadline unless stopped.
func (s *Session) lossTimer(deadline time.Time, margin time.Duration) *time.Timer {
	return time.AfterFunc(time.Until(deadline.Add(-margin)), func() {
		s.lose(deadline, errors.New("no keepalive acknowledged in time"))
	})
}

// lose ends the session because of err.
func (s *Session) lose(deadline time.Time, err error) {
	s.log.Warn("session lost", zap.Time("deadline", deadline), zap.Error(err))
	s.end(fmt.Errorf("%w: lease %d: %w", ErrSessionExpired, s.id, err))
}
