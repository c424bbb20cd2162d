// Package client is raftlock's Go SDK: a Client for the HTTP API (DESIGN.md
// §5), and on top of it Session (a lease kept alive), Mutex (a lock with a
// fencing token) and Election (leader election with observers).
//
// The Client fails over between endpoints, prefers the leader once a node
// names it in X-Raftlock-Leader, honours Retry-After, and retries no_leader,
// 502, 504 and connection failures with capped exponential backoff and
// jitter, never a 4xx answer. Every mutating request carries an
// Idempotency-Key, the same on every retry of one call, so a retry is never
// a second grant. Errors are *Error values matched with errors.Is against
// the sentinels (ErrLockHeld, ErrNotHolder, ...).
//
// A Session's Done closes before the server could have expired its lease:
// treat it as "stop acting as the holder now". Guard the resource itself
// with the fencing token: pass Mutex.Token along with each write and have
// the resource check it (Client.Fence, or a stored highest token).
//
//	c, err := client.New(client.Config{Endpoints: []string{"http://127.0.0.1:7070"}})
//	if err != nil { ... }
//	defer c.Close()
//	s, err := client.NewSession(ctx, c, client.WithTTL(10*time.Second))
//	if err != nil { ... }
//	defer s.Close()
//	m := client.NewMutex(s, "jobs/nightly")
//	token, err := m.Lock(ctx)
//	if err != nil { ... }
//	defer m.Unlock(ctx)
//	runJob(ctx, token) // stop when s.Done() closes
//
// # What it must never do
//
// It imports only client/wire, the standard library and zap; it never
// panics, never uses http.DefaultClient or other package-level state, and
// never retries a request without the same Idempotency-Key.
package client
