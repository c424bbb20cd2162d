// These tests prove that the guard moves the write deadline of the requests
// that wait, and only theirs: behind a server whose WriteTimeout is short, a
// request that does not wait and outlives it loses its answer, while a
// blocking GET, an acquire with a wait in its body (which the handler still
// reads whole) and an event stream writing past it are answered in full.
package server

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
)

// guardTestTimeout bounds every request of these tests.
const guardTestTimeout = 30 * time.Second

func TestGuardExtendsWriteDeadline(t *testing.T) {
	const writeTimeout = 150 * time.Millisecond
	const work = 3 * writeTimeout // how long each handler takes
	n := &Node{log: zap.NewNop(), guard: newGuard(HTTPLimits{}, nil)}
	e := echo.New()
	e.HTTPErrorHandler = httpErrorHandler(zap.NewNop())
	e.Use(n.protect)
	slow := func(c echo.Context) error {
		b, err := readBody(c)
		if err != nil {
			return err
		}
		timer := time.NewTimer(work)
		defer timer.Stop()
		<-timer.C
		return c.String(http.StatusOK, "done "+string(b))
	}
	e.GET(PathLock, slow)
	e.POST(PathLockAcquire, slow)
	e.GET(PathElectionObserve, func(c echo.Context) error {
		w := c.Response()
		w.WriteHeader(http.StatusOK)
		w.Flush()
		tick := time.NewTicker(writeTimeout / 2)
		defer tick.Stop()
		for i := range 6 {
			<-tick.C
			if _, err := io.WriteString(w, "data: "+string(rune('a'+i))+"\n"); err != nil {
				return nil
			}
			w.Flush()
		}
		return nil
	})
	srv := httptest.NewUnstartedServer(e)
	srv.Config.WriteTimeout = writeTimeout
	srv.Start()
	t.Cleanup(srv.Close)

	cases := []struct {
		name   string
		method string
		path   string
		body   string
		want   string // the whole answer; "" when it must be lost
	}{
		{"plain GET loses its answer", "GET", "/v1/locks/a", "", ""},
		{"acquire without wait loses its answer", "POST", "/v1/locks/a/acquire", `{"ttl":"5s"}`, ""},
		{"blocking GET", "GET", "/v1/locks/a?index=3&wait=2s", "", "done "},
		{"blocking GET with the default wait", "GET", "/v1/locks/a?index=3", "", "done "},
		{"acquire with a wait", "POST", "/v1/locks/a/acquire", `{"ttl":"5s","wait":"2s"}`, `done {"ttl":"5s","wait":"2s"}`},
		{"event stream", "GET", "/v1/elections/e/observe", "", "data: a\ndata: b\ndata: c\ndata: d\ndata: e\ndata: f\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hc := &http.Client{Transport: &http.Transport{}, Timeout: guardTestTimeout}
			defer hc.CloseIdleConnections()
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatalf("NewRequest: %v", err)
			}
			resp, err := hc.Do(req)
			var got string
			if err == nil {
				var b []byte
				b, err = io.ReadAll(bufio.NewReader(resp.Body))
				resp.Body.Close()
				got = string(b)
			}
			if tc.want == "" {
				if err == nil {
					t.Fatalf("%s %s = %q; want the answer lost past the write timeout", tc.method, tc.path, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("%s %s = %q, %v; want %q", tc.method, tc.path, got, err, tc.want)
			}
		})
	}
}

func TestGuardRefusesDeclaredHugeBody(t *testing.T) {
	n := &Node{log: zap.NewNop(), guard: newGuard(HTTPLimits{}, nil)}
	e := echo.New()
	e.HTTPErrorHandler = httpErrorHandler(zap.NewNop())
	e.Use(n.protect)
	read := 0
	e.POST(PathLeases, func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		read += len(b)
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusOK)
	})
	cases := []struct {
		name   string
		length int64
		body   io.Reader
		status int
	}{
		{"declared over the max", BodyBytesMax + 1, strings.NewReader(strings.Repeat("x", BodyBytesMax+1)), http.StatusRequestEntityTooLarge},
		{"at the max", BodyBytesMax, strings.NewReader(strings.Repeat("x", BodyBytesMax)), http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			read = 0
			req := httptest.NewRequest(http.MethodPost, PathLeases, tc.body)
			req.ContentLength = tc.length
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("POST %s with %d bytes = %d %s; want %d", PathLeases, tc.length, rec.Code, rec.Body, tc.status)
			}
			if tc.status != http.StatusOK && read != 0 {
				t.Errorf("handler read %d bytes of a refused body; want none", read)
			}
		})
	}
}
