package main

import "fmt"

// assertf panics with "invariant violated: ..." when cond is false. It is for
// programmer errors in the benchmark only, never for answers from a cluster.
func assertf(cond bool, format string, args ...any) {
	if !cond {
		panic("invariant violated: " + fmt.Sprintf(format, args...))
	}
}
