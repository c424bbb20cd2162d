package server

import (
	"container/list"
	"math"
	"sync"
	"time"
)

// rateLimiter is a token bucket per client (issue 10): a client may make
// burst requests at once and rate per second after that. Buckets are kept
// for at most RateKeysMax clients; past that the least recently seen client
// is forgotten, which gives it a full bucket when it comes back: forgetting
// only ever errs towards serving. A client whose bucket is full is
// indistinguishable from one never seen, so the idle clients go first and
// nothing is lost until RateKeysMax clients are active at once.
//
// Time enters only as the now argument, so tests drive it with a fake
// clock.
type rateLimiter struct {
	rate    float64 // tokens per second; > 0
	burst   float64 // bucket size; >= 1
	keysMax int

	mu sync.Mutex
	// buckets maps a client key to its element of lru, whose Value is the
	// *bucket. Invariant: len(buckets) == lru.Len() <= keysMax.
	buckets map[string]*list.Element
	// lru orders the buckets by last use, most recent at the front.
	lru *list.List
}

// bucket is one client's tokens as of last.
type bucket struct {
	key    string
	tokens float64
	last   time.Time
}

// newRateLimiter returns a limiter of rate requests per second with bursts
// of burst, tracking at most keysMax clients.
func newRateLimiter(rate float64, burst, keysMax int) *rateLimiter {
	assertf(rate > 0, "rate limit %v, want > 0", rate)
	assertf(burst >= 1, "rate burst %d, want >= 1", burst)
	assertf(keysMax >= 1, "rate keys max %d, want >= 1", keysMax)
	return &rateLimiter{
		rate:    rate,
		burst:   float64(burst),
		keysMax: keysMax,
		buckets: make(map[string]*list.Element),
		lru:     list.New(),
	}
}

// allow takes one token of key's bucket at now. When the bucket is empty it
// reports false and how long until a token is back.
func (l *rateLimiter) allow(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketOf(key, now)
	// A clock that steps back refills nothing; it never drains a bucket.
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed.Seconds()*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) / l.rate * float64(time.Second)))
	return false, wait
}

// bucketOf returns key's bucket, moved to the front of lru, creating a full
// one (and forgetting the least recently seen client when at keysMax).
func (l *rateLimiter) bucketOf(key string, now time.Time) *bucket {
	if e, ok := l.buckets[key]; ok {
		l.lru.MoveToFront(e)
		return e.Value.(*bucket)
	}
	if l.lru.Len() >= l.keysMax {
		oldest := l.lru.Back()
		l.lru.Remove(oldest)
		delete(l.buckets, oldest.Value.(*bucket).key)
	}
	b := &bucket{key: key, tokens: l.burst, last: now}
	l.buckets[key] = l.lru.PushFront(b)
	assertf(len(l.buckets) == l.lru.Len(), "rate limiter tracks %d keys in its map, %d in its list", len(l.buckets), l.lru.Len())
	assertf(len(l.buckets) <= l.keysMax, "rate limiter tracks %d keys, max %d", len(l.buckets), l.keysMax)
	return b
}

// tracked counts the clients the limiter holds a bucket for.
func (l *rateLimiter) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
