// This file is the HTTP face of the fake (see fake_test.go): endpoints
// sharing one table, the routes of DESIGN.md §5, Idempotency-Key dedup, and
// the handlers that turn requests into table changes and answers.
package client

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

// fakeNode is one endpoint of a fake cluster.
type fakeNode struct {
	t      testing.TB
	state  *fakeState
	server *httptest.Server
	mux    *http.ServeMux

	mu sync.Mutex
	// leader, when set, is sent in X-Raftlock-Leader.
	leader string
	// hook, when set, sees every request first; true means it answered.
	hook func(w http.ResponseWriter, r *http.Request) bool
	// seen records each request as "METHOD path key".
	seen []fakeRequest
}

type fakeRequest struct {
	method, path, key string
}

// startFake starts a one-node fake and stops it when the test ends.
func startFake(t testing.TB) *fakeNode {
	t.Helper()
	st := newFakeState()
	n := newFakeNode(t, st)
	t.Cleanup(func() { st.close(); n.server.Close() })
	return n
}

// newFakeNode starts another endpoint on st; the caller stops it.
func newFakeNode(t testing.TB, st *fakeState) *fakeNode {
	n := &fakeNode{t: t, state: st, mux: http.NewServeMux()}
	n.routes()
	n.server = httptest.NewServer(http.HandlerFunc(n.serve))
	return n
}

// startFakeCluster starts k endpoints sharing one table.
func startFakeCluster(t testing.TB, k int) []*fakeNode {
	t.Helper()
	st := newFakeState()
	nodes := make([]*fakeNode, k)
	for i := range nodes {
		nodes[i] = newFakeNode(t, st)
	}
	t.Cleanup(func() {
		st.close()
		for _, n := range nodes {
			n.server.Close()
		}
	})
	return nodes
}

func (n *fakeNode) URL() string { return n.server.URL }

func (n *fakeNode) setHook(h func(w http.ResponseWriter, r *http.Request) bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.hook = h
}

func (n *fakeNode) setLeader(url string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.leader = url
}

func (n *fakeNode) requests() []fakeRequest {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]fakeRequest(nil), n.seen...)
}

func (n *fakeNode) serve(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	n.seen = append(n.seen, fakeRequest{r.Method, r.URL.EscapedPath(), r.Header.Get(wire.HeaderIdempotencyKey)})
	hook, leader := n.hook, n.leader
	n.mu.Unlock()
	if leader != "" {
		w.Header().Set(wire.HeaderLeader, leader)
	}
	if hook != nil && hook(w, r) {
		return
	}
	n.mux.ServeHTTP(w, r)
}

func (n *fakeNode) routes() {
	f := n.state
	n.mux.HandleFunc("POST /v1/leases", f.mutating(f.createLease))
	n.mux.HandleFunc("POST /v1/leases/{id}/keepalive", f.mutating(f.keepAlive))
	n.mux.HandleFunc("GET /v1/leases/{id}", f.reading(f.leaseInfo))
	n.mux.HandleFunc("DELETE /v1/leases/{id}", f.mutating(f.revoke))
	n.mux.HandleFunc("POST /v1/locks/{name}/acquire", f.mutating(f.acquire(false)))
	n.mux.HandleFunc("POST /v1/locks/{name}/release", f.mutating(f.release))
	n.mux.HandleFunc("GET /v1/locks/{name}", f.reading(f.lockInfo))
	n.mux.HandleFunc("GET /v1/locks", f.reading(f.list))
	n.mux.HandleFunc("GET /v1/locks/{name}/fence", f.reading(f.fence))
	n.mux.HandleFunc("POST /v1/elections/{name}/campaign", f.mutating(f.acquire(true)))
	n.mux.HandleFunc("POST /v1/elections/{name}/proclaim", f.mutating(f.proclaim))
	n.mux.HandleFunc("POST /v1/elections/{name}/resign", f.mutating(f.resign))
	n.mux.HandleFunc("GET /v1/elections/{name}", f.reading(f.electionInfo))
	n.mux.HandleFunc("GET /v1/elections/{name}/observe", f.observe)
	n.mux.HandleFunc("GET /v1/cluster", func(w http.ResponseWriter, r *http.Request) {
		writeAnswer(w, ok(wire.Cluster{ID: "fake", Role: "leader", Term: 1, Leader: "fake", Members: []wire.Member{{Name: "fake", IsLeader: true}}}))
	})
}

