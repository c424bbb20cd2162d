// These tests prove the schedule is a function of the seed alone, keeps its
// faults apart and inside the faulting phase, and draws every kind.
package main

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

func TestScheduleDeterministic(t *testing.T) {
	a, b := schedule(42, 10*time.Minute), schedule(42, 10*time.Minute)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("schedule(42) differs between two calls")
	}
	if c := schedule(43, 10*time.Minute); reflect.DeepEqual(a, c) {
		t.Errorf("schedule(42) = schedule(43); want different schedules")
	}
}

func TestScheduleShape(t *testing.T) {
	cases := []struct {
		name     string
		seed     uint64
		duration time.Duration
	}{
		{"ci minute", 1, time.Minute},
		{"ten minutes", 2, 10 * time.Minute},
		{"shortest", 3, DurationMin},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := schedule(tc.seed, tc.duration)
			end := tc.duration - quietTail(tc.duration)
			prevEnd := time.Duration(0)
			for i, f := range fs {
				if f.At < prevEnd {
					t.Errorf("fault %d (%s) starts at %v before fault %d ends at %v", i, f.Kind, f.At, i-1, prevEnd)
				}
				if f.At+f.Length > end {
					t.Errorf("fault %d (%s) ends at %v; want by %v, before the quiet tail", i, f.Kind, f.At+f.Length, end)
				}
				if f.Kind == faultLongPause && f.Length <= LeaseTTL {
					t.Errorf("long pause %d lasts %v; want longer than the lease ttl %v", i, f.Length, LeaseTTL)
				}
				prevEnd = f.At + f.Length
			}
		})
	}
	kinds := map[faultKind]int{}
	for _, f := range schedule(7, 30*time.Minute) {
		kinds[f.Kind]++
	}
	for k := range faultKinds {
		if kinds[k] == 0 {
			t.Errorf("schedule(7, 30m) has no %s fault; want every kind", k)
		}
	}
}

func TestSides(t *testing.T) {
	for _, n := range []int{3, 5, 7} {
		rng := rand.New(rand.NewPCG(uint64(n), 0))
		for range 100 {
			minority, majority := sides(rng, n)
			if len(minority) < 1 || len(minority) > (n-1)/2 || len(minority)+len(majority) != n {
				t.Fatalf("sides(%d) = %v, %v; want a minority of 1..%d and the rest", n, minority, majority, (n-1)/2)
			}
		}
	}
}

func TestParseFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		ok   bool
	}{
		{"defaults", nil, true},
		{"five nodes", []string{"--nodes", "5", "--clients", "32", "--duration", "10m"}, true},
		{"even nodes", []string{"--nodes", "4"}, false},
		{"too few nodes", []string{"--nodes", "1"}, false},
		{"no clients", []string{"--clients", "0"}, false},
		{"too short", []string{"--duration", "1s"}, false},
		{"unknown bug", []string{"--bug", "other"}, false},
		{"stray argument", []string{"extra"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var sink nopWriter
			_, err := parseFlags(tc.args, sink)
			if (err == nil) != tc.ok {
				t.Errorf("parseFlags(%q) = %v; want ok %v", tc.args, err, tc.ok)
			}
		})
	}
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }
