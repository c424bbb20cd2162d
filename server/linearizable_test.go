// TestLinearizableUnderLeaderKills runs 32 concurrent HTTP clients on four
// locks and two elections (acquire with and without a lease, release, read,
// fence, create lease, keepalive, campaign, leader, resign) through random
// nodes of a 3-node cluster while the leader is stopped and restarted twice. Each logical request keeps one Idempotency-Key over
// its retries (503, refused connections) and is recorded once; a request
// that never got an answer is of unknown outcome. The history must be
// linearizable under locks/lockmodel (with the lock table's fence rule), and
// the grants of each lock must carry strictly increasing tokens in real-time
// order.
package server_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/locks/lockmodel"
	"github.com/raftlock/raftlock/server/servertest"
)

// Shape of the linearizability run.
const (
	linClients      = 32
	linLocks        = 4
	linRun          = 6 * time.Second
	linAttemptsMax  = 40
	linRetryDelay   = 50 * time.Millisecond
	linCheckTimeout = 60 * time.Second
)

func TestLinearizableUnderLeaderKills(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster run with leader kills")
	}
	ctx := testContext(t)
	c, _ := startLocks(t, ctx, 3)
	ac := newAPIClient(t)
	rec := lockmodel.NewRecorder()
	runCtx, stop := context.WithTimeout(ctx, linRun)
	defer stop()
	var wg sync.WaitGroup
	var ops atomic.Int64
	for i := range linClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lc := &linClient{id: i, c: c, ac: ac, rec: rec, rng: rand.New(rand.NewPCG(uint64(i), 7)), held: map[string]lockmodel.Token{}, terms: map[string]lockmodel.Token{}}
			for runCtx.Err() == nil {
				lc.step(ctx)
				ops.Add(1)
			}
		}()
	}
	// Two leader kills during the run, each followed by a restart.
	for k := range 2 {
		timer := time.NewTimer(linRun / 3)
		select {
		case <-timer.C:
		case <-runCtx.Done():
			timer.Stop()
		}
		leader, err := c.WaitLeader(ctx)
		if err != nil {
			t.Fatalf("kill %d: %v", k, err)
		}
		c.Stop(leader)
		if _, err := c.WaitLeader(ctx); err != nil {
			t.Fatalf("kill %d: no new leader: %v", k, err)
		}
		c.Restart(leader)
	}
	wg.Wait()
	history, err := rec.History()
	if err != nil {
		t.Fatalf("History() = %v", err)
	}
	t.Logf("%d operations by %d clients", len(history), linClients)
	res, vis := lockmodel.Options{Fence: lockmodel.FenceHolderOrNewer}.Check(history, linCheckTimeout)
	if !res.OK() {
		path := filepath.Join(t.TempDir(), "history.html")
		t.Errorf("Check = %v; visualization: %s (write err %v)", res.Err(), path, vis.WriteFile(path))
	}
	checkTokensIncrease(t, history)
}

// checkTokensIncrease: a grant that returned before another grant of the
// same lock was invoked has the smaller token.
func checkTokensIncrease(t *testing.T, history []porcupine.Operation) {
	type grantOp struct {
		call, ret int64
		token     lockmodel.Token
	}
	byLock := map[string][]grantOp{}
	for _, op := range history {
		in, out := op.Input.(lockmodel.Input), op.Output.(lockmodel.Output)
		if in.Kind == lockmodel.KindAcquire && out.Status == lockmodel.StatusOK {
			byLock[in.Name] = append(byLock[in.Name], grantOp{op.Call, op.Return, out.Token})
		}
	}
	for name, gs := range byLock {
		for _, a := range gs {
			for _, b := range gs {
				if a.ret < b.call && a.token >= b.token {
					t.Errorf("lock %s: grant with token %d returned before a grant with token %d was asked", name, a.token, b.token)
				}
			}
		}
	}
}

// linClient is one test client: it holds at most one token per lock.
type linClient struct {
	id   int
	c    *servertest.Cluster
	ac   *apiClient
	rec  *lockmodel.Recorder
	rng  *rand.Rand
	held map[string]lockmodel.Token
	seq  int
	// lease is a lease this client created (0: none); terms are the
	// elections it leads.
	lease lockmodel.LeaseID
	terms map[string]lockmodel.Token
}

