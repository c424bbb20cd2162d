package main

import "syscall"

// childProcAttr puts CMD in a process group of its own and, should raftlock
// itself die (even by SIGKILL), has the kernel send CMD SIGKILL: a CMD left
// without keepalives would outlive the lease. Only CMD itself gets that
// signal, not processes it started.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
