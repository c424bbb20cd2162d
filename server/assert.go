package server

import "fmt"

// assertf panics with "invariant violated: ..." when cond is false. It is for
// programmer errors only, never for bytes from the network, disk or users.
func assertf(cond bool, format string, args ...any) {
	if !cond {
		panic(fmt.Sprintf("invariant violated: "+format, args...))
	}
}
