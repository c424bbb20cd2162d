package main

import (
	"flag"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/raftlock/raftlock/client"
	"github.com/raftlock/raftlock/server"
)

// Environment variables of the client commands' TLS flags.
const (
	envCACert = envPrefix + "CACERT"
	envCert   = envPrefix + "CERT"
	envKey    = envPrefix + "KEY"
)

// addServeTLSFlags defines serve's client-listener TLS flags and the reload
// interval; the peer TLS flags sit beside the other peer flags.
func addServeTLSFlags(fs *flag.FlagSet, cfg *server.Config) {
	fs.StringVar(&cfg.CertFile, "cert-file", "", "PEM certificate of the client listener; turns on https (needs --key-file)")
	fs.StringVar(&cfg.KeyFile, "key-file", "", "PEM key of --cert-file")
	fs.StringVar(&cfg.ClientCAFile, "client-ca-file", "", "PEM CA; the client listener then requires a client certificate it signed")
	fs.DurationVar(&cfg.CertReloadInterval, "cert-reload-interval", server.DefaultCertReloadInterval,
		"how often the certificate, key and CA files are checked for changes and reloaded (SIGHUP reloads at once)")
}

// tlsFlags are the TLS flags of every client command.
type tlsFlags struct {
	caCert, cert, key string
}

// addTLSFlags defines --cacert, --cert and --key, whose defaults are
// RAFTLOCK_CACERT, RAFTLOCK_CERT and RAFTLOCK_KEY: a flag wins over the
// variable.
func addTLSFlags(fs *flag.FlagSet, getenv func(string) string) *tlsFlags {
	tf := &tlsFlags{}
	fs.StringVar(&tf.caCert, "cacert", getenv(envCACert), "PEM CA that signs the nodes' https certificates (env "+envCACert+")")
	fs.StringVar(&tf.cert, "cert", getenv(envCert), "PEM client certificate, for nodes started with --client-ca-file (env "+envCert+")")
	fs.StringVar(&tf.key, "key", getenv(envKey), "PEM key of --cert (env "+envKey+")")
	return tf
}

// apply sets the client config's TLS files; client.New reads and checks
// them.
func (tf *tlsFlags) apply(cfg *client.Config) {
	cfg.CAFile, cfg.CertFile, cfg.KeyFile = tf.caCert, tf.cert, tf.key
}

// check refuses a certificate without its key and the other way round.
func (tf *tlsFlags) check() error {
	if (tf.cert == "") != (tf.key == "") {
		return usagef("--cert %q and --key %q: give both or neither", tf.cert, tf.key)
	}
	return nil
}

// reloadOnHangup reloads the node's certificates at every SIGHUP until the
// returned stop is called; stop waits for the watch to end.
func reloadOnHangup(node *server.Node, log *zap.Logger) (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGHUP)
	stopWatch := watchHangups(sigs, node.ReloadCertificates, log)
	return func() {
		signal.Stop(sigs)
		stopWatch()
	}
}

// watchHangups calls reload for every signal from sigs until stop is called.
// A failed reload is logged at Error: the node keeps its previous
// certificates and a human must fix the files.
func watchHangups(sigs <-chan os.Signal, reload func() error, log *zap.Logger) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	// Exits when stop is called.
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-sigs:
			}
			log.Info("SIGHUP: reloading certificates")
			if err := reload(); err != nil {
				log.Error("certificate reload failed; the previous certificates stay in use", zap.Error(err))
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}
