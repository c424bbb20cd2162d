package client

// The SDK reads answers from endpoints it does not control (a proxy, a
// stale or hostile node). These targets feed its decoders arbitrary bytes and
// prove that they never panic, that they keep the bounds they promise, and
// that what they accept is stable: re-encoding it and decoding again gives
// the same encoding. Seeds: testdata/fuzz/FuzzAnswers (which also checks the
// duration strings), FuzzErrorAnswer and FuzzEventStream.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

// answerTypes returns a fresh value of every body type the SDK decodes.
func answerTypes() []any {
	return []any{
		new(wire.Lease), new(wire.LeaseInfo), new(wire.Revoked), new(wire.Acquired),
		new(wire.Released), new(wire.LockInfo), new(wire.LockList), new(wire.Fence),
		new(wire.Elected), new(wire.Resigned), new(wire.Leader), new(wire.ElectionInfo),
		new(wire.Cluster), new(wire.MemberList), new(wire.MemberAdded), new(wire.MemberChanged),
		new(wire.TransferResult), new(wire.ACLToken), new(wire.ACLTokenList), new(wire.ACLTokenDeleted),
		new(wire.Error), new(wire.LeaseRequest), new(wire.AcquireRequest), new(wire.CampaignRequest),
		new(wire.ACLTokenRequest),
	}
}

