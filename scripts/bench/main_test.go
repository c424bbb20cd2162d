// The benchmark's tests cover its arithmetic and bookkeeping without a
// cluster: quantiles and medians, flag parsing, the closed-loop runner with
// fake operations, the failover bookkeeping around a kill, and the machine
// probes. Running clusters is the benchmark itself (scripts/bench.sh).
package main

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
