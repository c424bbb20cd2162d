// These tests prove the hardened client listener of issue 10 on a real
// one-node cluster over loopback: a slowloris client (holding a partial
// header, or dripping it a byte at a time) is disconnected by the
// read-header timeout while another client is served; a client opening
// thousands of event streams gets its cap and 429 with Retry-After for the
// rest, quickly (and for its blocking reads and waiting acquires too), while
// other clients (and its own requests that do not wait) are served and the
// node's goroutines stay bounded; a 100 MiB body
// gets 413 before the node reads it, without the heap growing by it, while
// another client is served; and the rate limit answers a burst, then 429
// with the Retry-After of the next token, and refills as a fake clock
// advances. Every wait has a deadline; nothing sleeps.
package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/server"
	"github.com/raftlock/raftlock/server/servertest"
)

// guardedNode is a one-node lock-table cluster started with lim, and the
// base URL of its client listener.
type guardedNode struct {
	node *server.Node
	url  string
}

// startGuarded starts a one-node cluster with lim and now (nil: the wall
// clock), waits until it leads and applied its first entry, and stops it
// when the test ends.
func startGuarded(t *testing.T, ctx context.Context, lim server.HTTPLimits, now func() time.Time) guardedNode {
	t.Helper()
	clientLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	peerLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	cfg := server.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.ClientAddr, cfg.PeerAddr = clientLn.Addr().String(), peerLn.Addr().String()
	cfg.HeartbeatInterval = servertest.DefaultHeartbeatInterval
	cfg.ElectionTimeout = servertest.DefaultElectionTimeout
	cfg.HTTPLimits = lim
	node, err := server.New(cfg, server.Options{
		Logger:         zaptest.NewLogger(t, zaptest.Level(zapcore.WarnLevel)),
		ClientListener: clientLn,
		PeerListener:   peerLn,
		Now:            now,
	})
	if err != nil {
		t.Fatalf("New() = %v; want a node", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// Exits when the cleanup below cancels runCtx.
	go func() { done <- node.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v; want nil", err)
		}
	})
	err = servertest.WaitUntil(ctx, func() bool {
		st := node.Status()
		return st.Role == consensus.RoleLeader && st.Commit > 0 && st.Applied >= st.Commit
	})
	if err != nil {
		t.Fatalf("node never led with its entries applied: %v", err)
	}
	return guardedNode{node: node, url: node.ClientURL()}
}

// getAnswer sends a GET with an optional Authorization header and returns the
// status, the Retry-After and the error code of the answer.
func getAnswer(ctx context.Context, hc *http.Client, url, auth string) (status int, retryAfter, code string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", "", err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", "", err
	}
	var e wire.Error
	if resp.StatusCode >= 400 {
		if err := json.Unmarshal(b, &e); err != nil {
			return 0, "", "", fmt.Errorf("error body %q: %w", b, err)
		}
	}
	return resp.StatusCode, resp.Header.Get(wire.HeaderRetryAfter), e.Error.Code, nil
}

// mustServe checks that another client is served normally.
func mustServe(t *testing.T, ctx context.Context, url, auth string) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	status, _, code, err := getAnswer(ctx, hc, url+server.PathLocks, auth)
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET %s by another client = %d %q, %v; want 200", server.PathLocks, status, code, err)
	}
}

