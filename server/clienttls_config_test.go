// This test proves Config.Validate's rules for client-listener TLS: the
// certificate and key come together, a client CA needs them, the reload
// interval is not negative, and with TLS the advertised client URL is https
// (derived, or refused when given as http).
package server_test

import (
	"errors"
	"testing"
	"time"

	"github.com/raftlock/raftlock/server"
)

func TestConfigClientTLS(t *testing.T) {
	for _, tc := range []struct {
		name          string
		mod           func(*server.Config)
		wantErr       bool
		wantAdvertise string
	}{
		{"no TLS", func(*server.Config) {}, false, "http://127.0.0.1:7070"},
		{"cert and key", func(c *server.Config) { c.CertFile, c.KeyFile = "c.pem", "k.pem" }, false, "https://127.0.0.1:7070"},
		{"cert, key and client CA", func(c *server.Config) { c.CertFile, c.KeyFile, c.ClientCAFile = "c.pem", "k.pem", "ca.pem" }, false, "https://127.0.0.1:7070"},
		{"cert without key", func(c *server.Config) { c.CertFile = "c.pem" }, true, ""},
		{"key without cert", func(c *server.Config) { c.KeyFile = "k.pem" }, true, ""},
		{"client CA without cert", func(c *server.Config) { c.ClientCAFile = "ca.pem" }, true, ""},
		{"http advertised with TLS", func(c *server.Config) {
			c.CertFile, c.KeyFile, c.AdvertiseClientURL = "c.pem", "k.pem", "http://10.0.0.1:7070"
		}, true, ""},
		{"https advertised with TLS", func(c *server.Config) {
			c.CertFile, c.KeyFile, c.AdvertiseClientURL = "c.pem", "k.pem", "https://lock.example:443"
		}, false, "https://lock.example:443"},
		{"reload interval set", func(c *server.Config) { c.CertReloadInterval = time.Second }, false, "http://127.0.0.1:7070"},
		{"negative reload interval", func(c *server.Config) { c.CertReloadInterval = -time.Second }, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := server.DefaultConfig()
			tc.mod(&cfg)
			err := cfg.Validate()
			if tc.wantErr {
				if !errors.Is(err, server.ErrInvalidConfig) {
					t.Errorf("Validate(%q) = %v; want ErrInvalidConfig", tc.name, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate(%q) = %v; want nil", tc.name, err)
			}
			if cfg.AdvertiseClientURL != tc.wantAdvertise {
				t.Errorf("Validate(%q): AdvertiseClientURL = %q; want %q", tc.name, cfg.AdvertiseClientURL, tc.wantAdvertise)
			}
		})
	}
}
