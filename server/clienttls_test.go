// These tests prove TLS on the client listener: it serves https (h2 and
// HTTP/1.1) and never serves a plain-HTTP request; with --client-ca-file a
// client without a certificate from that CA is refused in the handshake; a
// three-node cluster with client and peer TLS advertises https client URLs
// in /v1/cluster and X-Raftlock-Leader, and forwards over the peer listener.
// Certificates are generated here with crypto/x509.
package server_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/server"
	"github.com/raftlock/raftlock/server/servertest"
)

// clientTLSTimeout bounds one request of these tests.
const clientTLSTimeout = 10 * time.Second

// httpsClient trusts pool and presents cert (when not nil); h1 turns HTTP/2
// off.
func httpsClient(t *testing.T, pool *x509.CertPool, cert *tls.Certificate, h1 bool) *http.Client {
	t.Helper()
	cfg := &tls.Config{RootCAs: pool}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: !h1}
	if h1 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: clientTLSTimeout}
}

// get sends GET url and returns the answer's status, protocol and body.
func get(hc *http.Client, url string) (status int, proto string, body []byte, err error) {
	resp, err := hc.Get(url)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Proto, body, err
}

// clientTLSFiles writes a node certificate signed by ca and returns the
// config change that serves it on the client listener.
func clientTLSFiles(t *testing.T, ca *testCA) func(*server.Config) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "node.pem"), filepath.Join(dir, "node-key.pem")
	writePair(t, cert, key, ca.issue(t, 10, "node"))
	return func(c *server.Config) { c.CertFile, c.KeyFile = cert, key }
}

func TestClientListenerServesHTTPS(t *testing.T) {
	ca := newTestCA(t, "raftlock test CA")
	c := startTLSCluster(t, 1, nil, clientTLSFiles(t, ca))
	n := c.nodes[0]
	if got := n.ClientURL(); !strings.HasPrefix(got, "https://") {
		t.Fatalf("ClientURL() = %q; want https://", got)
	}
	for _, tc := range []struct {
		name      string
		h1        bool
		wantProto string
	}{
		{"h2", false, "HTTP/2.0"},
		{"HTTP/1.1", true, "HTTP/1.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, proto, body, err := get(httpsClient(t, poolOf(ca), nil, tc.h1), n.ClientURL()+server.PathCluster)
			if err != nil || status != http.StatusOK || proto != tc.wantProto {
				t.Fatalf("GET %s over TLS = %d %s %s, %v; want 200 %s", server.PathCluster, status, proto, body, err, tc.wantProto)
			}
			var cs server.ClusterStatus
			if err := json.Unmarshal(body, &cs); err != nil {
				t.Fatalf("GET %s = %s: %v", server.PathCluster, body, err)
			}
			if len(cs.Members) != 1 || cs.Members[0].ClientURL != n.ClientURL() {
				t.Errorf("GET %s members = %+v; want one member at %s", server.PathCluster, cs.Members, n.ClientURL())
			}
		})
	}
	t.Run("plain http", func(t *testing.T) {
		plain := "http://" + strings.TrimPrefix(n.ClientURL(), "https://")
		status, _, body, err := get(&http.Client{Timeout: clientTLSTimeout}, plain+server.PathCluster)
		if err == nil && status == http.StatusOK {
			t.Fatalf("GET %s over plain http = %d %s; want it refused", server.PathCluster, status, body)
		}
		if err == nil && status != http.StatusBadRequest {
			t.Errorf("GET %s over plain http = %d %s; want 400 (an HTTP request to an HTTPS server)", server.PathCluster, status, body)
		}
	})
	t.Run("untrusted CA", func(t *testing.T) {
		other := newTestCA(t, "another CA")
		if status, _, _, err := get(httpsClient(t, poolOf(other), nil, false), n.ClientURL()+server.PathCluster); err == nil {
			t.Errorf("GET %s trusting another CA = %d; want a certificate error", server.PathCluster, status)
		}
	})
}

func TestClientCertificateRequired(t *testing.T) {
	ca := newTestCA(t, "raftlock test CA")
	clientCA := newTestCA(t, "raftlock client CA")
	other := newTestCA(t, "another CA")
	caFile := filepath.Join(t.TempDir(), "client-ca.pem")
	writeFile(t, caFile, clientCA.pem)
	serve := clientTLSFiles(t, ca)
	c := startTLSCluster(t, 1, nil, func(cfg *server.Config) {
		serve(cfg)
		cfg.ClientCAFile = caFile
	})
	good := clientCA.issue(t, 20, "alice").tlsCert(t)
	foreign := other.issue(t, 21, "mallory").tlsCert(t)
	for _, tc := range []struct {
		name   string
		cert   *tls.Certificate
		wantOK bool
	}{
		{"no certificate", nil, false},
		{"certificate of another CA", &foreign, false},
		{"certificate of the client CA", &good, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, h1 := range []bool{false, true} {
				status, _, body, err := get(httpsClient(t, poolOf(ca), tc.cert, h1), c.nodes[0].ClientURL()+server.PathCluster)
				switch {
				case tc.wantOK && (err != nil || status != http.StatusOK):
					t.Errorf("GET %s (http1 %v) = %d %s, %v; want 200", server.PathCluster, h1, status, body, err)
				case !tc.wantOK && err == nil:
					t.Errorf("GET %s (http1 %v) = %d %s; want the handshake refused", server.PathCluster, h1, status, body)
				}
			}
		})
	}
}

