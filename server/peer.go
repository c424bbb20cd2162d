package server

import (
	"crypto/tls"
	"fmt"

	"github.com/raftlock/raftlock/consensus/transport"
)

// loadTLS reads the peer certificates when mutual TLS is configured; both
// configs are nil otherwise (h2c).
func (n *Node) loadTLS() (serverTLS, clientTLS *tls.Config, err error) {
	if !n.cfg.TLS() {
		return nil, nil, nil
	}
	serverTLS, clientTLS, err = transport.LoadTLS(n.cfg.PeerCertFile, n.cfg.PeerKeyFile, n.cfg.PeerTrustedCAFile)
	if err != nil {
		return nil, nil, fmt.Errorf("server: peer TLS: %w", err)
	}
	return serverTLS, clientTLS, nil
}
