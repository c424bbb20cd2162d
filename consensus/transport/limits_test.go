// These tests pin the relations between the package's limits, the backoff
// schedule, and the sender's batch splitting, which must never build a body
// the receiver refuses.
package transport

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

// coreMsgBytesDefault is the core's MaxMsgBytes the node uses by default.
const coreMsgBytesDefault = 1 << 20

func TestLimits(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		// Encoding may exceed the estimate by up to half for tiny entries.
		{"body holds a full batch with encoding overhead", BodyBytesMax >= 2*BatchBytesMax},
		{"body holds a batch plus one max core message", BodyBytesMax >= BatchBytesMax+2*coreMsgBytesDefault},
		{"batch holds a max core message", BatchBytesMax >= coreMsgBytesDefault},
		{"a full queue fits one batch by count", QueueMessagesMax <= BatchMessagesMax},
		{"a batch of empty entries splits by bytes first", BatchEntriesMax >= BatchBytesMax/emptyEntryBytes()},
		{"backoff grows", BackoffMin < BackoffMax},
		{"a request outlives a dial", DialTimeout < RequestTimeout},
		{"the server reads longer than a client waits", ServerReadTimeout > RequestTimeout},
		{"a batch nests four deep", DecodeDepthMax >= 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Errorf("limit relation %q does not hold", tc.name)
			}
		})
	}
}

func emptyEntryBytes() int {
	var e consensus.Entry
	return int(e.Size())
}

func TestBackoffDelay(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 70; n++ {
		d := backoffDelay(rng, n)
		if d < BackoffMin/2 || d >= BackoffMax {
			t.Fatalf("backoffDelay(%d) = %v; want in [%v, %v)", n, d, BackoffMin/2, BackoffMax)
		}
		if n > 10 && d < BackoffMax/2 {
			t.Fatalf("backoffDelay(%d) = %v; want at least %v once capped", n, d, BackoffMax/2)
		}
	}
}

func TestBatchLen(t *testing.T) {
	big := app(1, 2, 0, 1, BatchBytesMax) // alone past BatchBytesMax
	small := app(1, 2, 0, 1, 100)
	heartbeats := func(n int) []consensus.Message {
		ms := make([]consensus.Message, n)
		for i := range ms {
			ms[i] = consensus.Message{Type: consensus.MsgHeartbeat, From: 1, To: 2}
		}
		return ms
	}
	manyEntries := app(1, 2, 0, BatchEntriesMax/2, 0)
	cases := []struct {
		name string
		msgs []consensus.Message
		want int
	}{
		{"one", []consensus.Message{small}, 1},
		{"all small", []consensus.Message{small, small, small}, 3},
		{"oversized first goes alone", []consensus.Message{big, small}, 1},
		{"oversized second starts the next", []consensus.Message{small, big}, 1},
		{"message count", heartbeats(BatchMessagesMax + 5), BatchMessagesMax},
		{"empty entries split by bytes", []consensus.Message{manyEntries, manyEntries, manyEntries}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := batchLen(tc.msgs); got != tc.want {
				t.Errorf("batchLen(%s) = %d; want %d", tc.name, got, tc.want)
			}
		})
	}
}

func TestConnectionDown(t *testing.T) {
	opErr := func(errno syscall.Errno) error {
		return fmt.Errorf("Post: %w", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errno)})
	}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"refused", opErr(syscall.ECONNREFUSED), true},
		{"reset", opErr(syscall.ECONNRESET), true},
		{"closed under a request", fmt.Errorf("Post: %w", io.ErrUnexpectedEOF), true},
		{"unreachable host", opErr(syscall.EHOSTUNREACH), false},
		{"timeout", fmt.Errorf("Post: %w", context.DeadlineExceeded), false},
		{"refused batch", fmt.Errorf("%w: status 400", ErrRejected), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := connectionDown(tc.err); got != tc.want {
				t.Errorf("connectionDown(%v) = %v; want %v", tc.err, got, tc.want)
			}
		})
	}
}