func writeAnswer(w http.ResponseWriter, a fakeAnswer) {
	b, err := json.Marshal(a.body)
	if err != nil {
		a, b = fakeAnswer{status: 500}, []byte(`{"error":{"code":"internal","message":"encode"}}`)
	}
	writeRaw(w, a.status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		w.Header().Set(wire.HeaderRetryAfter, "1")
	}
	w.WriteHeader(status)
	_, _ = w.Write(b) // the test client may have gone; nothing to do
}

type fakeHandler func(r *http.Request) fakeAnswer

func (f *fakeState) reading(h fakeHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { writeAnswer(w, h(r)) }
}

// mutating applies DESIGN.md §4's exactly-once rule: a repeated
// Idempotency-Key gets the first answer and changes nothing; the same key on
// another request is invalid_argument.
func (f *fakeState) mutating(h fakeHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get(wire.HeaderIdempotencyKey)
		if key == "" {
			writeAnswer(w, h(r))
			return
		}
		fp := r.Method + " " + r.URL.EscapedPath()
		f.mu.Lock()
		d, dup := f.dedup[key]
		if !dup {
			d = &fakeDedup{fingerprint: fp, done: make(chan struct{})}
			f.dedup[key] = d
		}
		f.mu.Unlock()
		if dup {
			if d.fingerprint != fp {
				writeAnswer(w, fail(400, wire.CodeInvalidArgument, "request id %s was used for %s", key, d.fingerprint))
				return
			}
			select {
			case <-d.done:
				writeRaw(w, d.status, d.body)
			case <-r.Context().Done():
			}
			return
		}
		a := h(r)
		b, err := json.Marshal(a.body)
		if err != nil {
			a.status, b = 500, []byte(`{"error":{"code":"internal","message":"encode"}}`)
		}
		d.status, d.body = a.status, b
		close(d.done)
		writeRaw(w, a.status, b)
	}
}

// decode reads a JSON body into v.
func decode(r *http.Request, v any) *fakeAnswer {
	if r.ContentLength == 0 {
		return nil
	}
	// Read the body to its end, as the real server does: only then does
	// net/http watch the connection and end r.Context() when the client
	// goes away, which a waiting acquire relies on to withdraw its wait.
	b, err := io.ReadAll(r.Body)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		a := fail(400, wire.CodeInvalidArgument, "body: %v", err)
		return &a
	}
	return nil
}

func pathID(r *http.Request) (uint64, *fakeAnswer) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		a := fail(400, wire.CodeInvalidArgument, "lease id %q: %v", r.PathValue("id"), err)
		return 0, &a
	}
	return id, nil
}

