package boltstore

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs the helper processes of process_test.go when asked to, and
// otherwise the tests, checking that none leaves a goroutine behind.
func TestMain(m *testing.M) {
	if mode := os.Getenv(helperModeEnv); mode != "" {
		os.Exit(runHelper(mode, os.Getenv(helperPathEnv)))
	}
	goleak.VerifyTestMain(m)
}
