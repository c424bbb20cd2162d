package consensus

import "fmt"

// assertf panics with "invariant violated: ..." when cond is false. It is for
// programmer errors only: input from peers, disk or callers is validated and
// rejected with an error instead.
func assertf(cond bool, format string, args ...any) {
	if !cond {
		panic("invariant violated: " + fmt.Sprintf(format, args...))
	}
}
