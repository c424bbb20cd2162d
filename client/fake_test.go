// This file is the in-test fake of the raftlock HTTP API the SDK tests run
// against: the routes, bodies, codes and headers of DESIGN.md §5 over a small
// in-memory lock table with real-time lease expiry, FIFO waiters, fencing
// tokens from one increasing index, Idempotency-Key dedup and election
// observers. Several fakeNode endpoints can share one table; a node may name
// a leader in X-Raftlock-Leader and carries a fault hook for tests.
package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

// fakeTTLMin is the shortest ttl the fake accepts. The real server's is 1s;
// the fake goes lower so session-loss tests run in a fraction of a second.
const fakeTTLMin = 50 * time.Millisecond

// fakeState is the lock table every fakeNode of one fake cluster shares.
type fakeState struct {
	mu        sync.Mutex
	closed    bool
	index     uint64
	leases    map[uint64]*fakeLease
	locks     map[string]*fakeLock
	elections map[string]*fakeLock
	// lastToken is the newest token ever granted per lock, for Fence.
	lastToken map[string]uint64
	dedup     map[string]*fakeDedup
	// changed is closed and replaced whenever an election changes.
	changed chan struct{}
	quit    chan struct{}
}

type fakeLease struct {
	id       uint64
	ttl      time.Duration
	deadline time.Time
	timer    *time.Timer
	// single: created by an acquire for one lock alone; freed with it.
	single bool
}

type fakeLock struct {
	holder  *wire.Holder
	value   string
	waiters []*fakeWaiter
}

type fakeWaiter struct {
	lease        uint64
	owner, value string
	// done closes when the waiter is granted or withdrawn.
	done chan struct{}
}

type fakeDedup struct {
	fingerprint string
	done        chan struct{}
	status      int
	body        []byte
}

func newFakeState() *fakeState {
	return &fakeState{
		leases: map[uint64]*fakeLease{}, locks: map[string]*fakeLock{}, elections: map[string]*fakeLock{},
		lastToken: map[string]uint64{}, dedup: map[string]*fakeDedup{},
		changed: make(chan struct{}), quit: make(chan struct{}),
	}
}

// close stops every lease timer and ends event streams.
func (f *fakeState) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.closed = true
	for _, l := range f.leases {
		l.timer.Stop()
	}
	close(f.quit)
}

// fakeAnswer is what a handler answers: a status and a JSON body.
type fakeAnswer struct {
	status int
	body   any
}

func ok(body any) fakeAnswer { return fakeAnswer{http.StatusOK, body} }

func fail(status int, code, format string, args ...any) fakeAnswer {
	return fakeAnswer{status, wire.Error{Error: wire.ErrorDetail{Code: code, Message: fmt.Sprintf(format, args...)}}}
}

func lockHeld(h *wire.Holder, format string, args ...any) fakeAnswer {
	a := fail(http.StatusConflict, wire.CodeLockHeld, format, args...)
	e := a.body.(wire.Error)
	hc := *h
	e.Error.Holder = &hc
	a.body = e
	return a
}

// next returns the next index; the caller holds f.mu.
func (f *fakeState) next() uint64 {
	f.index++
	return f.index
}

func (f *fakeState) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeState) newLease(ttl time.Duration, single bool) (*fakeLease, *fakeAnswer) {
	if ttl == 0 {
		ttl = TTLDefault
	}
	if ttl < fakeTTLMin || ttl > time.Hour {
		a := fail(http.StatusBadRequest, wire.CodeInvalidArgument, "ttl is %v, min %v, max %v", ttl, fakeTTLMin, time.Hour)
		return nil, &a
	}
	l := &fakeLease{id: f.next(), ttl: ttl, deadline: time.Now().Add(ttl), single: single}
	f.leases[l.id] = l
	id := l.id
	// The timer's goroutine exits after one expiry check.
	l.timer = time.AfterFunc(ttl, func() { f.expire(id) })
	return l, nil
}

// expire drops lease id once its deadline has passed, else re-arms.
func (f *fakeState) expire(id uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.leases[id]
	if f.closed || l == nil {
		return
	}
	if left := time.Until(l.deadline); left > 0 {
		l.timer.Reset(left)
		return
	}
	f.dropLease(id)
}

// dropLease ends lease id: its waits are withdrawn, then its locks and
// elections freed and handed to their next live waiter.
func (f *fakeState) dropLease(id uint64) {
	l := f.leases[id]
	delete(f.leases, id)
	l.timer.Stop()
	for _, election := range []bool{false, true} {
		ns := f.ns(election)
		for _, lk := range ns {
			kept := lk.waiters[:0]
			for _, w := range lk.waiters {
				if w.lease == id {
					close(w.done)
					continue
				}
				kept = append(kept, w)
			}
			lk.waiters = kept
		}
		for name, lk := range ns {
			if lk.holder != nil && lk.holder.LeaseID == id {
				f.free(election, name)
			}
		}
	}
}

// free hands lock name to its first waiter whose lease is alive, or deletes it.
func (f *fakeState) free(election bool, name string) {
	ns := f.ns(election)
	lk := ns[name]
	lk.holder = nil
	for len(lk.waiters) > 0 {
		w := lk.waiters[0]
		lk.waiters = lk.waiters[1:]
		if f.leases[w.lease] == nil {
			continue // dropLease already withdrew and woke it
		}
		f.grant(election, name, lk, w.lease, w.owner, w.value)
		close(w.done)
		break
	}
	if lk.holder == nil {
		delete(ns, name)
	}
	if election {
		f.notify()
	}
}

func (f *fakeState) grant(election bool, name string, lk *fakeLock, lease uint64, owner, value string) {
	tok := f.next()
	lk.holder = &wire.Holder{LeaseID: lease, Owner: owner, Token: tok, AcquiredAt: time.Now().UTC()}
	lk.value = value
	if !election {
		f.lastToken[name] = tok
	}
}

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
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
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
