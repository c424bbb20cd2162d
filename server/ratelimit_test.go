// These tests prove the token bucket of the rate limit with a fake clock:
// a burst, then refusals with the time until the next token; refills at
// the rate up to the burst and no further; a clock stepping back refills
// nothing; clients have separate buckets; and the tracked clients stay at
// RateKeysMax-like bounds, the least recently seen forgotten first.
package server

import (
	"fmt"
	"testing"
	"time"
)

var rateEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func TestRateLimiterBucket(t *testing.T) {
	type step struct {
		at       time.Duration // since rateEpoch
		key      string
		ok       bool
		retryMax time.Duration // when !ok: the Retry-After is in (0, retryMax]
		retryMin time.Duration
	}
	cases := []struct {
		name  string
		rate  float64
		burst int
		steps []step
	}{
		{"burst then refused", 2, 3, []step{
			{0, "a", true, 0, 0}, {0, "a", true, 0, 0}, {0, "a", true, 0, 0},
			{0, "a", false, 500 * time.Millisecond, 500 * time.Millisecond},
		}},
		{"refills at the rate", 2, 1, []step{
			{0, "a", true, 0, 0},
			{100 * time.Millisecond, "a", false, 400 * time.Millisecond, 400 * time.Millisecond},
			{500 * time.Millisecond, "a", true, 0, 0},
			{500 * time.Millisecond, "a", false, 500 * time.Millisecond, 500 * time.Millisecond},
		}},
		{"refill stops at the burst", 10, 2, []step{
			{0, "a", true, 0, 0}, {0, "a", true, 0, 0},
			{time.Hour, "a", true, 0, 0}, {time.Hour, "a", true, 0, 0},
			{time.Hour, "a", false, 100 * time.Millisecond, 100 * time.Millisecond},
		}},
		{"clock stepping back refills nothing", 1, 1, []step{
			{time.Minute, "a", true, 0, 0},
			{0, "a", false, time.Second, time.Second},
			{time.Minute, "a", false, time.Second, time.Second},
			{time.Minute + time.Second, "a", true, 0, 0},
		}},
		{"clients have their own buckets", 1, 1, []step{
			{0, "a", true, 0, 0}, {0, "a", false, time.Second, time.Second},
			{0, "b", true, 0, 0}, {0, "b", false, time.Second, time.Second},
		}},
		{"slow rate retries in seconds", 0.1, 1, []step{
			{0, "a", true, 0, 0}, {time.Second, "a", false, 9 * time.Second, 9 * time.Second},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newRateLimiter(tc.rate, tc.burst, RateKeysMax)
			for i, s := range tc.steps {
				ok, retry := l.allow(s.key, rateEpoch.Add(s.at))
				if ok != s.ok {
					t.Fatalf("step %d: allow(%q, +%v) = %v; want %v", i, s.key, s.at, ok, s.ok)
				}
				if !ok && (retry < s.retryMin || retry > s.retryMax) {
					t.Errorf("step %d: allow(%q, +%v) retry after %v; want within [%v, %v]", i, s.key, s.at, retry, s.retryMin, s.retryMax)
				}
			}
		})
	}
}

func TestRateLimiterForgetsLeastRecent(t *testing.T) {
	const keys = 4
	l := newRateLimiter(1, 1, keys)
	// Empty the buckets of c0..c3, then touch c0 again so c1 is the least
	// recently seen.
	for i := range keys {
		if ok, _ := l.allow(fmt.Sprint("c", i), rateEpoch); !ok {
			t.Fatalf("allow(c%d) = false; want the first request allowed", i)
		}
	}
	if ok, _ := l.allow("c0", rateEpoch); ok {
		t.Fatalf("allow(c0) twice = true; want refused")
	}
	if ok, _ := l.allow("new", rateEpoch); !ok {
		t.Fatalf("allow(new) = false; want a new client allowed")
	}
	if got := l.tracked(); got != keys {
		t.Errorf("tracked() = %d; want %d", got, keys)
	}
	cases := []struct {
		key  string
		want bool
	}{
		{"c0", false}, // still tracked: empty
		{"c2", false},
		{"c3", false},
		{"c1", true}, // forgotten: a full bucket again
	}
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			if ok, _ := l.allow(tc.key, rateEpoch); ok != tc.want {
				t.Errorf("allow(%q) = %v; want %v", tc.key, ok, tc.want)
			}
		})
	}
	// Many clients never grow it past its bound.
	for i := range 10 * keys {
		l.allow(fmt.Sprint("flood", i), rateEpoch)
	}
	if got := l.tracked(); got != keys {
		t.Errorf("tracked() after a flood = %d; want %d", got, keys)
	}
}
