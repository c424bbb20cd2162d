package boltstore

import (
	"os"
	"syscall"
)

// datasync flushes f's data, and its metadata only when reading the data
// back needs it (a new size): one device flush for a rewrite in place.
func datasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
