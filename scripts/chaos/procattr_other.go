//go:build !linux

package main

import "syscall"

// childAttr puts a node in its own process group: a Ctrl-C at the terminal
// reaches the harness only, which then stops the nodes itself.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
