package server

import (
	"math"
	"time"
)

// HTTPLimits are the settings that keep one client of the client listener
// from taking what the others need (issue 10, hardened HTTP). The zero value
// is no rate limit and the default timeout.
type HTTPLimits struct {
	// RateLimit is how many requests per second one client may make
	// (--rate-limit); 0 turns the limit off. A client is its bearer token
	// or, without an Authorization header, its remote IP.
	RateLimit float64
	// RateBurst is how many requests a client may make at once before
	// RateLimit applies (--rate-burst); 0 means RateLimit rounded up. It
	// needs RateLimit.
	RateBurst int
	// ReadHeaderTimeout bounds how long a client may take to send the
	// headers of a request; 0 means ReadHeaderTimeout. There is no flag:
	// tests shorten it.
	ReadHeaderTimeout time.Duration
}

// validate checks the limits against their bounds.
func (l *HTTPLimits) validate() error {
	// Written so that NaN, which compares false to everything, fails too.
	if !(l.RateLimit >= 0 && l.RateLimit <= RateLimitMax) {
		return invalidf("rate-limit is %v requests/s, want within [0, %v]", l.RateLimit, float64(RateLimitMax))
	}
	if l.RateBurst < 0 || l.RateBurst > RateBurstMax {
		return invalidf("rate-burst is %d, want within [0, %d]", l.RateBurst, RateBurstMax)
	}
	if l.RateBurst != 0 && l.RateLimit == 0 {
		return invalidf("rate-burst is %d but rate-limit is 0 (off); give both", l.RateBurst)
	}
	if d := l.ReadHeaderTimeout; d != 0 && (d < ReadHeaderTimeoutMin || d > ReadHeaderTimeoutMax) {
		return invalidf("read-header-timeout is %v, want within [%v, %v]", d, ReadHeaderTimeoutMin, ReadHeaderTimeoutMax)
	}
	return nil
}

// rateBurst is RateBurst with its default: RateLimit rounded up, at least 1.
func (l *HTTPLimits) rateBurst() int {
	if l.RateBurst != 0 {
		return l.RateBurst
	}
	return max(1, int(math.Ceil(l.RateLimit)))
}

// readHeaderTimeout is ReadHeaderTimeout with its default.
func (l *HTTPLimits) readHeaderTimeout() time.Duration {
	if l.ReadHeaderTimeout == 0 {
		return ReadHeaderTimeout
	}
	return l.ReadHeaderTimeout
}
