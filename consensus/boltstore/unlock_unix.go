//go:build unix

package boltstore

import (
	"os"
	"syscall"
)

// unlockFile drops the flock bbolt took on f. Closing f alone is not enough
// when bbolt panicked after mapping the file: the mapping keeps the open file
// alive, and with it the lock.
func unlockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