func FuzzAnswers(f *testing.F) {
	for _, s := range []string{
		`{"lease_id":7,"ttl":"15s"}`,
		`{"lease_id":7,"ttl":"1h2m3.5s","remaining":"-1ns","locks":["a","b"]}`,
		`{"name":"jobs/a","held":true,"holder":{"lease_id":1,"owner":"w","token":9,"acquired_at":"2026-01-02T03:04:05.123456789+01:00"},"waiters":2,"index":5}`,
		`{"tokens":[{"id":1,"name":"ci","rules":[{"prefix":"jobs/","allow":["lock","read"]}],"created_at":"2026-01-02T03:04:05Z","expires_at":null}]}`,
		`{"ttl":10}`,
		`{"ttl":"9223372036854775807ns"}`,
		`{"error":{"code":"lock_held","message":"held","holder":{"token":3}}}`,
		`"-1h2m"`, `".5s"`, `"1e3s"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkDuration(t, body)
		for _, v := range answerTypes() {
			if json.Unmarshal(body, v) != nil {
				continue
			}
			once, err := json.Marshal(v)
			if err != nil {
				// Only a time outside years 0..9999 fails to encode; the
				// decoder never makes one.
				t.Fatalf("Marshal(%T decoded from %q) = %v; want nil", v, body, err)
			}
			again := reflect.New(reflect.TypeOf(v).Elem()).Interface()
			if err := json.Unmarshal(once, again); err != nil {
				t.Fatalf("Unmarshal(re-encoded %T %s) = %v; want nil", v, once, err)
			}
			twice, err := json.Marshal(again)
			if err != nil || !bytes.Equal(once, twice) {
				t.Fatalf("%T from %q re-encodes as %s, then as %s (%v); want the same", v, body, once, twice, err)
			}
		}
	})
}

// checkDuration: a duration the wire type accepts comes back unchanged from
// its encoding.
func checkDuration(t *testing.T, b []byte) {
	var d wire.Duration
	if err := d.UnmarshalJSON(b); err != nil {
		return
	}
	enc, err := d.MarshalJSON()
	if err != nil {
		t.Fatalf("MarshalJSON(%v) = %v; want nil", d.D(), err)
	}
	var back wire.Duration
	if err := back.UnmarshalJSON(enc); err != nil || back != d {
		t.Fatalf("Duration %s decoded from %q comes back as %v (%v); want %v", enc, b, back.D(), err, d.D())
	}
}

func FuzzErrorAnswer(f *testing.F) {
	f.Add(429, "3", []byte(`{"error":{"code":"too_many_requests","message":"slow down"}}`))
	f.Add(503, "Fri, 27 Nov 2099 08:00:00 GMT", []byte("<html>bad gateway</html>"))
	f.Add(409, "", []byte(`{"error":{"code":"lock_held","message":"held","holder":{"lease_id":1,"token":3}}}`))
	f.Add(502, "-1", []byte(strings.Repeat("x", 600)))
	f.Add(400, "99999999999999999999", []byte(`{"error":{"code":""}}`))
	now := time.Now()
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		if d := parseRetryAfter(retryAfter, now); d < 0 {
			t.Fatalf("parseRetryAfter(%q) = %v; want >= 0", retryAfter, d)
		}
		if _, err := strconv.Atoi(retryAfter); err == nil {
			if d := parseRetryAfter(retryAfter, now); d > RetryAfterMax {
				t.Fatalf("parseRetryAfter(%q) = %v; want at most %v", retryAfter, d, RetryAfterMax)
			}
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		resp.Header.Set(wire.HeaderRetryAfter, retryAfter)
		e := decodeError(resp)
		if e.Status != status || e.RetryAfter < 0 {
			t.Fatalf("decodeError(%d, %q) = status %d, Retry-After %v; want status %d, a delay >= 0", status, body, e.Status, e.RetryAfter, status)
		}
		var w wire.Error
		fromJSON := json.Unmarshal(body, &w) == nil && w.Error.Code != ""
		if fromJSON && (e.Code != w.Error.Code || e.Message != w.Error.Message) {
			t.Fatalf("decodeError(%q) = code %q message %q; want the body's %q %q", body, e.Code, e.Message, w.Error.Code, w.Error.Message)
		}
		if !fromJSON && len(e.Message) > ErrorMessageBytesMax {
			t.Fatalf("decodeError(%q) kept a %d-byte message; want at most %d", body, len(e.Message), ErrorMessageBytesMax)
		}
		_ = e.Error() // formats without panicking
		var target *Error
		if !errors.As(error(e), &target) {
			t.Fatalf("errors.As(decodeError(%q)) = false; want an *Error", body)
		}
	})
}

func FuzzEventStream(f *testing.F) {
	f.Add([]byte("data: {\"name\":\"e\",\"index\":1}\n\n: keep-alive\n\ndata: {\"name\":\"e\",\n\n"))
	f.Add([]byte("event: x\ndata:a\ndata: b\nid: 1\n\n\n"))
	f.Add([]byte("data: " + strings.Repeat("y", 100) + "\r\n\r\n"))
	f.Add([]byte(":\n:\ndata"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		lines := 0
		var events [][]byte
		err := readEvents(bytes.NewReader(stream), func() { lines++ }, func(data []byte) error {
			if len(data) > EventBytesMax {
				t.Fatalf("readEvents(%q) dispatched a %d-byte event; want at most %d", stream, len(data), EventBytesMax)
			}
			events = append(events, bytes.Clone(data))
			var ev wire.ElectionInfo
			_ = json.Unmarshal(data, &ev) // what observe does; it must not panic
			return nil
		})
		if err != nil && !errors.Is(err, ErrTooLarge) && len(stream) <= EventBytesMax {
			t.Fatalf("readEvents(%q) = %v; want nil or ErrTooLarge for a stream of %d bytes", stream, err, len(stream))
		}
		if len(events) > lines {
			t.Fatalf("readEvents(%q) dispatched %d events from %d lines; want at most one per line", stream, len(events), lines)
		}
		// Every event is made of "data" fields: replaying them alone as a
		// stream dispatches the same events. (A value ending in '\r' would
		// lose it to the line splitter, so such streams are not replayed.)
		if err != nil || bytes.Contains(stream, []byte("\r")) {
			return
		}
		var replay bytes.Buffer
		for _, ev := range events {
			for _, l := range bytes.Split(ev, []byte("\n")) {
				replay.WriteString("data: ")
				replay.Write(l)
				replay.WriteString("\n")
			}
			replay.WriteString("\n")
		}
		var again [][]byte
		if err := readEvents(&replay, func() {}, func(data []byte) error { again = append(again, bytes.Clone(data)); return nil }); err != nil {
			t.Fatalf("readEvents(replay of %q) = %v; want nil", stream, err)
		}
		if len(again) != len(events) {
			t.Fatalf("replay of %q dispatched %d events; want %d", stream, len(again), len(events))
		}
		for i := range events {
			if !bytes.Equal(again[i], events[i]) {
				t.Fatalf("replay of %q event %d = %q; want %q", stream, i, again[i], events[i])
			}
		}
	})
}
