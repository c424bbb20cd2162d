// These tests prove certificate reload without a restart, on both listeners:
// new certificate files, picked up by Node.ReloadCertificates (what SIGHUP
// calls) or by the file watcher, are presented by the next handshake
// (compared by serial number); a bad file (unparsable, a key that does not
// match) is reported and the previous certificate stays in use; a fixed file
// is picked up after a failure. A peer CA rotation is proven by a member that
// restarts with certificates of the new CA and rejoins members that only
// reloaded theirs.
package server_test

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/raftlock/raftlock/server"
	"github.com/raftlock/raftlock/server/servertest"
)

// serialAt handshakes with the TLS listener at addr, trusting pool and
// presenting cert, and returns the serial of the certificate it presented.
func serialAt(addr string, pool *x509.CertPool, cert tls.Certificate) (string, error) {
	d := &net.Dialer{Timeout: clientTLSTimeout}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{
		RootCAs: pool, Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"},
	})
	if err != nil {
		return "", err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String(), nil
}

// reloadFiles are the files of a node with client and peer TLS.
type reloadFiles struct {
	cert, key, peerCert, peerKey, peerCA string
}

func newReloadFiles(t *testing.T, ca *testCA) reloadFiles {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	f := reloadFiles{p("node.pem"), p("node-key.pem"), p("peer.pem"), p("peer-key.pem"), p("peer-ca.pem")}
	writeFile(t, f.peerCA, ca.pem)
	return f
}

func TestReloadCertificates(t *testing.T) {
	for _, tc := range []struct {
		name string
		// interval is Config.CertReloadInterval: long when the test calls
		// ReloadCertificates, so the watcher does not race it.
		interval time.Duration
		watch    bool
	}{
		{"ReloadCertificates", time.Hour, false},
		{"file watch", 5 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testReload(t, tc.interval, tc.watch)
		})
	}
}

