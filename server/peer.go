package server

import (
	"crypto/tls"
	"errors"
	"net/http"

	"go.uber.org/zap"
)

// peerServer serves the transport's handler over HTTP/2: h2c, or h2 over
// mutual TLS when serverTLS is set (servePeers then uses ServeTLS, which
// negotiates h2 by ALPN). Raft messages tolerate loss, so shutdown closes it
// at once rather than draining.
func (n *Node) peerServer(serverTLS *tls.Config) *http.Server {
	var protos http.Protocols
	srv := &http.Server{
		Handler:           n.peerHandler(),
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       PeerReadTimeout,
		IdleTimeout:       PeerIdleTimeout,
		MaxHeaderBytes:    PeerHeaderBytesMax,
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
