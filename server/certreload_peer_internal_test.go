// This test proves the verification a node applies to the certificate of a
// peer it dials (its own, since crypto/tls's is off to let the CA reload): a
// chain to the peer CA for server authentication, valid for the DNS name
// dialed, or, for an IP dialed (no SNI), for some member's peer host.
package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"
)

// signCert returns a certificate for ips and dns with extended key usage
// eku, signed by parent (self-signed CA when parent is nil).
func signCert(t *testing.T, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, isCA bool, ips []string, dns []string, eku x509.ExtKeyUsage) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  isCA,
		BasicConstraintsValid: isCA,
		DNSNames:              dns,
	}
	if isCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{eku}
	}
	for _, ip := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func TestVerifyPeerServer(t *testing.T) {
	ca, caKey := signCert(t, nil, nil, true, nil, nil, 0)
	other, otherKey := signCert(t, nil, nil, true, nil, nil, 0)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	member, _ := signCert(t, ca, caKey, false, []string{"10.0.0.2"}, []string{"n2.example"}, x509.ExtKeyUsageServerAuth)
	stranger, _ := signCert(t, ca, caKey, false, []string{"10.9.9.9"}, []string{"evil.example"}, x509.ExtKeyUsageServerAuth)
	clientOnly, _ := signCert(t, ca, caKey, false, []string{"10.0.0.2"}, nil, x509.ExtKeyUsageClientAuth)
	foreign, _ := signCert(t, other, otherKey, false, []string{"10.0.0.2"}, nil, x509.ExtKeyUsageServerAuth)
	hosts := memberHosts([]Member{
		{Name: "n1", PeerURL: "https://10.0.0.1:7071"},
		{Name: "n2", PeerURL: "https://10.0.0.2:7071"},
		{Name: "n3", PeerURL: "https://n3.example:7071"},
	})
	for _, tc := range []struct {
		name       string
		cert       *x509.Certificate
		serverName string
		wantOK     bool
	}{
		{"member IP, no SNI", member, "", true},
		{"member DNS name", member, "n2.example", true},
		{"other DNS name", member, "n3.example", false},
		{"same CA, not a member host", stranger, "", false},
		{"client-only usage", clientOnly, "", false},
		{"another CA", foreign, "", false},
		{"no certificate", nil, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := tls.ConnectionState{ServerName: tc.serverName}
			if tc.cert != nil {
				cs.PeerCertificates = []*x509.Certificate{tc.cert}
			}
			err := verifyPeerServer(cs, pool, hosts)
			if (err == nil) != tc.wantOK {
				t.Errorf("verifyPeerServer(%q) = %v; want ok %v", tc.name, err, tc.wantOK)
			}
		})
	}
}