func testReload(t *testing.T, interval time.Duration, watch bool) {
	ctx := testContext(t)
	ca := newTestCA(t, "raftlock test CA")
	files := newReloadFiles(t, ca)
	writePair(t, files.cert, files.key, ca.issue(t, 100, "client listener"))
	writePair(t, files.peerCert, files.peerKey, ca.issue(t, 200, "peer"))
	core, logs := observer.New(zapcore.InfoLevel)
	c := startTLSCluster(t, 1, zap.New(core), func(cfg *server.Config) {
		cfg.CertFile, cfg.KeyFile = files.cert, files.key
		cfg.PeerCertFile, cfg.PeerKeyFile, cfg.PeerTrustedCAFile = files.peerCert, files.peerKey, files.peerCA
		cfg.CertReloadInterval = interval
	})
	n := c.nodes[0]
	clientAddr := strings.TrimPrefix(n.ClientURL(), "https://")
	peerAddr := strings.TrimPrefix(n.PeerURL(), "https://")
	peerClient := ca.issue(t, 300, "a peer").tlsCert(t)
	pool := poolOf(ca)
	serials := func() (client, peer string) {
		client, err := serialAt(clientAddr, pool, peerClient)
		if err != nil {
			t.Fatalf("handshake with the client listener: %v", err)
		}
		peer, err = serialAt(peerAddr, pool, peerClient)
		if err != nil {
			t.Fatalf("handshake with the peer listener: %v", err)
		}
		return client, peer
	}
	// expect triggers a reload (or waits for the watcher) until the
	// listeners present wantClient and wantPeer.
	expect := func(step, wantClient, wantPeer string) {
		t.Helper()
		if !watch {
			if err := n.ReloadCertificates(); err != nil {
				t.Fatalf("%s: ReloadCertificates() = %v; want nil", step, err)
			}
		}
		err := servertest.WaitUntil(ctx, func() bool {
			cl, pe := serials()
			return cl == wantClient && pe == wantPeer
		})
		cl, pe := serials()
		if err != nil || cl != wantClient || pe != wantPeer {
			t.Fatalf("%s: serials presented = client %s, peer %s; want %s, %s", step, cl, pe, wantClient, wantPeer)
		}
	}
	if cl, pe := serials(); cl != "100" || pe != "200" {
		t.Fatalf("serials presented at start = client %s, peer %s; want 100, 200", cl, pe)
	}

	writePair(t, files.cert, files.key, ca.issue(t, 101, "client listener"))
	writePair(t, files.peerCert, files.peerKey, ca.issue(t, 201, "peer"))
	expect("new certificates", "101", "201")
	if got := logs.FilterMessage("certificate reloaded").Len(); got < 2 {
		t.Errorf("%d \"certificate reloaded\" log lines; want at least 2", got)
	}

	// Bad files: an unparsable certificate on the client listener, a key
	// that does not match its certificate on the peer listener.
	failedBefore := logs.FilterMessageSnippet("certificate reload failed").Len()
	writeFile(t, files.cert, []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"))
	writeFile(t, files.peerCert, ca.issue(t, 202, "peer").certPEM) // the key stays 201's
	if watch {
		// Both files are reported at Error (in one line or two).
		err := servertest.WaitUntil(ctx, func() bool {
			var all strings.Builder
			for _, e := range logs.FilterMessageSnippet("certificate reload failed").All()[failedBefore:] {
				if e.Level != zapcore.ErrorLevel {
					t.Errorf("reload failure logged at %v; want error", e.Level)
				}
				all.WriteString(e.ContextMap()["error"].(string))
			}
			return strings.Contains(all.String(), files.cert) && strings.Contains(all.String(), files.peerCert)
		})
		if err != nil {
			t.Fatalf("the watcher never reported both bad files: %v", err)
		}
	} else {
		err := n.ReloadCertificates()
		if err == nil || !strings.Contains(err.Error(), files.cert) || !strings.Contains(err.Error(), files.peerCert) {
			t.Fatalf("ReloadCertificates() with bad files = %v; want an error naming %s and %s", err, files.cert, files.peerCert)
		}
	}
	if cl, pe := serials(); cl != "101" || pe != "201" {
		t.Errorf("serials after bad files = client %s, peer %s; want the previous 101, 201", cl, pe)
	}

	// Fixed files are picked up after the failure.
	writePair(t, files.cert, files.key, ca.issue(t, 103, "client listener"))
	writePair(t, files.peerCert, files.peerKey, ca.issue(t, 203, "peer"))
	expect("fixed certificates", "103", "203")
}

// TestPeerCARotation moves a 3-node cluster from one peer CA to another
// without restarting two of its members: they reload the new CA and
// certificates, and the third, restarted with them, rejoins. Its
// connections are new handshakes in both directions, so they prove that the
// reloaded members present the new certificate and verify with the new CA
// both as a server and as a dialer; an old-CA certificate is then refused.
func TestPeerCARotation(t *testing.T) {
	ctx := testContext(t)
	oldCA, newCA := newTestCA(t, "old peer CA"), newTestCA(t, "new peer CA")
	files := newReloadFiles(t, oldCA)
	writePair(t, files.peerCert, files.peerKey, oldCA.issue(t, 10, "peer"))
	c := startTLSCluster(t, 3, nil, func(cfg *server.Config) {
		cfg.PeerCertFile, cfg.PeerKeyFile, cfg.PeerTrustedCAFile = files.peerCert, files.peerKey, files.peerCA
		cfg.CertReloadInterval = time.Hour // reloads are ReloadCertificates here
	})
	leader := c.waitLeader(ctx)
	gone := (leader + 1) % 3
	c.stop(gone)

	writeFile(t, files.peerCA, newCA.pem)
	writePair(t, files.peerCert, files.peerKey, newCA.issue(t, 11, "peer"))
	for i, n := range c.nodes {
		if n == nil {
			continue
		}
		if err := n.ReloadCertificates(); err != nil {
			t.Fatalf("n%d: ReloadCertificates() = %v; want nil", i+1, err)
		}
	}
	c.restart(gone)
	// A commit after the restart must reach the restarted member.
	hc := &http.Client{Timeout: clientTLSTimeout}
	t.Cleanup(hc.CloseIdleConnections)
	resp, err := hc.Post(c.nodes[leader].ClientURL()+"/v1/locks/rotated/acquire", "application/json", strings.NewReader(`{"ttl":"10s"}`))
	if err != nil {
		t.Fatalf("acquire after the rotation: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("acquire after the rotation = %d; want 200", resp.StatusCode)
	}
	commit := c.nodes[leader].Status().Commit
	if err := c.nodes[gone].WaitApplied(ctx, commit); err != nil {
		t.Fatalf("restarted n%d: WaitApplied(%d) = %v; applied %d: it did not rejoin over the new CA", gone+1, commit, err, c.nodes[gone].Status().Applied)
	}

	// A peer certificate of the old CA is refused now; one of the new CA is
	// served.
	memberURL := c.nodes[leader].PeerURL() + "/raftlock/v1/member"
	for _, tc := range []struct {
		name   string
		cert   tls.Certificate
		wantOK bool
	}{
		{"old CA", oldCA.issue(t, 12, "peer").tlsCert(t), false},
		{"new CA", newCA.issue(t, 13, "peer").tlsCert(t), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body, err := get(httpsClient(t, poolOf(newCA), &tc.cert, false), memberURL)
			if tc.wantOK && (err != nil || status != http.StatusOK) {
				t.Errorf("GET %s with a %s certificate = %d %s, %v; want 200", memberURL, tc.name, status, body, err)
			}
			if !tc.wantOK && err == nil {
				t.Errorf("GET %s with a %s certificate = %d %s; want the handshake refused", memberURL, tc.name, status, body)
			}
		})
	}
}