// step runs one random operation on a random lock.
func (lc *linClient) step(ctx context.Context) {
	name := fmt.Sprintf("lin%d", lc.rng.IntN(linLocks))
	path := "/v1/locks/" + name
	lc.seq++
	key := fmt.Sprintf("c%d-%d", lc.id, lc.seq)
	if r := lc.rng.IntN(10); r < 3 {
		lc.leaseOrElectionStep(ctx, key)
		return
	}
	switch r := lc.rng.IntN(10); {
	case r < 4:
		wait := lc.rng.IntN(2) == 0
		body := map[string]any{"ttl": "3s", "owner": fmt.Sprintf("c%d", lc.id)}
		if wait {
			body["wait"] = "300ms"
		}
		in := lockmodel.Input{Kind: lockmodel.KindAcquire, Name: name, TTL: 3 * time.Second, Owner: fmt.Sprintf("c%d", lc.id), Wait: wait}
		if lc.lease != 0 && lc.rng.IntN(2) == 0 {
			delete(body, "ttl")
			body["lease_id"] = lc.lease
			in.Lease, in.TTL = lc.lease, 0
		}
		call := lc.rec.Invoke(lc.id, in)
		a, ok := lc.send(ctx, "POST", path+"/acquire", body, key)
		out := lockmodel.Output{Status: status(a, ok)}
		switch out.Status {
		case lockmodel.StatusOK:
			out.Token, out.Lease = lockmodel.Token(a.num("token")), lockmodel.LeaseID(a.num("lease_id"))
			lc.held[name] = out.Token
		case lockmodel.StatusLockHeld:
			if h, _ := a.Body["error"].(map[string]any)["holder"].(map[string]any); h != nil {
				out.Token = lockmodel.Token(h["token"].(float64))
				out.Lease = lockmodel.LeaseID(h["lease_id"].(float64))
			}
		}
		lc.rec.Return(call, out)
	case r < 7:
		token, ok := lc.held[name]
		if !ok {
			token = lockmodel.Token(1 + lc.rng.IntN(50))
		}
		delete(lc.held, name)
		call := lc.rec.Invoke(lc.id, lockmodel.Input{Kind: lockmodel.KindRelease, Name: name, Token: token})
		a, ok := lc.send(ctx, "POST", path+"/release", map[string]any{"token": token}, key)
		lc.rec.Return(call, lockmodel.Output{Status: status(a, ok)})
	case r < 9:
		call := lc.rec.Invoke(lc.id, lockmodel.Input{Kind: lockmodel.KindRead, Name: name})
		a, ok := lc.send(ctx, "GET", path, nil, "")
		out := lockmodel.Output{Status: status(a, ok)}
		if out.Status == lockmodel.StatusOK && a.Body["held"] == true {
			h := a.Body["holder"].(map[string]any)
			out.Held = true
			out.Token = lockmodel.Token(h["token"].(float64))
			out.Lease = lockmodel.LeaseID(h["lease_id"].(float64))
			out.Owner, _ = h["owner"].(string)
		}
		lc.rec.Return(call, out)
	default:
		token := lc.held[name]
		if token == 0 {
			token = lockmodel.Token(1 + lc.rng.IntN(50))
		}
		call := lc.rec.Invoke(lc.id, lockmodel.Input{Kind: lockmodel.KindFence, Name: name, Token: token})
		a, ok := lc.send(ctx, "GET", fmt.Sprintf("%s/fence?token=%d", path, token), nil, "")
		lc.rec.Return(call, lockmodel.Output{Status: status(a, ok)})
	}
}

// status maps an answer to the model's outcome; no answer is unknown.
func status(a answer, ok bool) lockmodel.Status {
	if !ok {
		return lockmodel.StatusUnknown
	}
	return lockmodel.StatusFromCode(a.code())
}

