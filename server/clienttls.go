package server

import (
	"crypto/tls"
	"fmt"
	"net/url"
	"time"
)

// Client listener TLS (--cert-file, --key-file, --client-ca-file). The
// listener is wrapped in a TLS listener whose config is built at every
// handshake from the certificate and CA currently loaded, so a reload takes
// effect on the next connection. It negotiates h2 or HTTP/1.1 by ALPN; a
// plain-HTTP request on it gets Go's 400 "client sent an HTTP request to an
// HTTPS server" and is never served.

// ClientTLSMinVersion is the oldest TLS version the client listener accepts:
// 1.2 still serves curl and load balancers built against older libraries.
// Peers speak 1.3 only.
const ClientTLSMinVersion = tls.VersionTLS12

// clientALPN are the protocols the client listener offers.
var clientALPN = []string{"h2", "http/1.1"}

// ClientTLS reports whether the client listener serves TLS.
func (c *Config) ClientTLS() bool { return c.CertFile != "" }

// ClientAuth reports whether the client listener requires a client
// certificate.
func (c *Config) ClientAuth() bool { return c.ClientCAFile != "" }

func (c *Config) clientScheme() string {
	if c.ClientTLS() {
		return "https"
	}
	return "http"
}

// certReloadInterval is CertReloadInterval with the default for 0.
func (c *Config) certReloadInterval() time.Duration {
	if c.CertReloadInterval == 0 {
		return DefaultCertReloadInterval
	}
	return c.CertReloadInterval
}

func (c *Config) validateClientTLS() error {
	if (c.CertFile == "") != (c.KeyFile == "") {
		return invalidf("client TLS needs cert-file and key-file together; cert-file %q, key-file %q", c.CertFile, c.KeyFile)
	}
	if c.ClientCAFile != "" && c.CertFile == "" {
		return invalidf("client-ca-file %q needs cert-file and key-file: client certificates are verified over TLS", c.ClientCAFile)
	}
	if c.CertReloadInterval < 0 {
		return invalidf("cert-reload-interval is %v; want a positive duration, or 0 for %v", c.CertReloadInterval, DefaultCertReloadInterval)
	}
	return nil
}

// validateClientURL checks the advertised client URL; with client TLS on it
// must be https, as clients learn it from X-Raftlock-Leader and /v1/cluster.
func validateClientURL(raw string, tlsOn bool) error {
	if tlsOn {
		if u, err := url.Parse(raw); err == nil && u.Scheme != "https" {
			return invalidf("advertise-client-url %q: scheme %q, want %q (client TLS is on)", raw, u.Scheme, "https")
		}
	}
	return validateURL("advertise-client-url", raw, "")
}

// setupTLS loads every configured certificate, key and CA into n.certs,
// wraps the client listener in TLS when it is configured, and returns the
// peer configs (both nil without peer TLS: h2c).
func (n *Node) setupTLS() (peerServer, peerClient *tls.Config, err error) {
	n.certs = newCertReloader(n.log.Named("certs"), n.cfg.certReloadInterval())
	if n.cfg.ClientTLS() {
		cfg, err := n.clientListenerTLS()
		if err != nil {
			return nil, nil, err
		}
		n.clientLn = tls.NewListener(n.clientLn, cfg)
	}
	if !n.cfg.TLS() {
		return nil, nil, nil
	}
	return n.peerTLS()
}

// clientListenerTLS loads the client listener's certificate (and client CA)
// and returns the listener's config.
func (n *Node) clientListenerTLS() (*tls.Config, error) {
	cert := &certFiles{what: "client listener certificate", certFile: n.cfg.CertFile, keyFile: n.cfg.KeyFile}
	if err := n.certs.add(cert); err != nil {
		return nil, err
	}
	var ca *caFile
	if n.cfg.ClientAuth() {
		ca = &caFile{what: "client CA", file: n.cfg.ClientCAFile}
		if err := n.certs.add(ca); err != nil {
			return nil, err
		}
	}
	return &tls.Config{
		MinVersion: ClientTLSMinVersion,
		NextProtos: clientALPN,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			cfg := &tls.Config{
				MinVersion:   ClientTLSMinVersion,
				NextProtos:   clientALPN,
				Certificates: []tls.Certificate{*cert.get()},
			}
			if ca != nil {
				cfg.ClientCAs = ca.get()
				cfg.ClientAuth = tls.RequireAndVerifyClientCert
			}
			return cfg, nil
		},
	}, nil
}

// peerALPN is what the peer listener offers: it serves HTTP/2 only.
var peerALPN = []string{"h2"}

// peerTLS loads the peer certificate and CA and returns the peer listener's
// and the peer dialer's configs, which read them at every handshake.
func (n *Node) peerTLS() (server, client *tls.Config, err error) {
	cert := &certFiles{what: "peer certificate", certFile: n.cfg.PeerCertFile, keyFile: n.cfg.PeerKeyFile}
	ca := &caFile{what: "peer trusted CA", file: n.cfg.PeerTrustedCAFile}
	for _, r := range []reloadable{cert, ca} {
		if err := n.certs.add(r); err != nil {
			return nil, nil, fmt.Errorf("server: peer TLS: %w", err)
		}
	}
	server = &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return &tls.Config{
				MinVersion:   tls.VersionTLS13,
				NextProtos:   peerALPN,
				Certificates: []tls.Certificate{*cert.get()},
				ClientCAs:    ca.get(),
				ClientAuth:   tls.RequireAndVerifyClientCert,
			}, nil
		},
	}
	client = peerDialTLS(cert, ca, n.peerHosts)
	return server, client, nil
}

// peerHosts are the hosts of the peer URLs of the members this node knows:
// those it started with and those of the membership it applied last.
func (n *Node) peerHosts() []string {
	members := n.initial
	if d := n.directory(); d != nil {
		members = append(append([]Member(nil), members...), d.members...)
	}
	return memberHosts(members)
}
