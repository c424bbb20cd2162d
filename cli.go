package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/raftlock/raftlock/client"
)

// Exit codes of the client subcommands; `raftlock --help` and README.md
// list them. A command run by `lock` or `elect` that exits on its own makes
// raftlock exit with its status (128+N when signal N killed it).
const (
	exitOK = 0
	// exitError: the cluster could not be reached or refused the request.
	exitError = 1
	// exitUsage: bad flags or arguments (the same as `raftlock serve`).
	exitUsage = 2
	// exitLost: the lease or the leadership was lost while CMD ran; CMD
	// was stopped.
	exitLost = 3
	// exitNotAcquired: the lock (or election) was held by someone else and
	// not granted within --wait.
	exitNotAcquired = 4
	// exitCannotRun: CMD was found but could not be started (as env(1)).
	exitCannotRun = 126
	// exitNotFound: CMD was not found (as env(1)).
	exitNotFound = 127
	// exitSignalBase plus N is the exit code after signal N, as in a shell.
	exitSignalBase = 128
)

// envEndpoints names the variable holding the cluster's client URLs.
const envEndpoints = envPrefix + "ENDPOINTS"

// Errors that decide an exit code; see exitCode.
var (
	errUsage       = errors.New("usage")
	errLost        = errors.New("lost")
	errNotAcquired = errors.New("not granted")
)

// interruptedError ends a command stopped by a signal before CMD ran.
type interruptedError struct{ sig os.Signal }

func (e *interruptedError) Error() string { return "interrupted by " + e.sig.String() }

// statusError carries CMD's exit status; it prints nothing.
type statusError struct{ status int }

func (e *statusError) Error() string { return fmt.Sprintf("command exited with status %d", e.status) }

// startError is CMD failing to start.
type startError struct{ err error }

func (e *startError) Error() string { return "cannot run command: " + e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

// shownError is a usage error the flag package has already printed.
type shownError struct{ err error }

func (e *shownError) Error() string { return e.err.Error() }
func (e *shownError) Unwrap() error { return e.err }

// cliIO is the outside world of a client subcommand, injected so tests can
// drive one in-process.
type cliIO struct {
	getenv func(string) string
	// environ is the environment CMD inherits (os.Environ).
	environ func() []string
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	// signals delivers SIGINT, SIGTERM and SIGHUP; nil subscribes the
	// process's own.
	signals <-chan os.Signal
}

// clientCmd is one client subcommand.
type clientCmd struct {
	name string
	run  func(ctx context.Context, cio cliIO, args []string) error
}

// clientCommands lists the client subcommands.
func clientCommands() []clientCmd {
	return []clientCmd{
		{"lock", cmdLock},
		{"acquire", cmdAcquire},
		{"release", cmdRelease},
		{"elect", cmdElect},
		{"leader", cmdLeader},
		{"status", cmdStatus},
		{"acl", cmdACL},
		{"member", cmdMember},
	}
}

// isClientCommand reports whether name is a client subcommand.
func isClientCommand(name string) bool {
	for _, c := range clientCommands() {
		if c.name == name {
			return true
		}
	}
	return false
}

// runClient runs client subcommand name and returns the exit code.
func runClient(name string, args []string, cio cliIO) int {
	var run func(context.Context, cliIO, []string) error
	for _, c := range clientCommands() {
		if c.name == name {
			run = c.run
		}
	}
	assertf(run != nil, "runClient(%q): not a client command", name)
	if cio.signals == nil {
		ch := make(chan os.Signal, signalBuffer)
		signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		defer signal.Stop(ch)
		cio.signals = ch
	}
	err := run(context.Background(), cio, args)
	code := exitCode(err)
	var shown *shownError
	var status *statusError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp), errors.As(err, &shown), errors.As(err, &status):
	case code == exitUsage:
		fmt.Fprintf(cio.stderr, "raftlock %s: %v\nrun 'raftlock %s -h' for its flags\n", name, err, name)
	default:
		fmt.Fprintf(cio.stderr, "raftlock %s: %v\n", name, err)
	}
	return code
}

// exitCode maps a command's error to the process's exit code.
func exitCode(err error) int {
	var status *statusError
	var start *startError
	var intr *interruptedError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &status):
		return status.status
	case errors.Is(err, errUsage):
		return exitUsage
	case errors.Is(err, errLost):
		return exitLost
	case errors.Is(err, errNotAcquired):
		return exitNotAcquired
	case errors.As(err, &start) && errors.Is(start.err, os.ErrNotExist),
		errors.As(err, &start) && errors.Is(start.err, exec.ErrNotFound):
		return exitNotFound
	case errors.As(err, &start):
		return exitCannotRun
	case errors.As(err, &intr):
		return exitSignalBase + signalNumber(intr.sig)
	}
	return exitError
}

// signalNumber is sig's number, 0 for a signal that has none.
func signalNumber(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return int(s)
	}
	return 0
}

// notGranted is the error of lock or election name (kind says which) not
// granted within wait (nil: at once) after the last answer err.
func notGranted(kind, name string, wait *time.Duration, err error) error {
	within := ""
	if wait != nil {
		within = " within " + wait.String()
	}
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Holder == nil {
		return fmt.Errorf("%s %q %w%s", kind, name, errNotAcquired, within)
	}
	h := ce.Holder
	held := fmt.Sprintf("held by lease %d with token %d", h.LeaseID, h.Token)
	if h.Owner != "" {
		held += fmt.Sprintf(", owner %q", h.Owner)
	}
	if h.Value != "" {
		held += fmt.Sprintf(", value %q", h.Value)
	}
	return fmt.Errorf("%s %q %w%s: %s", kind, name, errNotAcquired, within, held)
}

