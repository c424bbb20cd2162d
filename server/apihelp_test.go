package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raftlock/raftlock/server/servertest"
)

// answer is one HTTP answer of the API as a test sees it.
type answer struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// code is the error code of an error answer, "" for a success.
func (a answer) code() string {
	e, _ := a.Body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// num returns the JSON number at key as uint64.
func (a answer) num(key string) uint64 {
	v, _ := a.Body[key].(float64)
	return uint64(v)
}

// apiClient sends requests with a fixed timeout over one http.Client.
type apiClient struct {
	t  testing.TB
	hc *http.Client
}

func newAPIClient(t testing.TB) *apiClient {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &apiClient{t: t, hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// do sends method url with body (a string sent as is, or a value encoded as
// JSON, or nil) and headers (name, value pairs), and decodes the answer.
func (ac *apiClient) do(ctx context.Context, method, url string, body any, headers ...string) (answer, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return answer{}, err
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return answer{}, err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := ac.hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &a.Body); err != nil {
			ac.t.Errorf("%s %s: body %q is not a JSON object: %v", method, url, raw, err)
		}
	}
	return a, nil
}

// must is do that fails the test on a transport error.
func (ac *apiClient) must(ctx context.Context, method, url string, body any, headers ...string) answer {
	ac.t.Helper()
	a, err := ac.do(ctx, method, url, body, headers...)
	if err != nil {
		ac.t.Fatalf("%s %s: %v", method, url, err)
	}
	return a
}

// startLocks starts a 3-node lock-table cluster and waits for its leader.
func startLocks(t *testing.T, ctx context.Context, n int) (*servertest.Cluster, int) {
	t.Helper()
	c := servertest.Start(t, n, servertest.Options{Locks: true})
	leader := waitLeader(t, ctx, c)
	// The lease clock starts once the leader applied an entry of its term;
	// a keepalive before that answers no_leader. Wait for readiness.
	if err := servertest.WaitUntil(ctx, func() bool { return c.Node(leader).Status().Applied >= c.Node(leader).Status().Commit }); err != nil {
		t.Fatalf("leader never applied its commit: %v", err)
	}
	return c, leader
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }
