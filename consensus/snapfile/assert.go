package snapfile

import "fmt"

// assertf panics with "invariant violated: ..." when cond is false. It is for
// programmer errors only; bytes from disk or peers are checked and refused
// with an error.
func assertf(cond bool, format string, args ...any) {
	if !cond {
		panic(fmt.Sprintf("invariant violated: "+format, args...))
	}
}