// startHTTPSCluster starts 3 nodes whose client and peer listeners use one
// certificate of a private CA, which it returns.
func startHTTPSCluster(t *testing.T) (*tlsCluster, *testCA) {
	t.Helper()
	ca := newTestCA(t, "raftlock test CA")
	dir := t.TempDir()
	cert, key, caFile := filepath.Join(dir, "node.pem"), filepath.Join(dir, "node-key.pem"), filepath.Join(dir, "ca.pem")
	writePair(t, cert, key, ca.issue(t, 10, "node"))
	writeFile(t, caFile, ca.pem)
	c := startTLSCluster(t, 3, nil, func(cfg *server.Config) {
		cfg.CertFile, cfg.KeyFile = cert, key
		cfg.PeerCertFile, cfg.PeerKeyFile, cfg.PeerTrustedCAFile = cert, key, caFile
	})
	return c, ca
}

func TestClusterAdvertisesHTTPS(t *testing.T) {
	ctx := testContext(t)
	c, ca := startHTTPSCluster(t)
	leader := c.waitLeader(ctx)
	follower := c.nodes[(leader+1)%3]
	hc := httpsClient(t, poolOf(ca), nil, false)

	status, _, body, err := get(hc, follower.ClientURL()+server.PathCluster)
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET %s from a follower = %d %s, %v; want 200", server.PathCluster, status, body, err)
	}
	var cs server.ClusterStatus
	if err := json.Unmarshal(body, &cs); err != nil {
		t.Fatalf("GET %s = %s: %v", server.PathCluster, body, err)
	}
	want := map[string]string{}
	for _, n := range c.nodes {
		want[n.Name()] = n.ClientURL()
	}
	for _, m := range cs.Members {
		if m.ClientURL != want[m.Name] || !strings.HasPrefix(m.ClientURL, "https://") || !strings.HasPrefix(m.PeerURL, "https://") {
			t.Errorf("GET %s member %s = client %q peer %q; want client %q, both https", server.PathCluster, m.Name, m.ClientURL, m.PeerURL, want[m.Name])
		}
	}
	if len(cs.Members) != 3 {
		t.Errorf("GET %s lists %d members; want 3", server.PathCluster, len(cs.Members))
	}

	// An acquire through the follower is forwarded to the leader over the
	// peer listener; the leader names its https client URL.
	resp, err := hc.Post(follower.ClientURL()+"/v1/locks/tls/acquire", "application/json", strings.NewReader(`{"ttl":"10s"}`))
	if err != nil {
		t.Fatalf("acquire through a follower over https: %v", err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("X-Raftlock-Leader"); resp.StatusCode != http.StatusOK || got != c.nodes[leader].ClientURL() {
		t.Errorf("acquire through a follower = %d %s (leader %q); want 200 naming %s", resp.StatusCode, raw, got, c.nodes[leader].ClientURL())
	}
}

// TestJoinOverHTTPS: a node joins a cluster whose client API is https with a
// private CA (the peer trusted CA, as forwarding uses) and promotes itself:
// both join requests go over TLS.
func TestJoinOverHTTPS(t *testing.T) {
	ctx := testContext(t)
	c, ca := startHTTPSCluster(t)
	leader := c.waitLeader(ctx)

	clientLn, peerLn := listenLoopback(t, "127.0.0.1:0"), listenLoopback(t, "127.0.0.1:0")
	cfg := c.cfgs[0]
	cfg.Name = "n4"
	cfg.DataDir = filepath.Join(filepath.Dir(cfg.DataDir), cfg.Name)
	cfg.ClientAddr, cfg.PeerAddr = clientLn.Addr().String(), peerLn.Addr().String()
	cfg.InitialCluster, cfg.AdvertiseClientURL, cfg.AdvertisePeerURL = "", "", ""
	cfg.Join = []string{c.nodes[(leader+1)%3].ClientURL()}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config of n4: Validate() = %v", err)
	}
	if err := server.Join(ctx, cfg, c.log.Named("n4")); err != nil {
		t.Fatalf("Join over https = %v; want nil", err)
	}
	c.cfgs, c.nodes, c.stops = append(c.cfgs, cfg), append(c.nodes, nil), append(c.stops, nil)
	c.start(3, clientLn, peerLn)

	hc := httpsClient(t, poolOf(ca), nil, false)
	var list wire.MemberList
	err := servertest.WaitUntil(ctx, func() bool {
		status, _, body, err := get(hc, c.nodes[leader].ClientURL()+"/v1/cluster/members")
		if err != nil || status != http.StatusOK || json.Unmarshal(body, &list) != nil {
			return false
		}
		for _, m := range list.Members {
			if m.Name == "n4" {
				return m.Role == wire.RoleVoter
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("n4 never became a voter: %v; members %+v", err, list.Members)
	}
}
