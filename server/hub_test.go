// These tests prove the hub without a cluster: a watcher is woken by a change
// of its key only, once; a grant reaches the request registered for that
// lease; subscriber slots are bounded by SubscribersMax with
// too_many_requests (429 with Retry-After), and a released slot is reusable.
package server

import (
	"errors"
	"net/http"
	"testing"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/locks"
)

func TestHubWatch(t *testing.T) {
	h := newHub()
	a, doneA := h.watch("l/a")
	b, doneB := h.watch("l/b")
	defer doneB()
	h.notify([]string{"l/a"}, nil)
	select {
	case <-a:
	default:
		t.Fatalf("watch(l/a) not woken by a change of l/a")
	}
	select {
	case <-b:
		t.Fatalf("watch(l/b) woken by a change of l/a")
	default:
	}
	doneA()
	a2, doneA2 := h.watch("l/a")
	select {
	case <-a2:
		t.Fatalf("a new watch(l/a) is already closed")
	default:
	}
	doneA2()
	h.mu.Lock()
	n := len(h.watchers)
	h.mu.Unlock()
	if n != 1 {
		t.Errorf("watchers after done = %d; want 1 (l/b)", n)
	}
}

func TestHubGrant(t *testing.T) {
	h := newHub()
	k := grantKey{name: "db", lease: 7}
	ch, cancel := h.awaitGrant(k)
	other, cancelOther := h.awaitGrant(grantKey{name: "db", lease: 8})
	defer cancelOther()
	h.notify(nil, []grant{{key: k, holder: locks.Holder{LeaseID: 7, Token: 9}}})
	select {
	case got := <-ch:
		if got.Token != 9 {
			t.Errorf("grant = %+v; want token 9", got)
		}
	default:
		t.Fatalf("grant to lease 7 not delivered")
	}
	select {
	case got := <-other:
		t.Errorf("lease 8 got %+v; want nothing", got)
	default:
	}
	cancel()
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.grants[k]; ok {
		t.Errorf("grant registration of lease 7 kept after cancel")
	}
}

func TestHubSubscribersBounded(t *testing.T) {
	h := newHub()
	var releases []func()
	for range SubscribersMax {
		r, err := h.subscribe()
		if err != nil {
			t.Fatalf("subscribe() = %v before the limit", err)
		}
		releases = append(releases, r)
	}
	_, err := h.subscribe()
	if !errors.Is(err, ErrTooManyRequests) {
		t.Fatalf("subscribe() past %d = %v; want ErrTooManyRequests", SubscribersMax, err)
	}
	if status, code := errorStatus(err); status != http.StatusTooManyRequests || code != wire.CodeTooManyRequests {
		t.Errorf("errorStatus(%v) = %d %q; want 429 too_many_requests", err, status, code)
	}
	releases[0]()
	releases[0]() // twice is once
	if _, err := h.subscribe(); err != nil {
		t.Errorf("subscribe() after a release = %v; want nil", err)
	}
	if got := h.waiting(); got != SubscribersMax {
		t.Errorf("waiting() = %d; want %d", got, SubscribersMax)
	}
}
