// This test proves the Go SDK against a 3-node cluster whose client
// listeners serve https and require client certificates, configured only
// with client.Config's CA file, certificate and key: through a follower it
// takes a session and a mutex, learns the leader's https URL from
// X-Raftlock-Leader, and a client without the certificate is refused.
package server_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftlock/raftlock/client"
	"github.com/raftlock/raftlock/server"
)

func TestSDKOverMutualTLS(t *testing.T) {
	ctx := testContext(t)
	ca := newTestCA(t, "raftlock test CA")
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	writePair(t, p("node.pem"), p("node-key.pem"), ca.issue(t, 10, "node"))
	writePair(t, p("client.pem"), p("client-key.pem"), ca.issue(t, 11, "sdk"))
	writeFile(t, p("ca.pem"), ca.pem)
	c := startTLSCluster(t, 3, nil, func(cfg *server.Config) {
		cfg.CertFile, cfg.KeyFile, cfg.ClientCAFile = p("node.pem"), p("node-key.pem"), p("ca.pem")
	})
	leader := c.waitLeader(ctx)
	follower := c.nodes[(leader+1)%3].ClientURL()

	cl, err := client.New(client.Config{Endpoints: []string{follower}, CAFile: p("ca.pem"), CertFile: p("client.pem"), KeyFile: p("client-key.pem")})
	if err != nil {
		t.Fatalf("client.New() = %v", err)
	}
	defer cl.Close()
	s, err := client.NewSession(ctx, cl, client.WithTTL(5*time.Second))
	if err != nil {
		t.Fatalf("NewSession() over https = %v", err)
	}
	defer s.Close()
	tok, err := client.NewMutex(s, "sdk-tls").Lock(ctx)
	if err != nil {
		t.Fatalf("Lock() over https = %v", err)
	}
	if ok, err := cl.Fence(ctx, "sdk-tls", tok); err != nil || !ok {
		t.Errorf("Fence(%d) = %t, %v; want valid", tok, ok, err)
	}
	if eps := cl.Endpoints(); eps[0] != c.nodes[leader].ClientURL() || !strings.HasPrefix(eps[0], "https://") {
		t.Errorf("Endpoints() = %q; want the leader's https URL %s first", eps, c.nodes[leader].ClientURL())
	}

	anon, err := client.New(client.Config{Endpoints: []string{follower}, CAFile: p("ca.pem"), Timeout: time.Second})
	if err != nil {
		t.Fatalf("client.New() without a certificate = %v", err)
	}
	defer anon.Close()
	var ce *client.Error
	if _, err := anon.Cluster(ctx); err == nil || errors.As(err, &ce) {
		t.Errorf("Cluster() without a client certificate = %v; want the handshake refused", err)
	}
}
