package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"

	"go.uber.org/zap"

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

// peerServer serves the transport's handler over HTTP/2: h2c, or h2 over
// mutual TLS when serverTLS is set (servePeers then uses ServeTLS, which
// negotiates h2 by ALPN). Raft messages tolerate loss, so shutdown closes it
// at once rather than draining.
func (n *Node) peerServer(serverTLS *tls.Config) *http.Server {
	var protos http.Protocols
	srv := &http.Server{
		Handler:           n.peerHandler(),
		ReadHeaderTimeout: ReadHeaderTimeout,
		Protocols:         &protos,
		ErrorLog:          zap.NewStdLog(n.log.Named("peer_http").WithOptions(zap.IncreaseLevel(zap.WarnLevel))),
	}
	if serverTLS == nil {
		protos.SetUnencryptedHTTP2(true)
		return srv
	}
	protos.SetHTTP2(true)
	srv.TLSConfig = serverTLS.Clone()
	return srv
}

// servePeers serves the peer listener until the server is closed.
func (n *Node) servePeers() error {
	var err error
	if n.peer.TLSConfig != nil {
		err = n.peer.ServeTLS(n.peerLn, "", "")
	} else {
		err = n.peer.Serve(n.peerLn)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
