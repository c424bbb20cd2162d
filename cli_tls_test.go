// These tests prove the TLS settings of the command line: serve's
// --cert-file, --key-file, --client-ca-file and --cert-reload-interval
// (and their RAFTLOCK_* variables) reach the config; the client commands'
// --cacert, --cert and --key win over RAFTLOCK_CACERT, RAFTLOCK_CERT and
// RAFTLOCK_KEY; a client command reaches a node over https that requires a
// client certificate; and SIGHUP makes serve reload, logging a failure at
// Error.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/raftlock/raftlock/server"
	"github.com/raftlock/raftlock/server/servertest"
)

func TestServeTLSFlags(t *testing.T) {
	for _, tc := range []struct {
		name          string
		args          []string
		env           map[string]string
		wantCert      string
		wantCA        string
		wantInterval  time.Duration
		wantAdvertise string
	}{
		{"none", nil, nil, "", "", server.DefaultCertReloadInterval, "http://127.0.0.1:7070"},
		{"flags", []string{"--cert-file", "c.pem", "--key-file", "k.pem", "--client-ca-file", "ca.pem", "--cert-reload-interval", "1m"}, nil,
			"c.pem", "ca.pem", time.Minute, "https://127.0.0.1:7070"},
		{"env", nil, map[string]string{"RAFTLOCK_CERT_FILE": "e.pem", "RAFTLOCK_KEY_FILE": "ek.pem", "RAFTLOCK_CERT_RELOAD_INTERVAL": "2s"},
			"e.pem", "", 2 * time.Second, "https://127.0.0.1:7070"},
		{"flag over env", []string{"--cert-file", "f.pem"}, map[string]string{"RAFTLOCK_CERT_FILE": "e.pem", "RAFTLOCK_KEY_FILE": "ek.pem"},
			"f.pem", "", server.DefaultCertReloadInterval, "https://127.0.0.1:7070"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseServe(tc.args, envOf(tc.env), io.Discard)
			if err != nil {
				t.Fatalf("parseServe(%q) = %v; want nil", tc.args, err)
			}
			if cfg.CertFile != tc.wantCert || cfg.ClientCAFile != tc.wantCA || cfg.CertReloadInterval != tc.wantInterval || cfg.AdvertiseClientURL != tc.wantAdvertise {
				t.Errorf("parseServe(%q) = cert %q, client CA %q, interval %v, advertise %q; want %q, %q, %v, %q", tc.args,
					cfg.CertFile, cfg.ClientCAFile, cfg.CertReloadInterval, cfg.AdvertiseClientURL, tc.wantCert, tc.wantCA, tc.wantInterval, tc.wantAdvertise)
			}
		})
	}
	for _, args := range [][]string{
		{"--cert-file", "c.pem"},
		{"--key-file", "k.pem"},
		{"--client-ca-file", "ca.pem"},
		{"--cert-reload-interval", "-1s"},
	} {
		if _, err := parseServe(args, envOf(nil), io.Discard); !errors.Is(err, server.ErrInvalidConfig) {
			t.Errorf("parseServe(%q) = %v; want ErrInvalidConfig", args, err)
		}
	}
}

func TestClientTLSFlags(t *testing.T) {
	env := map[string]string{envCACert: "env-ca.pem", envCert: "env.pem", envKey: "env-key.pem"}
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		want    tlsFlags
		wantErr bool
	}{
		{"default", nil, nil, tlsFlags{}, false},
		{"env", nil, env, tlsFlags{"env-ca.pem", "env.pem", "env-key.pem"}, false},
		{"flags", []string{"--cacert", "ca.pem", "--cert", "c.pem", "--key", "k.pem"}, nil, tlsFlags{"ca.pem", "c.pem", "k.pem"}, false},
		{"flag over env", []string{"--cacert", "ca.pem"}, env, tlsFlags{"ca.pem", "env.pem", "env-key.pem"}, false},
		{"cert without key", []string{"--cert", "c.pem"}, nil, tlsFlags{"", "c.pem", ""}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFlagSet("status", "status", "", cliIO{stderr: io.Discard})
			cf := addCommonFlags(fs, envOf(tc.env), true)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatalf("Parse(%q) = %v; want nil", tc.args, err)
			}
			if *cf.tls != tc.want {
				t.Errorf("TLS flags of %q with env %v = %+v; want %+v", tc.args, tc.env, *cf.tls, tc.want)
			}
			if err := cf.check(); errors.Is(err, errUsage) != tc.wantErr {
				t.Errorf("check() of %q = %v; want a usage error %v", tc.args, err, tc.wantErr)
			}
		})
	}
}

