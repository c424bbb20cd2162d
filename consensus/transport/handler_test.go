// These tests call the handler directly (no network) and prove that it
// refuses every body or header it must refuse, with the right status, before
// any message reaches Step, and that it never panics on bytes it is sent.
package transport

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

// handlerNode is node 1 with peer 2, not serving: its handler is called directly.
func handlerNode(t *testing.T) (*Transport, *[]consensus.Message) {
	t.Helper()
	var got []consensus.Message
	tr, err := New(Options{ID: 1, ClusterID: testCluster, Step: func(m consensus.Message) { got = append(got, m) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	if err := tr.AddPeer(2, "http://127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	return tr, &got
}

func mustEncode(t testing.TB, msgs []consensus.Message) []byte {
	t.Helper()
	b, err := encodeBatch(newHandle(), nil, msgs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// msgpack building blocks for hand-made bodies.
var (
	fixArray1 = []byte{0x91}
	emptyMap  = []byte{0x80}
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestHandlerRefuses(t *testing.T) {
	good := []consensus.Message{app(2, 1, 5, 2, 10)}
	valid := mustEncode(t, good)
	tooManyMsgs := make([]consensus.Message, BatchMessagesMax+1)
	for i := range tooManyMsgs {
		tooManyMsgs[i] = consensus.Message{Type: consensus.MsgHeartbeat, From: 2, To: 1}
	}
	manyEntries := app(2, 1, 0, BatchEntriesMax/2+1, 0)
	headers := func(cluster, from, to string) http.Header {
		h := http.Header{}
		h.Set("Content-Type", ContentType)
		h.Set(HeaderClusterID, cluster)
		h.Set(HeaderFrom, from)
		h.Set(HeaderTo, to)
		return h
	}
	ok := headers(testCluster, "2", "1")
	cases := []struct {
		name   string
		method string
		path   string
		header http.Header
		body   []byte
		want   int
	}{
		{"valid", "POST", MessagesPath, ok, valid, http.StatusNoContent},
		{"wrong path", "POST", "/raft/v2/messages", ok, valid, http.StatusNotFound},
		{"wrong method", "GET", MessagesPath, ok, nil, http.StatusMethodNotAllowed},
		{"wrong content type", "POST", MessagesPath, http.Header{"Content-Type": {"application/json"}}, valid, http.StatusUnsupportedMediaType},
		{"other cluster", "POST", MessagesPath, headers("prod", "2", "1"), valid, http.StatusBadRequest},
		{"header to another node", "POST", MessagesPath, headers(testCluster, "2", "3"), valid, http.StatusBadRequest},
		{"header from unknown peer", "POST", MessagesPath, headers(testCluster, "4", "1"), mustEncode(t, []consensus.Message{app(4, 1, 5, 1, 1)}), http.StatusBadRequest},
		{"header from none", "POST", MessagesPath, headers(testCluster, "0", "1"), valid, http.StatusBadRequest},
		{"header from not a number", "POST", MessagesPath, headers(testCluster, "two", "1"), valid, http.StatusBadRequest},
		{"message to another node", "POST", MessagesPath, ok, mustEncode(t, []consensus.Message{app(2, 3, 5, 1, 1)}), http.StatusBadRequest},
		{"message from another node", "POST", MessagesPath, ok, mustEncode(t, []consensus.Message{app(3, 1, 5, 1, 1)}), http.StatusBadRequest},
		{"second message misaddressed", "POST", MessagesPath, ok, mustEncode(t, []consensus.Message{app(2, 1, 5, 1, 1), app(2, 3, 6, 1, 1)}), http.StatusBadRequest},
		{"invalid type", "POST", MessagesPath, ok, mustEncode(t, []consensus.Message{{Type: 0, From: 2, To: 1}}), http.StatusBadRequest},
		{"type past the last", "POST", MessagesPath, ok, mustEncode(t, []consensus.Message{{Type: consensus.MsgTimeoutNow + 1, From: 2, To: 1}}), http.StatusBadRequest},
		{"empty body", "POST", MessagesPath, ok, nil, http.StatusBadRequest},
		{"empty batch", "POST", MessagesPath, ok, []byte{0x90}, http.StatusBadRequest},
		{"not msgpack", "POST", MessagesPath, ok, []byte("{\"type\":1}"), http.StatusBadRequest},
		{"truncated", "POST", MessagesPath, ok, valid[:len(valid)-3], http.StatusBadRequest},
		{"trailing bytes", "POST", MessagesPath, ok, cat(valid, []byte{0xc0}), http.StatusBadRequest},
		{"message not a map", "POST", MessagesPath, ok, cat(fixArray1, []byte{0x93, 1, 1, 2}), http.StatusBadRequest},
		{"map with no fields", "POST", MessagesPath, ok, cat(fixArray1, emptyMap), http.StatusBadRequest},
		{"huge declared array", "POST", MessagesPath, ok, []byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0x80}, http.StatusBadRequest},
		{"huge declared bin", "POST", MessagesPath, ok, cat(fixArray1, []byte{0x81, 0xa1, 'x', 0xc6, 0x7f, 0xff, 0xff, 0xff}), http.StatusBadRequest},
		{"too deep", "POST", MessagesPath, ok, cat(fixArray1, []byte{0x81, 0xa1, 'q'}, bytes.Repeat([]byte{0x91}, DecodeDepthMax), []byte{0xc0}), http.StatusBadRequest},
		{"too many messages", "POST", MessagesPath, ok, mustEncode(t, tooManyMsgs), http.StatusBadRequest},
		{"too many entries", "POST", MessagesPath, ok, mustEncode(t, []consensus.Message{manyEntries, manyEntries}), http.StatusBadRequest},
		{"type overflows", "POST", MessagesPath, ok, cat(fixArray1, []byte{0x81, 0xa1, 'y', 0xcd, 0x01, 0x00}), http.StatusBadRequest},
		{"negative node id", "POST", MessagesPath, ok, cat(fixArray1, []byte{0x81, 0xa2, 't', 'o', 0xff}), http.StatusBadRequest},
		{"declared too large", "POST", MessagesPath, ok, bytes.Repeat([]byte{0xc0}, BodyBytesMax+1), http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr, got := handlerNode(t)
			req := httptest.NewRequest(tc.method, tc.path, bytes.NewReader(tc.body))
			for k, v := range tc.header {
				req.Header[k] = v
			}
			rec := httptest.NewRecorder()
			tr.Handler().ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("POST %s = %d %q; want %d", tc.name, rec.Code, strings.TrimSpace(rec.Body.String()), tc.want)
			}
			if tc.want == http.StatusNoContent {
				if len(*got) != len(good) || (*got)[0].Index != good[0].Index {
					t.Errorf("Step got %+v; want %+v", *got, good)
				}
				return
			}
			if len(*got) != 0 {
				t.Errorf("Step got %d messages from a refused request; want none", len(*got))
			}
			if rec.Body.Len() == 0 || rec.Body.Len() > ErrorBodyBytesMax+1 {
				t.Errorf("refusal body is %d bytes; want 1..%d", rec.Body.Len(), ErrorBodyBytesMax+1)
			}
		})
	}
}

// TestHandlerBodyPastLimitUndeclared sends a body of unknown length (chunked)
// past BodyBytesMax: the reader stops at the bound and answers 413.
func TestHandlerBodyPastLimitUndeclared(t *testing.T) {
	tr, got := handlerNode(t)
	body := bytes.Repeat([]byte{0xc0}, BodyBytesMax+1)
	req := httptest.NewRequest("POST", MessagesPath, struct{ *bytes.Reader }{bytes.NewReader(body)})
	req.ContentLength = -1
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set(HeaderClusterID, testCluster)
	req.Header.Set(HeaderFrom, "2")
	req.Header.Set(HeaderTo, strconv.Itoa(1))
	rec := httptest.NewRecorder()
	tr.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("POST of %d bytes = %d; want %d", len(body), rec.Code, http.StatusRequestEntityTooLarge)
	}
	if len(*got) != 0 {
		t.Errorf("Step got %d messages; want none", len(*got))
	}
	if st := tr.Stats(); st.RejectedRequests != 1 {
		t.Errorf("Stats().RejectedRequests = %d; want 1", st.RejectedRequests)
	}
}
