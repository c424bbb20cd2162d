package lockmodel

// These tests prove the Recorder keeps real-time order under concurrency,
// turns unanswered and unknown operations into returns at +infinity, and
// bounds what it keeps.

import (
	"errors"
	"math"
	"sync"
	"testing"
)

func TestRecorderConcurrent(t *testing.T) {
	const clients, perClient = 8, 200
	rec := NewRecorder()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() { // exits after perClient operations
			defer wg.Done()
			for range perClient {
				call := rec.Invoke(c, read("a"))
				rec.Return(call, free())
			}
		}()
	}
	wg.Wait()
	h, err := rec.History()
	if err != nil {
		t.Fatalf("History() error = %v; want nil", err)
	}
	if len(h) != clients*perClient {
		t.Fatalf("len(History()) = %d; want %d", len(h), clients*perClient)
	}
	stamps := map[int64]bool{}
	last := map[int]int64{}
	for i, op := range h {
		if op.Call >= op.Return {
			t.Errorf("operation %d: Call %d >= Return %d; want Call < Return", i, op.Call, op.Return)
		}
		if op.Call <= last[op.ClientId] {
			t.Errorf("operation %d of client %d: Call %d after its previous Return %d; want later", i, op.ClientId, op.Call, last[op.ClientId])
		}
		last[op.ClientId] = op.Return
		for _, ts := range []int64{op.Call, op.Return} {
			if stamps[ts] {
				t.Errorf("timestamp %d used twice; want a strictly increasing logical clock", ts)
			}
			stamps[ts] = true
		}
	}
	if res, _ := Check(h, checkTimeout); !res.OK() {
		t.Errorf("Check(reads of a free lock) = %v; want ok", res.Err())
	}
}

func TestRecorderUnknownOutcomes(t *testing.T) {
	rec := NewRecorder()
	c0 := rec.Invoke(0, createLease())
	c1 := rec.Invoke(1, acquire("a", 1, "x"))
	c2 := rec.Invoke(2, read("a"))
	rec.Return(c0, created(1))
	rec.Return(c1, unknown())
	_ = c2 // never answered
	h, err := rec.History()
	if err != nil {
		t.Fatalf("History() error = %v; want nil", err)
	}
	cases := []struct {
		name   string
		i      int
		status Status
		ret    int64
	}{
		{"answered", 0, StatusOK, 4},
		{"unknown answer", 1, StatusUnknown, math.MaxInt64},
		{"no answer", 2, StatusUnknown, math.MaxInt64},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op := h[c.i]
			if got := op.Output.(Output).Status; got != c.status {
				t.Errorf("History()[%d].Output.Status = %v; want %v", c.i, got, c.status)
			}
			if op.Return != c.ret {
				t.Errorf("History()[%d].Return = %d; want %d", c.i, op.Return, c.ret)
			}
		})
	}
}

func TestRecorderClock(t *testing.T) {
	var now int64
	rec := NewRecorderClock(func() int64 { now += 10; return now })
	c := rec.Invoke(0, read("a"))
	rec.Return(c, free())
	h, err := rec.History()
	if err != nil {
		t.Fatalf("History() error = %v; want nil", err)
	}
	if h[0].Call != 10 || h[0].Return != 20 {
		t.Errorf("History()[0] = [%d, %d]; want [10, 20]", h[0].Call, h[0].Return)
	}
}

func TestRecorderBound(t *testing.T) {
	rec := NewRecorder()
	rec.max = 3
	for range 5 {
		rec.Return(rec.Invoke(0, read("a")), free())
	}
	h, err := rec.History()
	if !errors.Is(err, ErrTooManyOperations) {
		t.Errorf("History() error = %v; want %v", err, ErrTooManyOperations)
	}
	if len(h) != 3 {
		t.Errorf("len(History()) = %d; want 3", len(h))
	}
}
