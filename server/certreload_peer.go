package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
)

// peerDialTLS is the config a node dials its peers with: Raft messages,
// snapshots, forwarded client requests and member lookups. It presents the
// peer certificate loaded now (GetClientCertificate) and verifies the peer's
// certificate against the peer CA loaded now.
//
// A tls.Config's RootCAs is fixed once the transport has cloned the config,
// so a reloadable CA cannot be given there: crypto/tls's own verification is
// turned off (InsecureSkipVerify) and VerifyConnection does the same checks
// itself, for every handshake including resumed ones. It is never off: a
// connection whose certificate does not verify fails its handshake. hosts
// returns the peer hosts of the members known at the handshake (the
// membership changes at run time).
func peerDialTLS(cert *certFiles, ca *caFile, hosts func() []string) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return cert.get(), nil
		},
		InsecureSkipVerify: true, // Verified by VerifyConnection, see above.
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyPeerServer(cs, ca.get(), hosts())
		},
	}
}

// memberHosts are the hosts of the members' peer URLs.
func memberHosts(members []Member) []string {
	hosts := make([]string, 0, len(members))
	for _, m := range members {
		if u, err := url.Parse(m.PeerURL); err == nil {
			hosts = append(hosts, u.Hostname())
		}
	}
	return hosts
}

// verifyPeerServer checks the certificate a peer listener presented: a chain
// to roots for server authentication, valid for the name dialed. crypto/tls
// reports an IP address dialed as an empty ServerName (IPs are not sent in
// SNI), so then the certificate must be valid for the host of some member's
// peer URL: a certificate of the same CA issued for anything else is refused.
func verifyPeerServer(cs tls.ConnectionState, roots *x509.CertPool, hosts []string) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("server: peer presented no certificate")
	}
	leaf := cs.PeerCertificates[0]
	opts := x509.VerifyOptions{
		Roots:         roots,
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := leaf.Verify(opts); err != nil {
		return fmt.Errorf("server: peer certificate %q: %w", leaf.Subject.CommonName, err)
	}
	if cs.ServerName != "" {
		if err := leaf.VerifyHostname(cs.ServerName); err != nil {
			return fmt.Errorf("server: peer certificate %q: %w", leaf.Subject.CommonName, err)
		}
		return nil
	}
	for _, h := range hosts {
		if leaf.VerifyHostname(h) == nil {
			return nil
		}
	}
	return fmt.Errorf("server: peer certificate %q is valid for none of the member hosts %q", leaf.Subject.CommonName, hosts)
}
