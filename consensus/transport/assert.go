package transport

import "fmt"

// assertf panics with "invariant violated: ..." when cond is false. It is for
// programmer errors only, never for bytes from the network.
func assertf(cond bool, format string, args ...any) {
	if !cond {
		panic("invariant violated: " + fmt.Sprintf(format, args...))
	}
}
