// TestMeasureTransferUnavailability measures the write unavailability of a
// leadership transfer (issue 8, Measured): an in-process 3-node cluster
// serves a writer that creates leases back to back over HTTP, moving to
// another node on any refusal after a 5 ms pause (not the SDK, whose
// Retry-After on no_leader would add a second); 20 times the leadership is
// transferred to the most up-to-date voter, and each transfer's
// unavailability is the longest gap between two acknowledged writes from the
// last one before the transfer to the first one after it. It logs the
// median and the maximum. Runs with RAFTLOCK_LONG=1.
package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/server"
	"github.com/raftlock/raftlock/server/servertest"
)

// Parameters of the transfer measurement.
const (
	measureTransfers    = 20
	measureRetryPause   = 5 * time.Millisecond
	measureWritesAfter  = 5
	measureWriteTimeout = 5 * time.Second
)

// ackLog records when writes were acknowledged.
type ackLog struct {
	mu   sync.Mutex
	acks []time.Time
}

func (a *ackLog) add(t time.Time) {
	a.mu.Lock()
	a.acks = append(a.acks, t)
	a.mu.Unlock()
}

// since counts the acks after t.
func (a *ackLog) since(t time.Time) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, x := range a.acks {
		if x.After(t) {
			n++
		}
	}
	return n
}

// gap is the longest pause between acks from the last ack before t0 to the
// first ack after t1.
func (a *ackLog) gap(t0, t1 time.Time) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	var longest time.Duration
	for i := 1; i < len(a.acks); i++ {
		prev, cur := a.acks[i-1], a.acks[i]
		if cur.Before(t0) {
			continue
		}
		longest = max(longest, cur.Sub(prev))
		if cur.After(t1) {
			break
		}
	}
	return longest
}

func TestMeasureTransferUnavailability(t *testing.T) {
	if !longTests() {
		t.Skipf("measurement; set %s=1", envLong)
	}
	ctx := testContext(t)
	c := servertest.Start(t, 3, servertest.Options{Locks: true})
	waitLeader(t, ctx, c)
	cl := newClient(t, c)
	var urls []string
	for i := range c.Size() {
		urls = append(urls, c.URL(i))
	}
	acks, stopWriter := startAckWriter(t, urls)
	var gaps []time.Duration
	for range measureTransfers {
		if err := servertest.WaitUntil(ctx, func() bool { return acks.since(time.Now().Add(-time.Second)) >= measureWritesAfter }); err != nil {
			t.Fatalf("writes do not go through: %v", err)
		}
		t0 := time.Now()
		lead, err := cl.TransferLeadership(ctx, "")
		t1 := time.Now()
		if err != nil {
			t.Fatalf("TransferLeadership = %q, %v; want nil", lead, err)
		}
		if err := servertest.WaitUntil(ctx, func() bool { return acks.since(t1) >= measureWritesAfter }); err != nil {
			t.Fatalf("no write after the transfer to %s: %v", lead, err)
		}
		gaps = append(gaps, acks.gap(t0, t1))
	}
	stopWriter()
	slices.Sort(gaps)
	t.Logf("write unavailability over %d leadership transfers: median %v, max %v, all %v",
		len(gaps), gaps[len(gaps)/2].Round(time.Millisecond), gaps[len(gaps)-1].Round(time.Millisecond), roundAll(gaps))
}

// startAckWriter creates leases back to back on urls, moving to the next
// node after any refusal and a pause of measureRetryPause, and records each
// acknowledged write. stop ends it and waits.
func startAckWriter(t *testing.T, urls []string) (acks *ackLog, stop func()) {
	hc := &http.Client{Timeout: measureWriteTimeout}
	acks = &ackLog{}
	quit := make(chan struct{})
	done := make(chan struct{})
	// Exits when stop closes quit.
	go func() {
		defer close(done)
		defer hc.CloseIdleConnections()
		node := 0
		for n := 0; ; n++ {
			select {
			case <-quit:
				return
			default:
			}
			req, err := http.NewRequest(http.MethodPost, urls[node]+server.PathLeases, bytes.NewReader([]byte(`{"ttl":"10s"}`)))
			if err != nil {
				t.Errorf("NewRequest: %v", err)
				return
			}
			req.Header.Set(wire.HeaderIdempotencyKey, fmt.Sprintf("ack-writer-%d", n))
			resp, err := hc.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					acks.add(time.Now())
					continue
				}
			}
			node = (node + 1) % len(urls)
			timer := time.NewTimer(measureRetryPause)
			select {
			case <-timer.C:
			case <-quit:
				timer.Stop()
				return
			}
		}
	}()
	return acks, func() {
		close(quit)
		<-done
	}
}

// longestGap is the longest pause between two acks.
func (a *ackLog) longestGap() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	var longest time.Duration
	for i := 1; i < len(a.acks); i++ {
		longest = max(longest, a.acks[i].Sub(a.acks[i-1]))
	}
	return longest
}
