package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

// Shape of the lock load the process tests drive through SIGKILLs.
const (
	procLoadClients  = 4
	procLoadDeadline = 20 * time.Second // one logical request, over its retries
	procLoadBackoff  = 50 * time.Millisecond
)

// procGrant is an acknowledged grant: the client got 200 for it.
type procGrant struct {
	name  string
	token uint64
}

// procLoad acquires locks over HTTP against random nodes of a process
// cluster (killed ones refuse, and the client moves on) with one
// Idempotency-Key per logical request. Each acquire names a lock of its own
// with a one-hour lease, so every acknowledged grant must still be held with
// its token after any number of SIGKILLs.
type procLoad struct {
	urls []string
	// up[i] is set while node i runs (nil: send to any).
	up   []*atomic.Bool
	hc   *http.Client
	stop chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex
	grants []procGrant
}

func startProcLoad(t *testing.T, c *procCluster) *procLoad {
	l := &procLoad{hc: &http.Client{Timeout: 5 * time.Second}, stop: make(chan struct{})}
	t.Cleanup(l.hc.CloseIdleConnections)
	for _, nd := range c.nodes {
		l.urls = append(l.urls, "http://"+nd.clientAddr)
		l.up = append(l.up, &nd.up)
	}
	for i := range procLoadClients {
		l.wg.Add(1)
		// Exits when halt closes stop.
		go func() {
			defer l.wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			for n := 0; ; n++ {
				select {
				case <-l.stop:
					return
				default:
				}
				name := fmt.Sprintf("proc-c%d-%d", i, n)
				a, ok := l.send(rng, "POST", "/v1/locks/"+name+"/acquire", `{"ttl":"1h"}`, fmt.Sprintf("%s-%d", name, rng.Uint64()))
				if ok && a.Status == http.StatusOK {
					l.mu.Lock()
					l.grants = append(l.grants, procGrant{name: name, token: a.num("token")})
					l.mu.Unlock()
				}
			}
		}()
	}
	return l
}

// halt stops the clients and returns the acknowledged grants.
func (l *procLoad) halt() []procGrant {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]procGrant(nil), l.grants...)
}

// send retries one logical request on random nodes until an answer other
// than no_leader or timeout arrives, or procLoadDeadline passes.
func (l *procLoad) send(rng *rand.Rand, method, path, body, key string) (answer, bool) {
	deadline := time.Now().Add(procLoadDeadline)
	for time.Now().Before(deadline) {
		req, err := http.NewRequest(method, l.urls[l.pick(rng)]+path, bytes.NewReader([]byte(body)))
		if err != nil {
			return answer{}, false
		}
		if key != "" {
			req.Header.Set(wire.HeaderIdempotencyKey, key)
		}
		a, err := doRequest(l.hc, req)
		if err == nil && a.code() != wire.CodeNoLeader && a.code() != wire.CodeTimeout {
			return a, true
		}
		timer := time.NewTimer(procLoadBackoff)
		select {
		case <-timer.C:
		case <-l.stop:
			timer.Stop()
			return answer{}, false
		}
	}
	return answer{}, false
}

// pick returns a random node, a running one when there is one.
func (l *procLoad) pick(rng *rand.Rand) int {
	start := rng.IntN(len(l.urls))
	for k := range l.urls {
		i := (start + k) % len(l.urls)
		if l.up == nil || l.up[i].Load() {
			return i
		}
	}
	return start
}

func doRequest(hc *http.Client, req *http.Request) (answer, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if json.Unmarshal(raw, &a.Body) != nil {
		a.Body = nil
	}
	return a, nil
}

// checkGrants reads every acknowledged grant back (linearizable reads on
// random nodes): each lock must be held with the token its acquire got.
func checkGrants(t *testing.T, c *procCluster, grants []procGrant) {
	t.Helper()
	if len(grants) == 0 {
		t.Fatalf("the lock load got no grant acknowledged")
	}
	l := &procLoad{hc: &http.Client{Timeout: 5 * time.Second}, stop: make(chan struct{})}
	defer l.hc.CloseIdleConnections()
	for _, nd := range c.nodes {
		l.urls = append(l.urls, "http://"+nd.clientAddr)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, g := range grants {
		a, ok := l.send(rng, "GET", "/v1/locks/"+g.name, "", "")
		if !ok {
			t.Fatalf("GET lock %s: no answer", g.name)
		}
		h, _ := a.Body["holder"].(map[string]any)
		if a.Body["held"] != true || h == nil || uint64(h["token"].(float64)) != g.token {
			t.Errorf("lock %s after SIGKILLs = %s; want held with the acknowledged token %d", g.name, a.Raw, g.token)
		}
	}
	t.Logf("%d acknowledged grants read back after the SIGKILLs", len(grants))
}
