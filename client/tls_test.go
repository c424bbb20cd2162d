// This test proves Config.TLS is what https endpoints are verified with, and
// that a certificate the config rejects is not retried.
package client

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/raftlock/raftlock/client/wire"
)

func TestTLSConfigUsed(t *testing.T) {
	ctx := testContext(t)
	var hits, conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		writeAnswer(w, ok(wire.Cluster{ID: "tls"}))
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	trusted := srv.Client().Transport.(*http.Transport).TLSClientConfig
	for _, tc := range []struct {
		name      string
		cfg       *tls.Config
		wantOK    bool
		wantHits  int32
		wantConns int32
	}{
		{"trusted", trusted, true, 1, 1},
		{"unknown authority", nil, false, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits.Store(0)
			conns.Store(0)
			c, err := New(Config{Endpoints: []string{srv.URL}, TLS: tc.cfg})
			if err != nil {
				t.Fatalf("New() = %v", err)
			}
			defer c.Close()
			got, err := c.Cluster(ctx)
			if tc.wantOK && (err != nil || got.ID != "tls") {
				t.Fatalf("Cluster() over TLS = %+v, %v; want id %q", got, err, "tls")
			}
			var cert *tls.CertificateVerificationError
			if !tc.wantOK && !errors.As(err, &cert) {
				t.Fatalf("Cluster() with an untrusted certificate = %v; want a certificate error", err)
			}
			if n := hits.Load(); n != tc.wantHits {
				t.Errorf("server saw %d requests; want %d", n, tc.wantHits)
			}
			if n := conns.Load(); n != tc.wantConns {
				t.Errorf("server saw %d connections; want %d (no retry of a certificate error)", n, tc.wantConns)
			}
		})
	}
}