// usagef returns a usage error.
func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// commonFlags are the flags every client subcommand has.
type commonFlags struct {
	endpoints string
	output    string
	tls       *tlsFlags
	acl       *tokenFlags
}

// newFlagSet returns the FlagSet of subcommand name; synopsis is its usage
// line after "raftlock ".
func newFlagSet(name, synopsis, about string, cio cliIO) *flag.FlagSet {
	fs := flag.NewFlagSet("raftlock "+name, flag.ContinueOnError)
	fs.SetOutput(cio.stderr)
	fs.Usage = func() {
		fmt.Fprintf(cio.stderr, "usage: raftlock %s\n\n%s\n\nflags:\n", synopsis, about)
		fs.PrintDefaults()
	}
	return fs
}

// addCommonFlags defines --endpoints (default: RAFTLOCK_ENDPOINTS, else
// endpointDefault) and, when withOutput, --output.
func addCommonFlags(fs *flag.FlagSet, getenv func(string) string, withOutput bool) *commonFlags {
	cf := &commonFlags{output: "text"}
	def := endpointDefault
	if v := getenv(envEndpoints); v != "" {
		def = v
	}
	fs.StringVar(&cf.endpoints, "endpoints", def, "comma-separated client URLs of the cluster's nodes (env "+envEndpoints+")")
	cf.tls = addTLSFlags(fs, getenv)
	cf.acl = addTokenFlags(fs, getenv)
	if withOutput {
		fs.StringVar(&cf.output, "output", cf.output, "text or json")
	}
	return cf
}

// check validates the common flags.
func (cf *commonFlags) check() error {
	if cf.output != "text" && cf.output != "json" {
		return usagef("--output %q: want text or json", cf.output)
	}
	if len(cf.endpointList()) == 0 {
		return usagef("--endpoints is empty")
	}
	return cf.tls.check()
}

// endpointList splits --endpoints at commas, dropping empty parts.
func (cf *commonFlags) endpointList() []string {
	var out []string
	for _, p := range strings.Split(cf.endpoints, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// newClient returns a Client for --endpoints and the TLS flags.
func (cf *commonFlags) newClient() (*client.Client, error) {
	cfg := client.Config{Endpoints: cf.endpointList()}
	cf.tls.apply(&cfg)
	if err := cf.acl.apply(&cfg); err != nil {
		return nil, err
	}
	c, err := client.New(cfg)
	if err != nil {
		// The client's error names the endpoint or the TLS file it refused.
		return nil, usagef("%w", err)
	}
	return c, nil
}

// parseArgs parses fs's flags anywhere before a "--" and returns the
// positional arguments before it and the command after it (nil without
// "--"). Flags after the "--" belong to the command.
func parseArgs(fs *flag.FlagSet, args []string) (pos, cmd []string, err error) {
	head := args
	for i, a := range args {
		if a == "--" {
			head, cmd = args[:i], args[i+1:]
			if cmd == nil {
				cmd = []string{}
			}
			break
		}
	}
	for {
		if err := fs.Parse(head); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, nil, err
			}
			return nil, nil, &shownError{fmt.Errorf("%w: %w", errUsage, err)}
		}
		if fs.NArg() == 0 {
			return pos, cmd, nil
		}
		pos = append(pos, fs.Arg(0))
		head = fs.Args()[1:]
	}
}

// waitFlag is a --wait whose default is to wait without limit.
type waitFlag struct {
	d       time.Duration
	limited bool
}

func (w *waitFlag) String() string {
	if w == nil || !w.limited {
		return "forever"
	}
	return w.d.String()
}

func (w *waitFlag) Set(s string) error {
	if s == "forever" {
		*w = waitFlag{}
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if d < 0 {
		return fmt.Errorf("wait %v is negative", d)
	}
	*w = waitFlag{d: d, limited: true}
	return nil
}

// cancelOnSignal returns a ctx that the first signal from sigs cancels with
// an *interruptedError as its cause. stop ends the watch (and the ctx); it
// must return before anyone else reads sigs.
func cancelOnSignal(ctx context.Context, sigs <-chan os.Signal) (sctx context.Context, stop func()) {
	sctx, cancel := context.WithCancelCause(ctx)
	quit, exited := make(chan struct{}), make(chan struct{})
	// Exits when stop is called or a signal arrives.
	go func() {
		defer close(exited)
		select {
		case sig := <-sigs:
			cancel(&interruptedError{sig})
		case <-quit:
		}
	}()
	return sctx, func() {
		close(quit)
		<-exited
		cancel(context.Canceled)
	}
}

// interruption returns the *interruptedError that canceled ctx, or nil.
func interruption(ctx context.Context) error {
	var intr *interruptedError
	if errors.As(context.Cause(ctx), &intr) {
		return intr
	}
	return nil
}

// assertf panics with "invariant violated" when cond is false: for
// programmer errors only, never for input.
func assertf(cond bool, format string, args ...any) {
	if !cond {
		panic(fmt.Sprintf("invariant violated: "+format, args...))
	}
}
