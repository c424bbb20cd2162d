package client

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// retryPolicy decides how long to wait before the next attempt of a call.
type retryPolicy struct {
	min, max, afterMax time.Duration

	mu  sync.Mutex
	rng *rand.Rand
}

func defaultRetryPolicy() retryPolicy {
	var seed [16]byte
	_, _ = crand.Read(seed[:]) // crypto/rand.Read never returns an error
	return retryPolicy{
		min:      BackoffMin,
		max:      BackoffMax,
		afterMax: RetryAfterMax,
		rng:      rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:]))),
	}
}

// backoff is the capped exponential delay before retry number n (n >= 1).
func (p *retryPolicy) backoff(n int) time.Duration {
	d := p.min
	for i := 1; i < n && d < p.max; i++ {
		d *= 2
	}
	return min(d, p.max)
}

// delay is how long to wait before retry n after err: the backoff with
// jitter drawn from [d/2, d], and, unless skipUnavailable and err is a 503,
// at least the server's Retry-After (capped at afterMax) plus a jitter of
// up to half the backoff. A 429's Retry-After always applies.
func (p *retryPolicy) delay(n int, err error, skipUnavailable bool) time.Duration {
	d := p.backoff(n)
	p.mu.Lock()
	j := time.Duration(p.rng.Int64N(int64(d/2) + 1))
	p.mu.Unlock()
	wait := d/2 + j
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 && !(skipUnavailable && e.Status == http.StatusServiceUnavailable) {
		wait = max(wait, min(e.RetryAfter, p.afterMax)+j)
	}
	return wait
}

// sleepCtx waits d or until ctx ends, whichever is first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// parseRetryAfter reads a Retry-After header: whole seconds or an HTTP date.
// Anything else (or a past date) is 0.
func parseRetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		if s <= 0 {
			return 0
		}
		// Capped before the multiplication so a huge value cannot overflow.
		return time.Duration(min(s, int(RetryAfterMax/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// newRequestID returns a random 128-bit request id in hex, sent as
// Idempotency-Key.
func newRequestID() string {
	var b [IdempotencyKeyBytes]byte
	_, _ = crand.Read(b[:]) // crypto/rand.Read never returns an error
	return hex.EncodeToString(b[:])
}
