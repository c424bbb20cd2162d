package main

import (
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/raftlock/raftlock/locks/lockmodel"
)

// history records every client operation for the verdicts: the lockmodel
// Recorder (stamped with a monotonic clock shared with the fenced resource)
// plus the request id of each operation, in the same order.
type history struct {
	start time.Time
	rec   *lockmodel.Recorder

	mu   sync.Mutex
	keys []string // keys[i]: request id of the i-th invocation, "" for reads
}

func newHistory(start time.Time) *history {
	h := &history{start: start}
	h.rec = lockmodel.NewRecorderClock(h.now)
	return h
}

// now is the clock of the history: nanoseconds since the run started,
// monotonic.
func (h *history) now() int64 { return int64(time.Since(h.start)) }

// invoke records the invocation of in by client with request id key.
func (h *history) invoke(client int, in lockmodel.Input, key string) lockmodel.Call {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.keys = append(h.keys, key)
	return h.rec.Invoke(client, in)
}

// ret records the answer to call.
func (h *history) ret(call lockmodel.Call, out lockmodel.Output) { h.rec.Return(call, out) }

// operations returns the history and the request id of each operation.
func (h *history) operations() ([]porcupine.Operation, []string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ops, err := h.rec.History()
	keys := append([]string(nil), h.keys[:len(ops)]...)
	return ops, keys, err
}