// writeCert writes a certificate for 127.0.0.1 signed by ca (a self-signed
// CA when ca is nil) and its key; it returns the parsed certificate, the key
// and the two paths.
func writeCert(t *testing.T, dir, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	if ca == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
		ca, caKey = tmpl, key
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	for path, b := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(path, pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return cert, key, certFile, keyFile
}

// startTLSNode runs a one-node cluster whose client listener serves https
// and requires a client certificate signed by the same CA; it returns the
// node's URL and the files of the CA and of a client certificate.
func startTLSNode(t *testing.T) (url, caFile, certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	ca, caKey, caFile, _ := writeCert(t, dir, "ca", nil, nil)
	_, _, nodeCert, nodeKey := writeCert(t, dir, "node", ca, caKey)
	_, _, certFile, keyFile = writeCert(t, dir, "client", ca, caKey)
	clientLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	peerLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.ClientAddr, cfg.PeerAddr = clientLn.Addr().String(), peerLn.Addr().String()
	cfg.HeartbeatInterval, cfg.ElectionTimeout = servertest.DefaultHeartbeatInterval, servertest.DefaultElectionTimeout
	cfg.CertFile, cfg.KeyFile, cfg.ClientCAFile = nodeCert, nodeKey, caFile
	node, err := server.New(cfg, server.Options{
		Logger: zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)), ClientListener: clientLn, PeerListener: peerLn,
	})
	if err != nil {
		t.Fatalf("server.New() = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// Exits when the cleanup cancels ctx.
	go func() { done <- node.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v", err)
		}
	})
	wctx, wcancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer wcancel()
	if err := servertest.WaitUntil(wctx, func() bool {
		st := node.Status()
		return st.Lead == node.ID() && st.Commit > 0 && st.Applied >= st.Commit
	}); err != nil {
		t.Fatalf("node never led: %v", err)
	}
	return node.ClientURL(), caFile, certFile, keyFile
}

func TestCLIOverHTTPS(t *testing.T) {
	url, caFile, certFile, keyFile := startTLSNode(t)
	for _, tc := range []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
	}{
		{"flags", []string{"acquire", "flags", "--ttl", "10s", "--cacert", caFile, "--cert", certFile, "--key", keyFile}, nil, exitOK},
		{"env", []string{"acquire", "env", "--ttl", "10s"}, map[string]string{envCACert: caFile, envCert: certFile, envKey: keyFile}, exitOK},
		{"status", []string{"status", "--cacert", caFile, "--cert", certFile, "--key", keyFile}, nil, exitOK},
		{"no client certificate", []string{"status", "--cacert", caFile}, nil, exitError},
		{"no CA", []string{"status", "--cert", certFile, "--key", keyFile}, nil, exitError},
		{"missing CA file", []string{"status", "--cacert", caFile + ".none"}, nil, exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{envEndpoints: url}
			for k, v := range tc.env {
				env[k] = v
			}
			cio, out, errb, _ := testIO(env)
			if code := runClient(tc.args[0], tc.args[1:], cio); code != tc.wantCode {
				t.Errorf("raftlock %s = %d (stdout %q, stderr %q); want %d", strings.Join(tc.args, " "), code, out, errb, tc.wantCode)
			}
		})
	}
}

func TestWatchHangups(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	sigs := make(chan os.Signal)
	calls := make(chan struct{})
	errs := []error{nil, errors.New("bad certificate file")}
	i := 0
	stop := watchHangups(sigs, func() error {
		err := errs[i]
		i++
		calls <- struct{}{}
		return err
	}, zap.New(core))
	var once sync.Once
	defer once.Do(stop)
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	for range errs {
		select {
		case sigs <- syscall.SIGHUP:
		case <-ctx.Done():
			t.Fatal("the watcher never took the SIGHUP")
		}
		select {
		case <-calls:
		case <-ctx.Done():
			t.Fatal("SIGHUP did not reload")
		}
	}
	once.Do(stop) // the watcher has logged before stop returns
	failed := logs.FilterMessageSnippet("certificate reload failed").All()
	if len(failed) != 1 || failed[0].Level != zapcore.ErrorLevel {
		t.Errorf("reload failures logged = %v; want one line at error", failed)
	}
}
