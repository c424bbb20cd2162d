package boltstore

import "fmt"

// assertf panics with "invariant violated: ..." when cond is false. It is for
// programmer errors only, never for bytes read from disk.
//
// Its arguments are boxed on every call, taken or not; per-entry and
// per-read paths call violated behind their own condition instead.
func assertf(cond bool, format string, args ...any) {
	if !cond {
		violated(format, args...)
	}
}

// violated panics like a failed assertf.
func violated(format string, args ...any) {
	panic(fmt.Sprintf("invariant violated: "+format, args...))
}
