package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Certificate reload. Every certificate, key and CA a node serves or dials
// with is read through a certFiles or a caFile, which hold the parsed value
// behind an atomic pointer; the tls.Configs read it in their callbacks
// (GetCertificate, GetConfigForClient, GetClientCertificate,
// VerifyConnection) at every handshake, so a reload changes the next
// handshake and leaves established connections alone. A reload that fails
// (a file missing, unparsable, a key that does not match its certificate)
// keeps the old value in use.

// fileStamp is what the watcher compares to notice a changed file: its
// modification time and size, or the error of stat.
type fileStamp struct {
	modTime time.Time
	size    int64
	missing bool
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{missing: true}
	}
	return fileStamp{modTime: fi.ModTime(), size: fi.Size()}
}

// certFiles is a certificate and its key read from two PEM files.
type certFiles struct {
	what     string // "client listener certificate", "peer certificate"
	certFile string
	keyFile  string
	cur      atomic.Pointer[tls.Certificate]
}

func (cf *certFiles) files() []string { return []string{cf.certFile, cf.keyFile} }

// load parses both files and, when they make a valid pair, replaces the
// certificate in use.
func (cf *certFiles) load() ([]zap.Field, error) {
	cert, err := tls.LoadX509KeyPair(cf.certFile, cf.keyFile)
	if err != nil {
		return nil, fmt.Errorf("server: %s %s with key %s: %w", cf.what, cf.certFile, cf.keyFile, err)
	}
	// Since Go 1.23 LoadX509KeyPair fills Leaf.
	assertf(cert.Leaf != nil, "LoadX509KeyPair(%s) left Leaf nil", cf.certFile)
	cf.cur.Store(&cert)
	return []zap.Field{
		zap.String("serial", strings.ToUpper(cert.Leaf.SerialNumber.Text(16))), // as openssl prints it
		zap.Time("not_after", cert.Leaf.NotAfter),
	}, nil
}

// get is the certificate in use; load has succeeded before the first call.
func (cf *certFiles) get() *tls.Certificate {
	cert := cf.cur.Load()
	assertf(cert != nil, "%s used before it was loaded", cf.what)
	return cert
}

// caFile is a pool of CA certificates read from one PEM file.
type caFile struct {
	what string // "client CA", "peer trusted CA"
	file string
	cur  atomic.Pointer[x509.CertPool]
}

func (ca *caFile) files() []string { return []string{ca.file} }

func (ca *caFile) load() ([]zap.Field, error) {
	pemBytes, err := os.ReadFile(ca.file)
	if err != nil {
		return nil, fmt.Errorf("server: %s: %w", ca.what, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("server: %s %s holds no PEM certificate", ca.what, ca.file)
	}
	ca.cur.Store(pool)
	return nil, nil
}

func (ca *caFile) get() *x509.CertPool {
	pool := ca.cur.Load()
	assertf(pool != nil, "%s used before it was loaded", ca.what)
	return pool
}

// reloadable is a certFiles or a caFile.
type reloadable interface {
	files() []string
	// load reads the files and replaces the value in use when they are
	// valid; the fields describe what was loaded, for the log.
	load() ([]zap.Field, error)
}

// watched is one reloadable and the stamps of its files when it was last
// loaded (or last failed to load, so a bad file is reported once per change).
type watched struct {
	r    reloadable
	seen []fileStamp
}

// certReloader reloads every TLS file of a node, when asked (SIGHUP) and
// when a file changes.
type certReloader struct {
	log      *zap.Logger
	interval time.Duration

	// mu serializes reloads (the watcher and ReloadCertificates).
	mu    sync.Mutex
	items []*watched
}

func newCertReloader(log *zap.Logger, interval time.Duration) *certReloader {
	return &certReloader{log: log, interval: interval}
}

// add loads r for the first time and watches it from now on.
func (cr *certReloader) add(r reloadable) error {
	w := &watched{r: r, seen: stamps(r.files())}
	if _, err := r.load(); err != nil {
		return err
	}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	cr.items = append(cr.items, w)
	return nil
}

func stamps(files []string) []fileStamp {
	out := make([]fileStamp, len(files))
	for i, f := range files {
		out[i] = stampOf(f)
	}
	return out
}

// reload loads every item (only the changed ones unless all) and returns the
// errors of those that failed; they keep their old value.
func (cr *certReloader) reload(all bool) error {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	var errs []error
	for _, w := range cr.items {
		now := stamps(w.r.files())
		if !all && slices.Equal(now, w.seen) {
			continue
		}
		w.seen = now
		fields, err := w.r.load()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cr.log.Info("certificate reloaded", append(fields, zap.Strings("files", w.r.files()))...)
	}
	return errors.Join(errs...)
}

// watch polls the files every interval until ctx ends and reloads those that
// changed; a failed reload is logged at Error, as a human must fix the file.
func (cr *certReloader) watch(ctx context.Context) {
	t := time.NewTicker(cr.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := cr.reload(false); err != nil {
			cr.log.Error("certificate reload failed; the previous certificate stays in use", zap.Error(err))
		}
	}
}

// empty reports whether no TLS file is configured.
func (cr *certReloader) empty() bool {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return len(cr.items) == 0
}

// ReloadCertificates reads every configured certificate, key and CA file
// again (client listener and peer) and uses them for new handshakes;
// established connections keep theirs. A file that fails to load (missing,
// unparsable, a key that does not match its certificate) keeps the old one in
// use, and the error names it. `raftlock serve` calls it on SIGHUP; the node
// also reloads a changed file on its own every Config.CertReloadInterval.
func (n *Node) ReloadCertificates() error {
	return n.certs.reload(true)
}

// watchCertificates runs the file watcher until ctx ends; it returns at once
// when the node has no TLS.
func (n *Node) watchCertificates(ctx context.Context) {
	if n.certs.empty() {
		return
	}
	n.certs.watch(ctx)
}
