package client

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// tlsConfig is the TLS config of cfg's https endpoints: cfg.TLS (copied, so
// the caller's stays untouched) with the roots of CAFile and the client
// certificate of CertFile and KeyFile. Without files it is cfg.TLS as given.
func tlsConfig(cfg Config) (*tls.Config, error) {
	if cfg.CAFile == "" && cfg.CertFile == "" && cfg.KeyFile == "" {
		return cfg.TLS, nil
	}
	if (cfg.CertFile == "") != (cfg.KeyFile == "") {
		return nil, fmt.Errorf("client: client certificate %q and key %q: give both or neither: %w", cfg.CertFile, cfg.KeyFile, ErrInvalidArgument)
	}
	out := &tls.Config{}
	if cfg.TLS != nil {
		out = cfg.TLS.Clone()
	}
	if cfg.CAFile != "" {
		pemBytes, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("client: CA file: %w: %w", err, ErrInvalidArgument)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("client: CA file %s holds no PEM certificate: %w", cfg.CAFile, ErrInvalidArgument)
		}
		out.RootCAs = pool
	}
	if cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("client: client certificate %s with key %s: %w: %w", cfg.CertFile, cfg.KeyFile, err, ErrInvalidArgument)
		}
		out.Certificates = []tls.Certificate{cert}
	}
	return out, nil
}
