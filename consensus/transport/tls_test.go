// These tests prove mutual TLS between peers: with certificates from one CA
// (loaded through LoadTLS) messages flow over HTTP/2 on TLS; a client whose
// certificate another CA signed is refused at the handshake and nothing it
// sends reaches the node; LoadTLS reports unusable files.
package transport

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/raftlock/raftlock/consensus"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns PEM certificate and key for a node at 127.0.0.1, usable as
// both server and client.
func (ca *testCA) issue(t *testing.T, name string, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// writeFiles writes cert, key and CA PEM into dir and returns their paths.
func writeFiles(t *testing.T, dir string, certPEM, keyPEM, caPEM []byte) (cert, key, ca string) {
	t.Helper()
	cert, key, ca = filepath.Join(dir, "peer.crt"), filepath.Join(dir, "peer.key"), filepath.Join(dir, "ca.crt")
	for path, data := range map[string][]byte{cert: certPEM, key: keyPEM, ca: caPEM} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return cert, key, ca
}

// loadNodeTLS issues a certificate from ca and loads it through LoadTLS.
func loadNodeTLS(t *testing.T, ca *testCA, name string, serial int64) (server, client *tls.Config) {
	t.Helper()
	certPEM, keyPEM := ca.issue(t, name, serial)
	cert, key, caFile := writeFiles(t, t.TempDir(), certPEM, keyPEM, ca.pem)
	server, client, err := LoadTLS(cert, key, caFile)
	if err != nil {
		t.Fatalf("LoadTLS(%q, %q, %q) = %v; want nil", cert, key, caFile, err)
	}
	return server, client
}

func TestMutualTLS(t *testing.T) {
	ca := newTestCA(t, "raftlock test ca")
	other := newTestCA(t, "another ca")
	srvA, cliA := loadNodeTLS(t, ca, "n1", 2)
	srvB, cliB := loadNodeTLS(t, ca, "n2", 3)
	a := startNode(t, 1, func(o *Options) { o.TLS, o.ClientTLS = srvA, cliA })
	b := startNode(t, 2, func(o *Options) { o.TLS, o.ClientTLS = srvB, cliB })
	connect(t, a, b)

	a.tr.Send([]consensus.Message{app(1, 2, 7, 3, 100)})
	b.tr.Send([]consensus.Message{{Type: consensus.MsgAppResp, From: 2, To: 1, Term: 3, Index: 10}})
	if got := receive(t, b, 1)[0]; got.Index != 7 || len(got.Entries) != 3 {
		t.Errorf("node 2 received %+v; want the MsgApp at index 7 with 3 entries", got)
	}
	if got := receive(t, a, 1)[0]; got.Type != consensus.MsgAppResp || got.Index != 10 {
		t.Errorf("node 1 received %+v; want the MsgAppResp at index 10", got)
	}

	// Node 3 trusts the right CA but presents a certificate another CA signed.
	_, cliC := loadNodeTLS(t, other, "n3", 4)
	cliC.RootCAs = cliA.RootCAs
	c := startNode(t, 3, func(o *Options) { o.TLS, o.ClientTLS = srvA, cliC })
	if err := a.tr.AddPeer(3, c.url); err != nil { // so a would accept 3's batches past TLS
		t.Fatal(err)
	}
	if err := c.tr.AddPeer(1, a.url); err != nil {
		t.Fatal(err)
	}
	c.tr.Send([]consensus.Message{{Type: consensus.MsgHeartbeatResp, From: 3, To: 1, Term: 3}})
	waitID(t, "ReportUnreachable", c.unreachable, 1)
	if st := c.tr.Stats().Peers[0]; st.Failures == 0 || st.SentMessages != 0 {
		t.Errorf("Stats() of node 3 = %+v; want failures and nothing sent", st)
	}
	select {
	case m := <-a.got:
		t.Errorf("node 1 received %+v from a peer with a foreign certificate", m)
	default:
	}

	// A plain h2c client cannot talk to a TLS peer, and LoadTLS's configs
	// refuse http URLs.
	if err := a.tr.AddPeer(4, "http://127.0.0.1:7071"); err == nil {
		t.Errorf("AddPeer(4, http URL) with ClientTLS = nil; want an error")
	}
}

func TestLoadTLSErrors(t *testing.T) {
	ca := newTestCA(t, "raftlock test ca")
	certPEM, keyPEM := ca.issue(t, "n1", 2)
	dir := t.TempDir()
	cert, key, caFile := writeFiles(t, dir, certPEM, keyPEM, ca.pem)
	notPEM := filepath.Join(dir, "garbage")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	cases := []struct {
		name, cert, key, ca string
		wantErr             bool
	}{
		{"ok", cert, key, caFile, false},
		{"missing cert", missing, key, caFile, true},
		{"key is not the cert's", cert, caFile, caFile, true},
		{"missing ca", cert, key, missing, true},
		{"ca without pem", cert, key, notPEM, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, cli, err := LoadTLS(tc.cert, tc.key, tc.ca)
			if (err != nil) != tc.wantErr {
				t.Fatalf("LoadTLS(%q, %q, %q) = %v; want error %v", tc.cert, tc.key, tc.ca, err, tc.wantErr)
			}
			if err == nil && (srv.ClientAuth != tls.RequireAndVerifyClientCert || srv.ClientCAs == nil || cli.RootCAs == nil || len(cli.Certificates) != 1) {
				t.Errorf("LoadTLS configs = %+v, %+v; want client certs required and one CA trusted", srv, cli)
			}
		})
	}
}
