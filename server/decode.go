package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/locks"
)

// invalidArgf returns an ErrInvalidArgument with a message carrying the values.
func invalidArgf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidArgument}, args...)...)
}

// notFoundf returns an ErrNotFound with a message carrying the values.
func notFoundf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{locks.ErrNotFound}, args...)...)
}

// errNoLeaseClock: the node leads but has not yet reset its lease clock for
// this term (it does so once its first entry of the term is applied).
var errNoLeaseClock = fmt.Errorf("%w: lease clock of the new leader is not running yet", ErrNotReady)

// limitBody refuses a request whose declared body is over BodyBytesMax and
// caps the reading of the others, so neither a handler nor the forwarder
// ever reads more.
func limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > BodyBytesMax {
			return fmt.Errorf("%w: body is %d bytes, max %d", ErrTooLarge, r.ContentLength, BodyBytesMax)
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(c.Response(), r.Body, BodyBytesMax)
		}
		return next(c)
	}
}

// readBody reads the request body (capped by limitBody).
func readBody(c echo.Context) ([]byte, error) {
	body := c.Request().Body
	if body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, fmt.Errorf("%w: body is over %d bytes, max %d", ErrTooLarge, mbe.Limit, BodyBytesMax)
	}
	if err != nil {
		return nil, invalidArgf("read body: %v", err)
	}
	return b, nil
}

// decodeJSON decodes one JSON object into v, refusing unknown fields and
// trailing data. An empty body is the empty object: every field optional.
func decodeJSON(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if len(b) > BodyBytesMax {
		return fmt.Errorf("%w: body is %d bytes, max %d", ErrTooLarge, len(b), BodyBytesMax)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalidArgf("body: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalidArgf("body: data after the JSON object")
	}
	return nil
}

// bindJSON reads and decodes the body into v.
func bindJSON(c echo.Context, v any) error {
	b, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeJSON(b, v)
}

// requestID returns the Idempotency-Key of the request, "" when absent. It
// must be 1..IdempotencyKeyBytesMax printable ASCII bytes without spaces.
func requestID(c echo.Context) (string, error) {
	key := c.Request().Header.Get(wire.HeaderIdempotencyKey)
	return key, validateRequestID(key)
}

func validateRequestID(key string) error {
	if n := len(key); n > IdempotencyKeyBytesMax {
		return invalidArgf("%s is %d bytes, max %d", wire.HeaderIdempotencyKey, n, IdempotencyKeyBytesMax)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < '!' || key[i] > '~' {
			return invalidArgf("%s has byte %q at %d; allowed are printable ASCII without spaces", wire.HeaderIdempotencyKey, key[i], i)
		}
	}
	return nil
}

// followUpID derives the request id of a command a request proposes after
// its first (cancel of its wait, release of its grant), so a retry of the
// request on any node repeats none of them. "" stays "".
func followUpID(key, what string) string {
	if key == "" {
		return ""
	}
	return key + "#" + what
}

// nameParam returns the lock or election name of the path, unescaped (a
// name with '/' travels as %2F) and validated.
func nameParam(c echo.Context) (string, error) {
	raw := c.Param("name")
	name, err := url.PathUnescape(raw)
	if err != nil {
		return "", invalidArgf("name %q: %v", raw, err)
	}
	if err := locks.ValidateName(name); err != nil {
		return "", err
	}
	return name, nil
}

// leaseParam returns the lease id of the path.
func leaseParam(c echo.Context) (locks.LeaseID, error) {
	raw := c.Param("id")
	id, err := strconv.ParseUint(raw, 10, 64)
	if err != nil || id == 0 {
		return 0, invalidArgf("lease id %q is not a number in [1, 2^64)", raw)
	}
	return locks.LeaseID(id), nil
}

// validateWait checks a wait duration: in [0, WaitMax].
func validateWait(what string, d time.Duration) error {
	if d < 0 {
		return invalidArgf("%s is %s, min 0s", what, d)
	}
	if d > WaitMax {
		return invalidArgf("%s is %s, max %s", what, d, WaitMax)
	}
	return nil
}

// blockingQuery is the ?index=&wait= of a blocking GET.
type blockingQuery struct {
	// block: an index was given; the read waits for a newer one.
	block bool
	index uint64
	wait  time.Duration
	stale bool
}

// parseReadQuery parses index, wait and stale. A read blocks when index is
// given (0 included: an absent object has index 0), for wait or, without
// one, BlockWaitDefault; wait without index does not block.
func parseReadQuery(c echo.Context) (blockingQuery, error) {
	var q blockingQuery
	var err error
	if s := c.QueryParam("index"); s != "" {
		if q.index, err = strconv.ParseUint(s, 10, 64); err != nil {
			return q, invalidArgf("index %q is not a number", s)
		}
		q.block, q.wait = true, BlockWaitDefault
	}
	if s := c.QueryParam("wait"); s != "" {
		if q.wait, err = time.ParseDuration(s); err != nil {
			return q, invalidArgf("wait %q is not a duration like \"30s\"", s)
		}
		if err := validateWait("wait", q.wait); err != nil {
			return q, err
		}
	}
	q.stale, err = staleParam(c)
	return q, err
}

// staleParam parses ?stale=: true serves from this node without a quorum check.
func staleParam(c echo.Context) (bool, error) {
	s := c.QueryParam("stale")
	if s == "" {
		return false, nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return false, invalidArgf("stale %q is not true or false", s)
	}
	return v, nil
}
