//go:build !unix

package boltstore

import "os"

// unlockFile is a no-op where bbolt does not use flock; closing f releases
// its lock.
func unlockFile(*os.File) error { return nil }
