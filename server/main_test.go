package server

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// node a test starts must be stopped and waited for.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
