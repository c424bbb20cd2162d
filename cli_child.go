package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/raftlock/raftlock/client"
)

// child is CMD of `lock` or `elect`: a process leading its own process
// group, so a signal reaches everything it started.
type child struct {
	cmd *exec.Cmd
	// pgid is the process group: CMD's pid.
	pgid int
	// exited closes when CMD has exited and been reaped.
	exited chan struct{}
}

// startChild starts argv with env in a new process group, on the given
// standard streams.
func startChild(argv, env []string, stdin io.Reader, stdout, stderr io.Writer) (*child, error) {
	assertf(len(argv) > 0, "startChild: empty argv")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.SysProcAttr = childProcAttr()
	cmd.WaitDelay = childWaitDelay
	if err := cmd.Start(); err != nil {
		return nil, &startError{err}
	}
	c := &child{cmd: cmd, pgid: cmd.Process.Pid, exited: make(chan struct{})}
	// Exits when CMD has exited (and its pipes, if any, are drained).
	go func() {
		// The status is read from cmd.ProcessState; Wait's error only
		// repeats it or reports a pipe cut short by WaitDelay.
		_ = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// signal sends sig to CMD's whole process group. A group that is gone is
// not an error.
func (c *child) signal(sig syscall.Signal) error {
	err := syscall.Kill(-c.pgid, sig)
	if err == nil || errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return fmt.Errorf("signal %v to process group %d: %w", sig, c.pgid, err)
}

// groupAlive reports whether any process of CMD's group still runs.
func (c *child) groupAlive() bool {
	return groupRunning(c.pgid)
}

// stop ends CMD's whole process group: SIGTERM, then SIGKILL once grace
// has passed with any member left. It returns when CMD has been reaped.
func (c *child) stop(grace time.Duration) error {
	assertf(grace > 0, "stop: grace %v is not positive", grace)
	err := c.signal(syscall.SIGTERM)
	if !c.awaitGroup(grace) {
		err = errors.Join(err, c.signal(syscall.SIGKILL))
	}
	<-c.exited
	return err
}

// awaitGroup waits up to grace for CMD to exit and its group to empty, and
// reports whether both happened.
func (c *child) awaitGroup(grace time.Duration) bool {
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	select {
	case <-c.exited:
	case <-deadline.C:
		return false
	}
	poll := time.NewTicker(groupPollInterval)
	defer poll.Stop()
	for c.groupAlive() {
		select {
		case <-poll.C:
		case <-deadline.C:
			return false
		}
	}
	return true
}

// status is CMD's exit status once it exited: its exit code, or
// exitSignalBase + N when signal N killed it.
func (c *child) status() int {
	ps := c.cmd.ProcessState
	assertf(ps != nil, "status: process %d not reaped", c.pgid)
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return exitSignalBase + int(ws.Signal())
	}
	return ps.ExitCode()
}

// outcome is how a supervised CMD ended.
type outcome struct {
	// status is CMD's exit status.
	status int
	// lost says CMD was stopped because the right to run ended.
	lost bool
	// err reports a signal that could not be delivered.
	err error
}

// supervise waits for CMD to exit, forwarding each signal from sigs to its
// process group. When lost closes first it stops the group (SIGTERM, grace,
// SIGKILL). When CMD exits on its own, whatever is left of its group gets
// the same treatment, so nothing it started outlives the lock.
func supervise(c *child, lost <-chan struct{}, sigs <-chan os.Signal, grace time.Duration) outcome {
	var errs []error
	for {
		select {
		case <-c.exited:
			if c.groupAlive() {
				errs = append(errs, c.stop(grace))
			}
			return outcome{status: c.status(), err: errors.Join(errs...)}
		case sig := <-sigs:
			if s, ok := sig.(syscall.Signal); ok {
				errs = append(errs, c.signal(s))
			}
		case <-lost:
			errs = append(errs, c.stop(grace))
			return outcome{status: c.status(), lost: true, err: errors.Join(errs...)}
		}
	}
}

// childEnv is the environment of CMD: raftlock's own with extra appended
// (a later entry wins over an earlier one of the same name in exec).
func childEnv(base []string, extra ...string) []string {
	env := make([]string, 0, len(base)+len(extra))
	env = append(env, base...)
	return append(env, extra...)
}

// killGrace is the SIGTERM-to-SIGKILL grace for a session of ttl; see the
// arithmetic in cli_limits.go. A ttl too short to hold killGraceMin is a
// usage error.
func killGrace(ttl time.Duration) (time.Duration, error) {
	if ttl < lockTTLMin {
		return 0, usagef("--ttl is %v, min %v with a command: CMD must be stopped within ttl/%d of a lost keepalive", ttl, lockTTLMin, client.LossMarginDivisor)
	}
	margin := ttl / client.LossMarginDivisor
	return min(margin-killSlack, killGraceMax), nil
}
