// The tests of this package prove the verdicts, the link proxy and the
// schedule without starting raftlock processes; the harness itself runs with
// scripts/chaos.sh (README.md, "Fault injection").
package main

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