func TestSlowlorisIsDisconnected(t *testing.T) {
	const timeout = 300 * time.Millisecond
	ctx := testContext(t)
	g := startGuarded(t, ctx, server.HTTPLimits{ReadHeaderTimeout: timeout}, nil)
	addr := strings.TrimPrefix(g.url, "http://")
	cases := []struct {
		name string
		// drip sends one more header byte at every tick until cut.
		drip bool
	}{
		{"holds a partial header", false},
		{"drips a header byte by byte", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			const conns = 20
			start := time.Now()
			var wg sync.WaitGroup
			cut := make(chan error, conns)
			for range conns {
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				t.Cleanup(func() { conn.Close() })
				if _, err := io.WriteString(conn, "GET /v1/locks HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
					t.Fatalf("write partial header: %v", err)
				}
				stop := make(chan struct{})
				wg.Add(1)
				// Exits when the server cuts the connection (its read
				// fails), or at the test's deadline.
				go func() {
					defer wg.Done()
					defer close(stop)
					if err := conn.SetReadDeadline(time.Now().Add(testTimeout)); err != nil {
						cut <- err
						return
					}
					_, err := conn.Read(make([]byte, 1))
					cut <- err
				}()
				if tc.drip {
					wg.Add(1)
					// Exits once the reader above saw the connection cut.
					go func() {
						defer wg.Done()
						tick := time.NewTicker(timeout / 10)
						defer tick.Stop()
						for {
							select {
							case <-stop:
								return
							case <-tick.C:
								if _, err := conn.Write([]byte("a")); err != nil {
									return
								}
							}
						}
					}()
				}
			}
			// While the slow clients hold their connections, another is served.
			mustServe(t, ctx, g.url, "")
			for range conns {
				if err := <-cut; errors.Is(err, os.ErrDeadlineExceeded) || err == nil {
					t.Fatalf("Read() of a slowloris connection = %v; want it closed by the server", err)
				}
			}
			wg.Wait()
			// Cut by the configured timeout, not the default one.
			if elapsed := time.Since(start); elapsed < timeout || elapsed >= server.ReadHeaderTimeout/2 {
				t.Errorf("slowloris cut after %v; want within [%v, %v)", elapsed, timeout, server.ReadHeaderTimeout/2)
			}
			mustServe(t, ctx, g.url, "")
		})
	}
}

func TestEventStreamFloodIsCapped(t *testing.T) {
	attempts := 2_000
	if os.Getenv("RAFTLOCK_LONG") != "" {
		attempts = 10_000
	}
	ctx := testContext(t)
	g := startGuarded(t, ctx, server.HTTPLimits{}, nil)
	goroutinesBefore := runtime.NumGoroutine()
	observe := g.url + "/v1/elections/flood/observe"
	const flooder = "Bearer flooder"
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	hc := &http.Client{Transport: tr}
	t.Cleanup(tr.CloseIdleConnections)

	var (
		mu       sync.Mutex
		open     []*http.Response
		refused  int
		slowest  time.Duration
		failures []string
	)
	t.Cleanup(func() {
		for _, r := range open {
			r.Body.Close()
		}
	})
	next := make(chan struct{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		// Exits when next is closed and drained.
		go func() {
			defer wg.Done()
			for range next {
				resp, took, err := openStream(ctx, hc, observe, flooder)
				mu.Lock()
				switch {
				case err != nil:
					failures = append(failures, err.Error())
				case resp.StatusCode == http.StatusOK:
					open = append(open, resp)
				default:
					refused++
					slowest = max(slowest, took)
				}
				mu.Unlock()
			}
		}()
	}
	for range attempts {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d stream requests failed, first: %s", len(failures), failures[0])
	}
	if len(open) != server.WaitsPerClientMax || refused != attempts-server.WaitsPerClientMax {
		t.Fatalf("%d stream requests = %d open, %d refused; want %d open (the cap), the rest refused", attempts, len(open), refused, server.WaitsPerClientMax)
	}
	// A refusal is quick: it never waits for a slot.
	if slowest > 5*time.Second {
		t.Errorf("slowest 429 took %v; want an answer at once", slowest)
	}
	// The node's goroutines grew with the open streams only (about two on
	// each side of each connection in this process), not the attempts.
	if got, bound := runtime.NumGoroutine(), goroutinesBefore+6*server.WaitsPerClientMax+200; got > bound {
		t.Errorf("goroutines = %d with %d streams open; want at most %d", got, len(open), bound)
	}
	// The cap counts blocking reads and acquires that wait too; the
	// flooder's requests that do not wait, and other clients' streams and
	// requests, are served.
	capped := []struct {
		name, method, path, body string
		status                   int
	}{
		{"blocking read", "GET", "/v1/locks/flood?index=999&wait=1s", "", http.StatusTooManyRequests},
		{"acquire with a wait", "POST", "/v1/locks/flood/acquire", `{"ttl":"5s","wait":"1s"}`, http.StatusTooManyRequests},
		{"campaign with a wait", "POST", "/v1/elections/flood/campaign", `{"ttl":"5s","value":"v","wait":"1s"}`, http.StatusTooManyRequests},
		{"acquire without a wait", "POST", "/v1/locks/flood/acquire", `{"ttl":"5s"}`, http.StatusOK},
		{"read without a wait", "GET", "/v1/locks/flood", "", http.StatusOK},
	}
	for _, tc := range capped {
		req, err := http.NewRequestWithContext(ctx, tc.method, g.url+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatalf("NewRequest: %v", err)
		}
		req.Header.Set("Authorization", flooder)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s of the flooder: %v", tc.name, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tc.status {
			t.Errorf("%s of the flooder: %s %s = %d %s, %v; want %d", tc.name, tc.method, tc.path, resp.StatusCode, b, err, tc.status)
		}
	}
	mustServe(t, ctx, g.url, flooder)
	mustServe(t, ctx, g.url, "")
	mustServe(t, ctx, g.url, "Bearer other")
	other, _, err := openStream(ctx, hc, observe, "")
	if err != nil || other.StatusCode != http.StatusOK {
		t.Fatalf("another client's stream = %v, %v; want 200", other, err)
	}
	other.Body.Close()
	// Closed streams give their slots back.
	for _, r := range open {
		r.Body.Close()
	}
	open = nil
	err = servertest.WaitUntil(ctx, func() bool {
		resp, _, err := openStream(ctx, hc, observe, flooder)
		if err != nil || resp.StatusCode != http.StatusOK {
			return false
		}
		resp.Body.Close()
		return true
	})
	if err != nil {
		t.Fatalf("the flooder never got a stream back after closing its streams: %v", err)
	}
}

