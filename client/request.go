package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/raftlock/raftlock/client/wire"
)

// request is one API call, sent up to AttemptsMax times.
type request struct {
	method string
	// path is already escaped (see pathOf).
	path  string
	query url.Values
	// body is JSON-encoded once; nil sends no body.
	body any
	// mutating requests carry an Idempotency-Key, the same on every attempt.
	mutating bool
	// wait is how long the server may hold the request before answering; it
	// extends the attempt's deadline.
	wait time.Duration
	// stream requests have no deadline once the headers are in.
	stream bool
}

// pathOf builds an API path, escaping each name so a lock called "a/b"
// travels as one segment ("a%2Fb").
func pathOf(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 0 {
			b.WriteString(p)
		} else {
			b.WriteString(url.PathEscape(p))
		}
	}
	return b.String()
}

// call sends rq and decodes a 2xx body into out (if non-nil).
func (c *Client) call(ctx context.Context, rq *request, out any) error {
	resp, done, err := c.send(ctx, rq)
	if err != nil {
		return err
	}
	defer done()
	if out == nil {
		return nil
	}
	b, err := readLimited(resp.Body)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", rq.method, rq.path, err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("client: %s %s: decode %d-byte answer: %w", rq.method, rq.path, len(b), err)
	}
	return nil
}

// send runs the attempts of rq and returns the first 2xx response with its
// body open; done closes it and releases the attempt. Retries go to the next
// endpoint after a backoff; non-retryable answers return at once.
func (c *Client) send(ctx context.Context, rq *request) (*http.Response, func(), error) {
	var body []byte
	if rq.body != nil {
		var err error
		if body, err = json.Marshal(rq.body); err != nil {
			return nil, nil, fmt.Errorf("client: %s %s: encode body: %w", rq.method, rq.path, err)
		}
	}
	var key string
	if rq.mutating {
		key = newRequestID()
	}
	var last error
	// unavailable counts the answers in a row that were no_leader: while
	// other endpoints may not have said so yet, the next attempt goes to
	// one of them at once; the server's Retry-After applies once every
	// endpoint was tried (a node that drains for a restart, or that lost
	// its leader, should not make the caller wait a whole second).
	unavailable := 0
	for n := 0; n < AttemptsMax; n++ {
		if n > 0 {
			d := c.retry.delay(n, last, unavailable < c.endpointCount())
			c.log.Debug("retry", zap.String("method", rq.method), zap.String("path", rq.path),
				zap.Int("attempt", n+1), zap.Duration("delay", d), zap.String("request_id", key), zap.Error(last))
			if err := sleepCtx(ctx, d); err != nil {
				return nil, nil, fmt.Errorf("client: %s %s: %w after %d attempts: %w", rq.method, rq.path, err, n, last)
			}
		}
		ep := c.pick()
		resp, done, err := c.attempt(ctx, ep, rq, body, key)
		if err == nil {
			return resp, done, nil
		}
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("client: %s %s: %w: %w", rq.method, rq.path, ctx.Err(), err)
		}
		if !retryable(err) {
			return nil, nil, err
		}
		c.failed(ep)
		last = err
		if e := (*Error)(nil); errors.As(err, &e) && e.Status == http.StatusServiceUnavailable {
			unavailable++
		} else {
			unavailable = 0
		}
	}
	return nil, nil, fmt.Errorf("client: %s %s: gave up after %d attempts: %w", rq.method, rq.path, AttemptsMax, last)
}

// retryable: a failed connection or attempt deadline, or a 502/503/504.
// A certificate the TLS config rejects fails the same way on every node.
func retryable(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.retryable()
	}
	var cert *tls.CertificateVerificationError
	return !errors.As(err, &cert)
}

// attempt sends rq once to ep.
func (c *Client) attempt(ctx context.Context, ep string, rq *request, body []byte, key string) (*http.Response, func(), error) {
	actx, cancel := c.attemptContext(ctx, rq)
	u := ep + rq.path
	if len(rq.query) > 0 {
		u += "?" + rq.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hreq, err := http.NewRequestWithContext(actx, rq.method, u, rd)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("client: %s %s: %v: %w", rq.method, u, err, ErrInvalidArgument)
	}
	if body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	if rq.stream {
		hreq.Header.Set("Accept", "text/event-stream")
	} else {
		hreq.Header.Set("Accept", "application/json")
	}
	if key != "" {
		hreq.Header.Set(wire.HeaderIdempotencyKey, key)
	}
	var headerTimer *time.Timer
	if rq.stream {
		headerTimer = time.AfterFunc(c.timeout, cancel)
	}
	resp, err := c.hc.Do(hreq)
	if headerTimer != nil {
		headerTimer.Stop()
	}
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("client: %s %s: %w", rq.method, u, err)
	}
	c.learnLeader(resp.Header.Get(wire.HeaderLeader))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, func() { closeBody(resp); cancel() }, nil
	}
	e := decodeError(resp)
	closeBody(resp)
	cancel()
	return nil, nil, e
}

// attemptContext bounds one attempt: Timeout plus the request's wait. A
// stream is bounded by Timeout only until its headers arrive (see attempt).
func (c *Client) attemptContext(ctx context.Context, rq *request) (context.Context, context.CancelFunc) {
	if !rq.stream {
		return context.WithTimeout(ctx, c.timeout+rq.wait)
	}
	return context.WithCancel(ctx)
}

// closeBody drains a little of the body so the connection can be reused, and closes it.
func closeBody(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, DrainBytesMax) // best effort: only helps reuse
	_ = resp.Body.Close()                                 // a read-side close reports nothing useful
}

// readLimited reads a body of at most ResponseBytesMax.
func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, ResponseBytesMax+1))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if len(b) > ResponseBytesMax {
		return nil, fmt.Errorf("answer is over %d bytes, max %d: %w", len(b)-1, ResponseBytesMax, ErrTooLarge)
	}
	return b, nil
}

// decodeError turns a non-2xx answer into an *Error.
func decodeError(resp *http.Response) *Error {
	e := &Error{Status: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get(wire.HeaderRetryAfter), time.Now())}
	b, err := io.ReadAll(io.LimitReader(resp.Body, ResponseBytesMax))
	if err != nil {
		e.Code = codeForStatus(resp.StatusCode)
		e.Message = fmt.Sprintf("read error answer: %v", err)
		return e
	}
	var w wire.Error
	if json.Unmarshal(b, &w) == nil && w.Error.Code != "" {
		e.Code, e.Message, e.Holder = w.Error.Code, w.Error.Message, w.Error.Holder
		return e
	}
	e.Code = codeForStatus(resp.StatusCode)
	msg := strings.TrimSpace(string(b))
	if len(msg) > ErrorMessageBytesMax {
		msg = msg[:ErrorMessageBytesMax]
	}
	e.Message = msg
	return e
}
