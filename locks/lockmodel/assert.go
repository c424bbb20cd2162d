package lockmodel

import "fmt"

// assertf panics with "invariant violated: ..." when cond is false. It guards
// programmer errors only, never recorded values.
func assertf(cond bool, format string, args ...any) {
	if !cond {
		panic("invariant violated: " + fmt.Sprintf(format, args...))
	}
}