// openStream opens an event stream. A 200 is returned open, after its first
// event arrived; any other answer is checked to be a 429 with Retry-After
// and too_many_requests, and closed.
func openStream(ctx context.Context, hc *http.Client, url, auth string) (*http.Response, time.Duration, error) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode == http.StatusOK {
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "data: ") {
			resp.Body.Close()
			return nil, 0, fmt.Errorf("first line of the stream %q, %v; want an event", line, err)
		}
		return resp, time.Since(start), nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, err
	}
	var e wire.Error
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, 0, fmt.Errorf("error body %q: %w", b, err)
	}
	want := fmt.Sprintf("max %d", server.WaitsPerClientMax)
	if resp.StatusCode != http.StatusTooManyRequests || e.Error.Code != wire.CodeTooManyRequests ||
		resp.Header.Get(wire.HeaderRetryAfter) == "" || !strings.Contains(e.Error.Message, want) {
		return nil, 0, fmt.Errorf("stream refused with %d %s (Retry-After %q); want 429 too_many_requests with Retry-After and %q",
			resp.StatusCode, b, resp.Header.Get(wire.HeaderRetryAfter), want)
	}
	return resp, time.Since(start), nil
}

// zeros is an endless reader of zero bytes that allocates nothing.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestHugeBodyIsRefused(t *testing.T) {
	const huge = 100 << 20
	ctx := testContext(t)
	g := startGuarded(t, ctx, server.HTTPLimits{}, nil)
	addr := strings.TrimPrefix(g.url, "http://")
	cases := []struct {
		name   string
		header string
		// chunk frames one write of body bytes.
		chunk func(b []byte) []byte
	}{
		{"declared length", fmt.Sprintf("Content-Length: %d\r\n", huge), func(b []byte) []byte { return b }},
		{"chunked", "Transfer-Encoding: chunked\r\n", func(b []byte) []byte {
			return append(append([]byte(fmt.Sprintf("%x\r\n", len(b))), b...), "\r\n"...)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.Close()
			if err := conn.SetDeadline(time.Now().Add(testTimeout)); err != nil {
				t.Fatalf("set deadline: %v", err)
			}
			head := "POST " + server.PathLeases + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + tc.header + "\r\n"
			if _, err := io.WriteString(conn, head); err != nil {
				t.Fatalf("write header: %v", err)
			}
			var sent atomic.Int64
			writerDone := make(chan struct{})
			// Exits when a write fails: the server closed the connection,
			// or the whole body went out (a failure below).
			go func() {
				defer close(writerDone)
				chunk := tc.chunk(make([]byte, 64<<10))
				body := io.LimitReader(zeros{}, huge)
				buf := make([]byte, 64<<10)
				for {
					n, err := body.Read(buf)
					if n == 0 || err != nil {
						return
					}
					if _, err := conn.Write(chunk); err != nil {
						return
					}
					sent.Add(int64(n))
				}
			}()
			// While the upload is under way, another client is served.
			mustServe(t, ctx, g.url, "")
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("read answer to a %d-byte body: %v", huge, err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("read answer body: %v", err)
			}
			var e wire.Error
			if resp.StatusCode != http.StatusRequestEntityTooLarge || json.Unmarshal(b, &e) != nil || e.Error.Code != wire.CodeTooLarge {
				t.Fatalf("POST %s with %d bytes = %d %s; want 413 too_large", server.PathLeases, huge, resp.StatusCode, b)
			}
			<-writerDone
			if got := sent.Load(); got >= huge {
				t.Errorf("client sent the whole %d-byte body; want the connection closed before", got)
			}
			var after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&after)
			const bound = 32 << 20
			if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > bound {
				t.Errorf("heap grew by %d bytes after a %d-byte body; want at most %d", grew, huge, bound)
			}
			// All allocation during the upload, freed or not: the body was
			// never held in memory, not even briefly.
			if allocated := after.TotalAlloc - before.TotalAlloc; allocated > bound {
				t.Errorf("%d bytes allocated during a %d-byte upload; want at most %d", allocated, huge, bound)
			}
			mustServe(t, ctx, g.url, "")
		})
	}
}

