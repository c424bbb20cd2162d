// This test proves Config.CAFile, CertFile and KeyFile against an https
// server that requires a client certificate: the CA file is what the server
// is verified with, the certificate is presented, and files that cannot be
// used are refused by New with ErrInvalidArgument. Certificates are
// generated here with crypto/x509.
package client

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

// testPEM is a certificate and its key, parsed and in PEM.
type testPEM struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
	keyPEM  []byte
}

// newTestCert signs a certificate with parent (self-signed CA when nil).
func newTestCert(t *testing.T, parent *testPEM, serial int64) *testPEM {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "raftlock test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	signer, signerKey := tmpl, key
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &testPEM{
		cert: cert, key: key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}
}

func writeTestFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTLSFiles(t *testing.T) {
	ctx := testContext(t)
	ca := newTestCert(t, nil, 1)
	serverCert := newTestCert(t, ca, 2)
	clientCert := newTestCert(t, ca, 3)
	other := newTestCert(t, nil, 4)
	dir := t.TempDir()
	caFile := writeTestFile(t, dir, "ca.pem", ca.certPEM)
	otherCA := writeTestFile(t, dir, "other-ca.pem", other.certPEM)
	certFile := writeTestFile(t, dir, "client.pem", clientCert.certPEM)
	keyFile := writeTestFile(t, dir, "client-key.pem", clientCert.keyPEM)
	wrongKey := writeTestFile(t, dir, "wrong-key.pem", serverCert.keyPEM)
	garbage := writeTestFile(t, dir, "garbage.pem", []byte("not pem"))

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeAnswer(w, ok(wire.Cluster{ID: "mtls"}))
	}))
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	srvCert, err := tls.X509KeyPair(serverCert.certPEM, serverCert.keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)

	for _, tc := range []struct {
		name string
		cfg  Config
		// wantNewErr: New refuses the files with ErrInvalidArgument.
		wantNewErr bool
		wantOK     bool
	}{
		{"CA, certificate and key", Config{CAFile: caFile, CertFile: certFile, KeyFile: keyFile}, false, true},
		{"CA file over TLS roots", Config{TLS: &tls.Config{RootCAs: x509.NewCertPool()}, CAFile: caFile, CertFile: certFile, KeyFile: keyFile}, false, true},
		{"no client certificate", Config{CAFile: caFile}, false, false},
		{"another CA", Config{CAFile: otherCA, CertFile: certFile, KeyFile: keyFile}, false, false},
		{"certificate without key", Config{CAFile: caFile, CertFile: certFile}, true, false},
		{"key without certificate", Config{CAFile: caFile, KeyFile: keyFile}, true, false},
		{"key of another certificate", Config{CAFile: caFile, CertFile: certFile, KeyFile: wrongKey}, true, false},
		{"missing CA file", Config{CAFile: filepath.Join(dir, "none.pem")}, true, false},
		{"CA file without PEM", Config{CAFile: garbage}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Endpoints = []string{srv.URL}
			c, err := New(cfg)
			if tc.wantNewErr {
				if !errors.Is(err, ErrInvalidArgument) {
					t.Fatalf("New(%q) = %v; want ErrInvalidArgument", tc.name, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%q) = %v; want nil", tc.name, err)
			}
			defer c.Close()
			got, err := c.Cluster(ctx)
			if tc.wantOK && (err != nil || got.ID != "mtls") {
				t.Fatalf("Cluster() with %s = %+v, %v; want id %q", tc.name, got, err, "mtls")
			}
			if !tc.wantOK && err == nil {
				t.Fatalf("Cluster() with %s = %+v; want a TLS error", tc.name, got)
			}
			if tc.cfg.TLS != nil && len(tc.cfg.TLS.Certificates) != 0 {
				t.Errorf("New(%q) changed the caller's TLS config", tc.name)
			}
		})
	}
}
