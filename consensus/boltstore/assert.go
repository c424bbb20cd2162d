package boltstore

import "fmt"

// assertf panics with "invariant violated: ..." when cond is false. It is for
// programmer errors only, never for bytes read from disk.
func assertf(cond bool, format string, args ...any) {
	if !cond {
		panic(fmt.Sprintf("invariant violated: "+format, args...))
	}
}
