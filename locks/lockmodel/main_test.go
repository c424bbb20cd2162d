package lockmodel

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: the
// randomized test starts clients, and Porcupine checks partitions in
// goroutines.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