// fakeClock is a clock the test steps.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestRateLimit(t *testing.T) {
	type step struct {
		advance time.Duration // before the requests
		auth    string
		path    string
		allowed int // this many get an answer other than 429
		// retryAfter is the Retry-After of the 429 that follows them.
		retryAfter string
	}
	cases := []struct {
		name  string
		lim   server.HTTPLimits
		steps []step
	}{
		{"burst then refills", server.HTTPLimits{RateLimit: 2, RateBurst: 3}, []step{
			{0, "", server.PathLocks, 3, "1"},
			{0, "Bearer other", server.PathLocks, 3, "1"}, // another client has its own bucket
			{500 * time.Millisecond, "", server.PathLocks, 1, "1"},
			{time.Hour, "", server.PathLocks, 3, "1"}, // refilled up to the burst only
		}},
		{"slow rate says when", server.HTTPLimits{RateLimit: 0.25}, []step{
			{0, "", server.PathLocks, 1, "4"},
			{3 * time.Second, "", server.PathLocks, 0, "1"},
			{time.Second, "", server.PathLocks, 1, "4"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
			g := startGuarded(t, ctx, tc.lim, clock.Now)
			hc := &http.Client{Transport: &http.Transport{}}
			t.Cleanup(hc.CloseIdleConnections)
			// Health checks of a load balancer are never limited.
			for range 10 {
				if status, _, code, err := getAnswer(ctx, hc, g.url+server.PathLivez, ""); err != nil || status != http.StatusOK {
					t.Fatalf("GET %s = %d %q, %v; want 200", server.PathLivez, status, code, err)
				}
			}
			for i, s := range tc.steps {
				clock.Advance(s.advance)
				for j := range s.allowed {
					if status, _, code, err := getAnswer(ctx, hc, g.url+s.path, s.auth); err != nil || status != http.StatusOK {
						t.Fatalf("step %d: request %d = %d %q, %v; want 200", i, j, status, code, err)
					}
				}
				status, retry, code, err := getAnswer(ctx, hc, g.url+s.path, s.auth)
				if err != nil || status != http.StatusTooManyRequests || code != wire.CodeTooManyRequests || retry != s.retryAfter {
					t.Fatalf("step %d: request %d = %d %q Retry-After %q, %v; want 429 %s Retry-After %q",
						i, s.allowed, status, code, retry, err, wire.CodeTooManyRequests, s.retryAfter)
				}
			}
		})
	}
	t.Run("off by default", func(t *testing.T) {
		ctx := testContext(t)
		g := startGuarded(t, ctx, server.HTTPLimits{}, nil)
		hc := &http.Client{Transport: &http.Transport{}}
		t.Cleanup(hc.CloseIdleConnections)
		for i := range 200 {
			if status, _, code, err := getAnswer(ctx, hc, g.url+server.PathLocks, ""); err != nil || status != http.StatusOK {
				t.Fatalf("request %d without a rate limit = %d %q, %v; want 200", i, status, code, err)
			}
		}
	})
}
