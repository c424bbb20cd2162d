// BenchmarkSendMsgApp measures throughput over loopback h2c: node 1 sends
// MsgApps of 64 entries of 100 bytes to node 2, keeping at most `window`
// messages unacknowledged (sent but not yet handed to node 2's Step), the way a
// leader's in-flight window bounds what it sends a follower. Window 1 is
// stop-and-wait per message; larger windows show how batching everything
// queued during one round trip into the next POST scales.
package transport

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftlock/raftlock/consensus"
)

func BenchmarkSendMsgApp(b *testing.B) {
	for _, window := range []int{1, 8, 64, 512, 2048} {
		b.Run(fmt.Sprintf("window=%d", window), func(b *testing.B) {
			benchSend(b, window)
		})
	}
}

func benchSend(b *testing.B, window int) {
	var received atomic.Int64
	signal := make(chan struct{}, 1)
	dst := startNode(b, 2, func(o *Options) {
		o.Step = func(consensus.Message) {
			received.Add(1)
			select {
			case signal <- struct{}{}:
			default:
			}
		}
	})
	src := startNode(b, 1, nil)
	connect(b, src, dst)
	msg := app(1, 2, 100, 64, 100)
	one, err := encodeBatch(newHandle(), nil, []consensus.Message{msg})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(one)))
	wait := func(cond func() bool) {
		timer := time.NewTimer(testDeadline)
		defer timer.Stop()
		for !cond() {
			select {
			case <-signal:
			case <-timer.C:
				b.Fatalf("received %d messages; stuck", received.Load())
			}
		}
	}
	b.ResetTimer()
	for sent := 0; sent < b.N; sent++ {
		wait(func() bool { return int64(sent)-received.Load() < int64(window) })
		src.tr.Send([]consensus.Message{msg})
	}
	wait(func() bool { return received.Load() == int64(b.N) })
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	ps := src.tr.Stats().Peers[0]
	if ps.DroppedMessages != 0 || ps.Failures != 0 {
		b.Fatalf("Stats().Peers[0] = %+v; want no drops or failures", ps)
	}
	b.ReportMetric(float64(ps.SentMessages)/float64(max(ps.SentBatches, 1)), "msgs/batch")
}

// BenchmarkCodec measures the CPU cost of one full batch (MsgApps of 64
// entries of 100 bytes, up to BatchBytesMax) through the encoder and through
// the handler's decoder, scan included.
func BenchmarkCodec(b *testing.B) {
	h := newHandle()
	// Append MsgApps until one no longer fits, then keep the batch that does.
	msgs := []consensus.Message{app(1, 2, 0, 64, 100)}
	for n, _ := batchLen(msgs); n == len(msgs); n, _ = batchLen(msgs) {
		msgs = append(msgs, app(1, 2, consensus.Index(len(msgs)*64), 64, 100))
	}
	n, size := batchLen(msgs)
	msgs = msgs[:n]
	body, err := encodeBatch(h, nil, msgs)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for i := 0; i < b.N; i++ {
			if _, err := encodeBatch(h, make([]byte, 0, int(size+size/8)), msgs); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for i := 0; i < b.N; i++ {
			if _, err := decodeBatch(h, body); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "msgs/s")
	})
}
