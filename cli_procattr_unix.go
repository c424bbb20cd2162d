//go:build unix && !linux

package main

import "syscall"

// childProcAttr puts CMD in a process group of its own. Unlike on Linux,
// CMD keeps running should raftlock itself be killed with SIGKILL.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
