package consensus

import (
	"strconv"
	"strings"
)

// assertf panics with "invariant violated: ..." when cond is false. It is for
// programmer errors only: input from peers, disk or callers is validated and
// rejected with an error instead.
//
// It costs a comparison when the invariant holds: assertf inlines, and its
// arguments never escape (invariantMessage formats them by hand rather than
// through fmt), so boxing them needs no heap allocation on the hot paths.
func assertf(cond bool, format string, args ...any) {
	if !cond {
		panic(invariantMessage(format, args))
	}
}

// invariantMessage formats an assertf message: every %-verb takes the next
// argument, printed in decimal (numbers), as text (strings, Stringers of this
// package) or as a list of ids.
func invariantMessage(format string, args []any) string {
	var b strings.Builder
	b.WriteString("invariant violated: ")
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		if format[i] == '%' {
			b.WriteByte('%')
			continue
		}
		if len(args) == 0 {
			b.WriteString("%!(missing)")
			continue
		}
		writeInvariantArg(&b, args[0])
		args = args[1:]
	}
	return b.String()
}

// writeInvariantArg writes one assertf argument without fmt, so that assertf's
// arguments do not escape.
func writeInvariantArg(b *strings.Builder, a any) {
	switch v := a.(type) {
	case Index:
		b.WriteString(strconv.FormatUint(uint64(v), 10))
	case Term:
		b.WriteString(strconv.FormatUint(uint64(v), 10))
	case NodeID:
		b.WriteString(strconv.FormatUint(uint64(v), 10))
	case uint64:
		b.WriteString(strconv.FormatUint(v, 10))
	case int:
		b.WriteString(strconv.Itoa(v))
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		b.WriteString(v)
	case Role:
		b.WriteString(v.String())
	case MessageType:
		b.WriteString(v.String())
	case progressState:
		b.WriteString(v.String())
	default:
		b.WriteString("%!(unsupported)")
	}
}
