//go:build unix && !linux

package main

import "syscall"

// childProcAttr puts CMD in a process group of its own. Unlike on Linux,
// CMD keeps running should raftlock itself be killed with SIGKILL.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// groupRunning reports whether process group pgid has a member left;
// zombies not yet reaped by their new parent count.
func groupRunning(pgid int) bool {
	return syscall.Kill(-pgid, 0) == nil
}
