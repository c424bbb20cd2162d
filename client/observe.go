package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

// ErrStreamEnded is returned by Observe when the server closed the event
// stream; Election.Observe reconnects after it.
var ErrStreamEnded = errors.New("raftlock: event stream ended")

// Observe streams election name: fn gets the current state, then every
// change, until ctx ends (Observe returns ctx's error), the stream fails or
// ends, or fn returns an error (Observe returns it). A stream silent for
// ObserveIdleMax (not even a keep-alive comment) is dropped as failed.
func (c *Client) Observe(ctx context.Context, name string, fn func(wire.ElectionInfo) error) error {
	return c.observe(ctx, name, ObserveIdleMax, fn)
}

func (c *Client) observe(ctx context.Context, name string, idle time.Duration, fn func(wire.ElectionInfo) error) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, done, err := c.send(sctx, &request{method: http.MethodGet, path: pathOf("/v1/elections/", name, "/observe"), stream: true})
	if err != nil {
		return err
	}
	defer done()
	// The watchdog cancels a silent stream; every line read re-arms it.
	var silent atomic.Bool
	watchdog := time.AfterFunc(idle, func() { silent.Store(true); cancel() })
	defer watchdog.Stop()
	err = readEvents(resp.Body, func() { watchdog.Reset(idle) }, func(data []byte) error {
		var ev wire.ElectionInfo
		if err := json.Unmarshal(data, &ev); err != nil {
			return fmt.Errorf("client: observe %q: decode %d-byte event: %w", name, len(data), err)
		}
		return fn(ev)
	})
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case silent.Load():
		return fmt.Errorf("client: observe %q: stream silent for %v, max %v", name, idle, idle)
	case err == nil:
		return fmt.Errorf("client: observe %q: %w", name, ErrStreamEnded)
	}
	return err
}

// readEvents parses a text/event-stream body: "data:" lines accumulate, a
// blank line dispatches them (joined by newlines) to fn, lines starting with
// ":" are comments (keep-alives), other fields are ignored. onLine runs for
// every line. It returns nil at the end of the stream, fn's error, or a read
// error; an event cut off by the end is dropped.
func readEvents(r io.Reader, onLine func(), fn func(data []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), EventBytesMax)
	var data []byte
	var have bool
	for sc.Scan() {
		onLine()
		line := sc.Bytes()
		switch {
		case len(line) == 0:
			if have {
				if err := fn(data); err != nil {
					return err
				}
			}
			data, have = data[:0], false
		case line[0] == ':':
		default:
			field, value, _ := bytes.Cut(line, []byte(":"))
			value = bytes.TrimPrefix(value, []byte(" "))
			if string(field) != "data" {
				continue
			}
			if len(data)+len(value) > EventBytesMax {
				return fmt.Errorf("client: event is over %d bytes, max %d: %w", len(data)+len(value), EventBytesMax, ErrTooLarge)
			}
			if have {
				data = append(data, '\n')
			}
			data = append(data, value...)
			have = true
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("client: read event stream: %w", err)
	}
	return nil
}
