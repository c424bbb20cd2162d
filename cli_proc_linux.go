package main

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// childProcAttr puts CMD in a process group of its own and, should raftlock
// itself die (even by SIGKILL), has the kernel send CMD SIGKILL: a CMD left
// without keepalives would outlive the lease. Only CMD itself gets that
// signal, not processes it started.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// groupRunning reports whether process group pgid has a member that is not
// a zombie. Processes CMD started are reaped by whoever inherits them, maybe
// late; until then they are zombies that still count for kill(2) but run
// nothing. Without /proc it falls back to kill(-pgid, 0).
func groupRunning(pgid int) bool {
	d, err := os.Open("/proc")
	if err != nil {
		return syscall.Kill(-pgid, 0) == nil
	}
	names, err := d.Readdirnames(-1)
	if cerr := d.Close(); err != nil || cerr != nil {
		return syscall.Kill(-pgid, 0) == nil
	}
	for _, name := range names {
		if _, err := strconv.Atoi(name); err != nil {
			continue
		}
		if pgrp, state, ok := procStat(name); ok && pgrp == pgid && state != 'Z' && state != 'X' {
			return true
		}
	}
	return false
}

// procStat reads the process group and state of /proc/<pid>/stat; ok is
// false for a process that is gone or a line that does not parse.
func procStat(pid string) (pgrp int, state byte, ok bool) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// "pid (comm) state ppid pgrp ...": comm may hold spaces and parens.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pgrp, err = strconv.Atoi(string(f[2]))
	if err != nil {
		return 0, 0, false
	}
	return pgrp, f[0][0], true
}
