//go:build !linux

package boltstore

import "os"

// datasync flushes f; without fdatasync this is a full fsync.
func datasync(f *os.File) error { return f.Sync() }
