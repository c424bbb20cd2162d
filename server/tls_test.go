// This test runs a 3-node cluster with the peer mutual-TLS flags (a CA and a
// node certificate generated here) and proves the TLS wiring: the nodes elect
// a leader and replicate over h2 with client certificates, and the peer port
// refuses a client that presents no certificate.
package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftlock/raftlock/consensus/transport"
	"github.com/raftlock/raftlock/server/servertest"
)

// writeTestPKI writes ca.pem, node.pem and node-key.pem into dir: a CA and a
// certificate it signs for 127.0.0.1, usable as server and as client.
func writeTestPKI(t *testing.T, dir string) (cert, key, ca string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "raftlock test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	nodeKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	nodeTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "raftlock node"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	nodeDER, err := x509.CreateCertificate(rand.Reader, nodeTmpl, caCert, &nodeKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(nodeKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	return write("node.pem", "CERTIFICATE", nodeDER), write("node-key.pem", "EC PRIVATE KEY", keyDER), write("ca.pem", "CERTIFICATE", caDER)
}

func TestClusterOverMutualTLS(t *testing.T) {
	ctx := testContext(t)
	cert, key, ca := writeTestPKI(t, t.TempDir())
	c := servertest.Start(t, 3, servertest.Options{PeerCertFile: cert, PeerKeyFile: key, PeerTrustedCAFile: ca})
	last := proposeMany(t, ctx, c, "tls", 50, 8)
	waitApplied(t, ctx, c, last)
	sameApplied(t, c, appliedData(c.FSM(0)))
	if got := c.FSM(0).Len(); got != 50 {
		t.Errorf("applied %d commands over mTLS; want 50", got)
	}
	for i := range c.Size() {
		if url := c.Node(i).PeerURL(); !strings.HasPrefix(url, "https://") {
			t.Errorf("%s PeerURL() = %q; want https", c.Member(i).Name, url)
		}
	}

	// A client without a certificate is refused by the peer listener.
	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	pool.AppendCertsFromPEM(caPEM)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, c.Node(0).PeerURL()+transport.MessagesPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("POST to the peer port without a client certificate = %d; want a TLS refusal", resp.StatusCode)
	}
}

// TestForwardOverMutualTLS proves that a follower forwards client requests
// to the leader's peer listener over h2 with its client certificate.
func TestForwardOverMutualTLS(t *testing.T) {
	ctx := testContext(t)
	cert, key, ca := writeTestPKI(t, t.TempDir())
	c := servertest.Start(t, 3, servertest.Options{PeerCertFile: cert, PeerKeyFile: key, PeerTrustedCAFile: ca, Locks: true})
	leader := waitLeader(t, ctx, c)
	ac := newAPIClient(t)
	a := ac.must(ctx, "POST", c.URL((leader+1)%3)+"/v1/locks/tls/acquire", `{"ttl":"10s"}`)
	if a.Status != http.StatusOK || a.Header.Get("X-Raftlock-Leader") != c.URL(leader) {
		t.Fatalf("acquire through a follower over mTLS = %d %s (leader %q); want 200 from %s", a.Status, a.Raw, a.Header.Get("X-Raftlock-Leader"), c.URL(leader))
	}
}
