package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"go.uber.org/zap"
)

// Serve serves peers on ln until ctx is cancelled or the Transport is
// closed, then shuts the server down (gracefully, within ShutdownTimeout) and
// returns nil. With Options.TLS it speaks HTTP/2 over TLS, else h2c; HTTP/1.1
// is accepted too, for debugging with curl. It closes ln.
func (t *Transport) Serve(ctx context.Context, ln net.Listener) error {
	var protos http.Protocols
	protos.SetHTTP1(true)
	if t.opts.TLS != nil {
		protos.SetHTTP2(true)
	} else {
		protos.SetUnencryptedHTTP2(true)
	}
	srv := &http.Server{
		Handler:           t.Handler(),
		Protocols:         &protos,
		ReadHeaderTimeout: ServerReadHeaderTimeout,
		ReadTimeout:       ServerReadTimeout,
		IdleTimeout:       ServerIdleTimeout,
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams:          ServerStreamsMax,
			MaxReceiveBufferPerConnection: ReceiveWindowBytes,
			MaxReceiveBufferPerStream:     ReceiveWindowBytes,
		},
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	// The server's own errors (a failed handshake, a broken connection) are
	// Debug: the sending peer warns about the same failure, rate-limited,
	// and a port scanner must not flood the log.
	errLog, err := zap.NewStdLogAt(t.log, zap.DebugLevel)
	assertf(err == nil, "std log at debug level: %v", err) // fails only for an invalid level
	srv.ErrorLog = errLog
	if t.opts.TLS != nil {
		srv.TLSConfig = t.opts.TLS.Clone()
	}
	errc := make(chan error, 1)
	// Exits when srv is shut down or closed below, or ln fails.
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	t.log.Info("serving peers", zap.String("addr", ln.Addr().String()), zap.Bool("tls", t.opts.TLS != nil))
	select {
	case err := <-errc:
		return fmt.Errorf("transport: serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	case <-t.closed:
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		t.log.Warn("peer server shutdown timed out, closing", zap.Error(err))
		if err := srv.Close(); err != nil {
			t.log.Warn("peer server close", zap.Error(err))
		}
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("transport: serve %s: %w", ln.Addr(), err)
	}
	return nil
}