// send sends one logical request to random nodes with the same key until an
// answer other than no_leader arrives; ok is false when none did.
func (lc *linClient) send(ctx context.Context, method, path string, body any, key string) (answer, bool) {
	var headers []string
	if key != "" {
		headers = []string{wire.HeaderIdempotencyKey, key}
	}
	for range linAttemptsMax {
		slot := lc.rng.IntN(lc.c.Size())
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		a, err := lc.ac.do(actx, method, lc.c.URL(slot)+path, body, headers...)
		cancel()
		if err == nil && a.code() != wire.CodeNoLeader && a.code() != wire.CodeTimeout {
			return a, true
		}
		if ctx.Err() != nil || (err != nil && errors.Is(err, context.Canceled)) {
			return answer{}, false
		}
		timer := time.NewTimer(linRetryDelay)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return answer{}, false
		}
	}
	return answer{}, false
}

// leaseOrElectionStep runs one lease or election operation: create a lease,
// keep it alive, campaign, read or resign an election.
func (lc *linClient) leaseOrElectionStep(ctx context.Context, key string) {
	name := fmt.Sprintf("linel%d", lc.rng.IntN(2))
	path := "/v1/elections/" + name
	switch r := lc.rng.IntN(5); {
	case r == 0 && lc.lease == 0:
		call := lc.rec.Invoke(lc.id, lockmodel.Input{Kind: lockmodel.KindCreateLease, TTL: 3 * time.Second})
		a, ok := lc.send(ctx, "POST", "/v1/leases", `{"ttl":"3s"}`, key)
		out := lockmodel.Output{Status: status(a, ok)}
		if out.Status == lockmodel.StatusOK {
			out.Lease = lockmodel.LeaseID(a.num("lease_id"))
			lc.lease = out.Lease
		}
		lc.rec.Return(call, out)
	case r <= 1 && lc.lease != 0:
		call := lc.rec.Invoke(lc.id, lockmodel.Input{Kind: lockmodel.KindKeepAlive, Lease: lc.lease})
		a, ok := lc.send(ctx, "POST", fmt.Sprintf("/v1/leases/%d/keepalive", lc.lease), nil, "")
		out := lockmodel.Output{Status: status(a, ok)}
		if out.Status == lockmodel.StatusNotFound {
			lc.lease = 0
		}
		lc.rec.Return(call, out)
	case r == 2:
		value := fmt.Sprintf("c%d", lc.id)
		call := lc.rec.Invoke(lc.id, lockmodel.Input{Kind: lockmodel.KindCampaign, Name: name, Value: value, TTL: 3 * time.Second})
		a, ok := lc.send(ctx, "POST", path+"/campaign", map[string]any{"value": value, "ttl": "3s"}, key)
		out := lockmodel.Output{Status: status(a, ok)}
		switch out.Status {
		case lockmodel.StatusOK:
			out.Token, out.Lease = lockmodel.Token(a.num("term")), lockmodel.LeaseID(a.num("lease_id"))
			lc.terms[name] = out.Token
		case lockmodel.StatusLockHeld:
			if h, _ := a.Body["error"].(map[string]any)["holder"].(map[string]any); h != nil {
				out.Token = lockmodel.Token(h["token"].(float64))
				out.Lease = lockmodel.LeaseID(h["lease_id"].(float64))
			}
		}
		lc.rec.Return(call, out)
	case r == 3:
		call := lc.rec.Invoke(lc.id, lockmodel.Input{Kind: lockmodel.KindLeader, Name: name})
		a, ok := lc.send(ctx, "GET", path, nil, "")
		out := lockmodel.Output{Status: status(a, ok)}
		if ld, _ := a.Body["leader"].(map[string]any); out.Status == lockmodel.StatusOK && ld != nil {
			out.Held = true
			out.Token = lockmodel.Token(ld["term"].(float64))
			out.Lease = lockmodel.LeaseID(ld["lease_id"].(float64))
			out.Value, _ = ld["value"].(string)
		}
		lc.rec.Return(call, out)
	default:
		term, ok := lc.terms[name]
		if !ok {
			term = lockmodel.Token(1 + lc.rng.IntN(50))
		}
		delete(lc.terms, name)
		call := lc.rec.Invoke(lc.id, lockmodel.Input{Kind: lockmodel.KindResign, Name: name, Token: term})
		a, ok := lc.send(ctx, "POST", path+"/resign", map[string]any{"term": term}, key)
		lc.rec.Return(call, lockmodel.Output{Status: status(a, ok)})
	}
}
