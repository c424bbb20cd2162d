package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/raftlock/raftlock/client/wire"
)

// answer is one HTTP response of a node.
type answer struct {
	status int
	body   []byte
	// code is the error code of a non-2xx answer ("" on success).
	code   string
	holder *wire.Holder
}

// ok reports a 2xx answer.
func (a answer) ok() bool { return a.status >= 200 && a.status < 300 }

// definite reports whether the answer settles the request: anything but
// no_leader and timeout, after which the request may still take effect and
// is retried under the same request id.
func (a answer) definite() bool {
	return a.code != wire.CodeNoLeader && a.code != wire.CodeTimeout && a.code != wire.CodeTooManyRequests
}

// decode unmarshals a successful answer's body into v.
func (a answer) decode(v any) error {
	if err := json.Unmarshal(a.body, v); err != nil {
		return fmt.Errorf("decode %d answer %.200q: %w", a.status, a.body, err)
	}
	return nil
}

// api sends raw HTTP requests to the nodes' client listeners.
type api struct {
	hc *http.Client
}

func newAPI() *api {
	tr := &http.Transport{
		MaxIdleConnsPerHost: IdleConnsPerHost,
		IdleConnTimeout:     IdleConnTimeout,
	}
	return &api{hc: &http.Client{Transport: tr}}
}

// close drops the idle connections.
func (a *api) close() { a.hc.CloseIdleConnections() }

// do sends one request and reads the whole answer; the error is a failure to
// get an answer at all (refused, reset, ctx ended).
func (a *api) do(ctx context.Context, method, url string, body any, key string) (answer, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		assertf(err == nil, "marshal %T: %v", body, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set(wire.HeaderIdempotencyKey, key)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, ResponseBytesMax))
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: read answer: %w", method, url, err)
	}
	ans := answer{status: resp.StatusCode, body: b}
	if !ans.ok() {
		var e wire.Error
		if json.Unmarshal(b, &e) != nil || e.Error.Code == "" {
			// Not an API error (a proxy, a crash mid-answer): unknown.
			ans.code = wire.CodeInternal
			return ans, nil
		}
		ans.code, ans.holder = e.Error.Code, e.Error.Holder
	}
	return ans, nil
}

// status fetches a node's GET /v1/cluster within StatusTimeout.
func (a *api) status(ctx context.Context, nd *node) (wire.Cluster, bool) {
	ctx, cancel := context.WithTimeout(ctx, StatusTimeout)
	defer cancel()
	var cs wire.Cluster
	ans, err := a.do(ctx, http.MethodGet, nd.clientURL()+"/v1/cluster", nil, "")
	if err != nil || !ans.ok() || ans.decode(&cs) != nil {
		return cs, false
	}
	return cs, true
}
