package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one node process slot of a cluster: the command line stays the
// same across restarts, so a restarted node finds its data dir again.
type proc struct {
	name      string
	bin       string
	args      []string
	logPath   string
	clientURL string

	mu sync.Mutex
	// cmd is the running process, nil when stopped; exited closes when it
	// has been waited for.
	cmd    *exec.Cmd
	exited chan struct{}
}

// start launches the process; its output goes to logPath (appended).
func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	assertf(p.cmd == nil, "%s started twice", p.name)
	if err := os.MkdirAll(filepath.Dir(p.logPath), dirPerm); err != nil {
		return fmt.Errorf("bench: %s: %w", p.name, err)
	}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, filePerm)
	if err != nil {
		return fmt.Errorf("bench: %s log: %w", p.name, err)
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group (a Ctrl-C reaches the benchmark, which stops the
	// nodes itself); SIGKILL from the kernel if the benchmark dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return errors.Join(fmt.Errorf("bench: start %s: %w", p.name, err), logf.Close())
	}
	exited := make(chan struct{})
	p.cmd, p.exited = cmd, exited
	// Exits when the process does.
	go func() {
		defer close(exited)
		_ = cmd.Wait() // The exit status of a node we signal is not news.
		_ = logf.Close()
	}()
	return nil
}

// pid returns the running process's id, 0 when stopped.
func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// signal sends sig and waits up to wait for the exit; it returns whether the
// process exited. A stopped slot counts as exited.
func (p *proc) signal(sig syscall.Signal, wait time.Duration) bool {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return true
	}
	_ = cmd.Process.Signal(sig) // It may have exited already; exited tells.
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-exited:
		p.mu.Lock()
		p.cmd, p.exited = nil, nil
		p.mu.Unlock()
		return true
	case <-t.C:
		return false
	}
}

// kill is a crash: SIGKILL, then wait for the exit.
func (p *proc) kill() {
	if !p.signal(syscall.SIGKILL, stopTimeout) {
		panic("invariant violated: " + p.name + " survived SIGKILL")
	}
}

// stop is a clean shutdown: SIGTERM, and SIGKILL when it takes too long.
func (p *proc) stop() {
	if !p.signal(syscall.SIGTERM, stopTimeout) {
		p.kill()
	}
}

// rssBytes reads the process's resident set size from /proc/PID/status.
func (p *proc) rssBytes() (uint64, error) {
	pid := p.pid()
	if pid == 0 {
		return 0, fmt.Errorf("bench: %s is not running", p.name)
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("bench: rss of %s: %w", p.name, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "VmRSS:") {
			continue
		}
		fields := strings.Fields(strings.TrimPrefix(line, "VmRSS:"))
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("bench: rss of %s: unexpected line %q", p.name, line)
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bench: rss of %s: %q: %w", p.name, line, err)
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("bench: rss of %s: %w", p.name, err)
	}
	return 0, fmt.Errorf("bench: rss of %s: no VmRSS line", p.name)
}

// cluster is a set of node processes plus the system-specific probes.
type cluster struct {
	procs []*proc
	// leader returns the index of the node that is leader now.
	leader func(ctx context.Context) (int, error)
	// ready reports whether node i serves with a known leader.
	ready func(ctx context.Context, i int) bool
}

// startAll starts every node and waits until all are ready.
func (c *cluster) startAll(ctx context.Context) error {
	for _, p := range c.procs {
		if err := p.start(); err != nil {
			c.stopAll()
			return err
		}
	}
	for i := range c.procs {
		if err := c.waitReady(ctx, i); err != nil {
			c.stopAll()
			return err
		}
	}
	return nil
}

// stopAll stops every node that runs.
func (c *cluster) stopAll() {
	for _, p := range c.procs {
		p.stop()
	}
}

// waitReady polls node i until it is ready or clusterStartTimeout passes.
func (c *cluster) waitReady(ctx context.Context, i int) error {
	ctx, cancel := context.WithTimeout(ctx, clusterStartTimeout)
	defer cancel()
	return poll(ctx, func() bool { return c.ready(ctx, i) },
		func() error {
			return fmt.Errorf("bench: %s not ready within %v (log %s)", c.procs[i].name, clusterStartTimeout, c.procs[i].logPath)
		})
}

// waitLeader polls until some node is leader.
func (c *cluster) waitLeader(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, clusterStartTimeout)
	defer cancel()
	var idx int
	err := poll(ctx, func() bool {
		i, err := c.leader(ctx)
		idx = i
		return err == nil
	}, func() error { return fmt.Errorf("bench: no leader within %v", clusterStartTimeout) })
	return idx, err
}

// poll calls cond every pollInterval until it holds or ctx ends; then it
// returns timeout().
func poll(ctx context.Context, cond func() bool, timeout func() error) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return timeout()
		case <-t.C:
		}
	}
}