func (f *fakeState) createLease(r *http.Request) fakeAnswer {
	var req wire.LeaseRequest
	if a := decode(r, &req); a != nil {
		return *a
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	l, a := f.newLease(req.TTL.D(), false)
	if a != nil {
		return *a
	}
	return fakeAnswer{http.StatusCreated, wire.Lease{LeaseID: l.id, TTL: wire.Duration(l.ttl)}}
}

func (f *fakeState) keepAlive(r *http.Request) fakeAnswer {
	id, a := pathID(r)
	if a != nil {
		return *a
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.leases[id]
	if l == nil {
		return fail(404, wire.CodeNotFound, "lease %d not found", id)
	}
	l.deadline = time.Now().Add(l.ttl)
	return ok(wire.Lease{LeaseID: id, TTL: wire.Duration(l.ttl)})
}

func (f *fakeState) leaseInfo(r *http.Request) fakeAnswer {
	id, a := pathID(r)
	if a != nil {
		return *a
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.leases[id]
	if l == nil {
		return fail(404, wire.CodeNotFound, "lease %d not found", id)
	}
	info := wire.LeaseInfo{LeaseID: id, TTL: wire.Duration(l.ttl), Remaining: wire.Duration(max(0, time.Until(l.deadline))), Locks: []string{}}
	for name, lk := range f.locks {
		if lk.holder.LeaseID == id {
			info.Locks = append(info.Locks, name)
		}
	}
	return ok(info)
}

func (f *fakeState) revoke(r *http.Request) fakeAnswer {
	id, a := pathID(r)
	if a != nil {
		return *a
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.leases[id] == nil {
		return fail(404, wire.CodeNotFound, "lease %d not found", id)
	}
	f.dropLease(id)
	return ok(wire.Revoked{Revoked: true})
}

func (f *fakeState) ns(election bool) map[string]*fakeLock {
	if election {
		return f.elections
	}
	return f.locks
}

// acquire serves acquire (and campaign, with election): grant, refuse, or
// queue for up to wait and answer when granted, withdrawn or timed out.
func (f *fakeState) acquire(election bool) fakeHandler {
	return func(r *http.Request) fakeAnswer {
		var req wire.CampaignRequest // a superset of AcquireRequest's fields but owner
		var areq wire.AcquireRequest
		if election {
			if a := decode(r, &req); a != nil {
				return *a
			}
		} else {
			if a := decode(r, &areq); a != nil {
				return *a
			}
			req = wire.CampaignRequest{LeaseID: areq.LeaseID, TTL: areq.TTL, Wait: areq.Wait}
		}
		if req.Wait.D() < 0 || req.Wait.D() > WaitMax {
			return fail(400, wire.CodeInvalidArgument, "wait is %v, max %v", req.Wait.D(), WaitMax)
		}
		name := r.PathValue("name")
		f.mu.Lock()
		w, a := f.tryAcquire(election, name, req, areq.Owner)
		f.mu.Unlock()
		if w == nil {
			return a
		}
		timer := time.NewTimer(req.Wait.D())
		defer timer.Stop()
		select {
		case <-w.done:
		case <-timer.C:
		case <-r.Context().Done():
		case <-f.quit:
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.endWait(election, name, w)
	}
}

// tryAcquire grants or refuses at once (nil waiter), or queues a waiter.
func (f *fakeState) tryAcquire(election bool, name string, req wire.CampaignRequest, owner string) (*fakeWaiter, fakeAnswer) {
	ns := f.ns(election)
	var lease *fakeLease
	if req.LeaseID != 0 {
		if lease = f.leases[req.LeaseID]; lease == nil {
			return nil, fail(404, wire.CodeNotFound, "lease %d not found", req.LeaseID)
		}
	}
	lk := ns[name]
	if lk != nil {
		if req.LeaseID != 0 && lk.holder.LeaseID == req.LeaseID {
			return nil, lockHeld(lk.holder, "%q is already held by lease %d with token %d", name, req.LeaseID, lk.holder.Token)
		}
		if req.Wait == 0 {
			return nil, lockHeld(lk.holder, "%q is held by lease %d", name, lk.holder.LeaseID)
		}
		for _, w := range lk.waiters {
			if req.LeaseID != 0 && w.lease == req.LeaseID {
				return nil, fail(400, wire.CodeInvalidArgument, "lease %d already waits for %q", req.LeaseID, name)
			}
		}
	}
	if lease == nil {
		var a *fakeAnswer
		if lease, a = f.newLease(req.TTL.D(), true); a != nil {
			return nil, *a
		}
	}
	if lk == nil {
		lk = &fakeLock{}
		ns[name] = lk
		f.grant(election, name, lk, lease.id, owner, req.Value)
		if election {
			f.notify()
		}
		return nil, f.granted(election, name, lk)
	}
	w := &fakeWaiter{lease: lease.id, owner: owner, value: req.Value, done: make(chan struct{})}
	lk.waiters = append(lk.waiters, w)
	return w, fakeAnswer{}
}

func (f *fakeState) granted(election bool, name string, lk *fakeLock) fakeAnswer {
	h := lk.holder
	if election {
		return ok(wire.Elected{Name: name, Value: lk.value, Term: h.Token, LeaseID: h.LeaseID})
	}
	return ok(wire.Acquired{Name: name, Token: h.Token, LeaseID: h.LeaseID, Owner: h.Owner})
}

// endWait answers a queued acquire: the grant if it won, else withdraws it.
func (f *fakeState) endWait(election bool, name string, w *fakeWaiter) fakeAnswer {
	ns := f.ns(election)
	lk := ns[name]
	if lk != nil && lk.holder.LeaseID == w.lease {
		return f.granted(election, name, lk)
	}
	if f.leases[w.lease] == nil {
		return fail(404, wire.CodeNotFound, "lease %d not found", w.lease)
	}
	if lk != nil {
		for i, q := range lk.waiters {
			if q == w {
				lk.waiters = append(lk.waiters[:i], lk.waiters[i+1:]...)
				break
			}
		}
	}
	if l := f.leases[w.lease]; l.single {
		f.dropLease(l.id)
	}
	if lk == nil {
		return fail(409, wire.CodeLockHeld, "%q was not granted in time", name)
	}
	return lockHeld(lk.holder, "%q is held by lease %d", name, lk.holder.LeaseID)
}

func (f *fakeState) release(r *http.Request) fakeAnswer {
	var req wire.ReleaseRequest
	if a := decode(r, &req); a != nil {
		return *a
	}
	name := r.PathValue("name")
	f.mu.Lock()
	defer f.mu.Unlock()
	lk := f.locks[name]
	if lk == nil || lk.holder.Token != req.Token {
		return fail(409, wire.CodeNotHolder, "lock %q is not held with token %d", name, req.Token)
	}
	f.releaseHeld(false, name, lk)
	return ok(wire.Released{Released: true})
}

// releaseHeld frees a held lock; a lease created for it alone goes with it.
func (f *fakeState) releaseHeld(election bool, name string, lk *fakeLock) {
	if l := f.leases[lk.holder.LeaseID]; l != nil && l.single {
		f.dropLease(l.id)
		return
	}
	f.free(election, name)
}

func (f *fakeState) info(ns map[string]*fakeLock, name string) wire.LockInfo {
	info := wire.LockInfo{Name: name, Index: f.index}
	if lk := ns[name]; lk != nil {
		h := *lk.holder
		info.Held, info.Holder, info.Waiters = true, &h, len(lk.waiters)
	}
	return info
}

func (f *fakeState) lockInfo(r *http.Request) fakeAnswer {
	f.mu.Lock()
	defer f.mu.Unlock()
	return ok(f.info(f.locks, r.PathValue("name")))
}

func (f *fakeState) list(r *http.Request) fakeAnswer {
	prefix := r.URL.Query().Get("prefix")
	f.mu.Lock()
	defer f.mu.Unlock()
	out := wire.LockList{Locks: []wire.LockInfo{}}
	for name := range f.locks {
		if strings.HasPrefix(name, prefix) {
			out.Locks = append(out.Locks, f.info(f.locks, name))
		}
	}
	return ok(out)
}

func (f *fakeState) fence(r *http.Request) fakeAnswer {
	name := r.PathValue("name")
	tok, err := strconv.ParseUint(r.URL.Query().Get("token"), 10, 64)
	if err != nil || tok == 0 {
		return fail(400, wire.CodeInvalidArgument, "token %q must be a positive integer", r.URL.Query().Get("token"))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if lk := f.locks[name]; lk != nil {
		if lk.holder.Token == tok {
			return ok(wire.Fence{Valid: true})
		}
		return fail(409, wire.CodeStaleToken, "lock %q is held with token %d, not %d", name, lk.holder.Token, tok)
	}
	if tok <= f.lastToken[name] {
		return fail(409, wire.CodeStaleToken, "lock %q is free and token %d is not above %d", name, tok, f.lastToken[name])
	}
	return ok(wire.Fence{Valid: true})
}

func (f *fakeState) proclaim(r *http.Request) fakeAnswer {
	var req wire.ProclaimRequest
	if a := decode(r, &req); a != nil {
		return *a
	}
	name := r.PathValue("name")
	f.mu.Lock()
	defer f.mu.Unlock()
	lk := f.elections[name]
	if lk == nil || lk.holder.Token != req.Term {
		return fail(409, wire.CodeNotLeader, "election %q is not led with term %d", name, req.Term)
	}
	lk.value = req.Value
	f.next()
	f.notify()
	return f.granted(true, name, lk)
}

func (f *fakeState) resign(r *http.Request) fakeAnswer {
	var req wire.ResignRequest
	if a := decode(r, &req); a != nil {
		return *a
	}
	name := r.PathValue("name")
	f.mu.Lock()
	defer f.mu.Unlock()
	lk := f.elections[name]
	if lk == nil || lk.holder.Token != req.Term {
		return fail(409, wire.CodeNotLeader, "election %q is not led with term %d", name, req.Term)
	}
	f.releaseHeld(true, name, lk)
	return ok(wire.Resigned{Resigned: true})
}

func (f *fakeState) election(name string) wire.ElectionInfo {
	info := wire.ElectionInfo{Name: name, Index: f.index}
	if lk := f.elections[name]; lk != nil {
		info.Leader = &wire.Leader{Value: lk.value, Term: lk.holder.Token, LeaseID: lk.holder.LeaseID}
	}
	return info
}

func (f *fakeState) electionInfo(r *http.Request) fakeAnswer {
	f.mu.Lock()
	defer f.mu.Unlock()
	return ok(f.election(r.PathValue("name")))
}

// observe streams the election: a keep-alive comment, the current state,
// then each change of its leader.
func (f *fakeState) observe(w http.ResponseWriter, r *http.Request) {
	fl, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": connected\n\n")
	name := r.PathValue("name")
	var last *wire.Leader
	first := true
	for {
		f.mu.Lock()
		info, changed := f.election(name), f.changed
		f.mu.Unlock()
		if first || !sameLeader(last, info.Leader) {
			b, err := json.Marshal(info)
			if err != nil {
				return
			}
			fmt.Fprintf(w, "data: %s\n\n", b)
			first, last = false, info.Leader
		}
		if fl != nil {
			fl.Flush()
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		case <-f.quit:
			return
		}
	}
}

func sameLeader(a, b *wire.Leader) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
