package lockmodel

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/anishathalye/porcupine"
)

// ErrTooManyOperations is returned by Recorder.History when more than
// RecorderOperationsMax operations were invoked.
var ErrTooManyOperations = errors.New("lockmodel: too many operations recorded")

// Recorder records a history from concurrent clients. It is safe for
// concurrent use. Call Invoke right before a request leaves and Return right
// after its answer arrives; an operation never returned is of unknown
// outcome.
//
// By default the Recorder stamps events with a logical clock: a counter
// advanced under its mutex, which orders every event as it happened in real
// time, so one Recorder must see every client of a history. NewRecorderClock
// takes a monotonic clock instead.
type Recorder struct {
	clock func() int64 // nil: logical
	max   int          // RecorderOperationsMax; smaller in tests

	mu      sync.Mutex
	tick    int64
	ops     []porcupine.Operation
	done    []bool // done[i]: ops[i] returned
	dropped int
}

// Call identifies an invoked operation for Return.
type Call struct {
	index int // position in Recorder.ops; -1 when dropped
}

// NewRecorder returns a Recorder with a logical clock.
func NewRecorder() *Recorder {
	return &Recorder{max: RecorderOperationsMax}
}

// NewRecorderClock returns a Recorder stamping events with clock, which must
// never go backwards (for example time.Since(start) in nanoseconds).
func NewRecorderClock(clock func() int64) *Recorder {
	return &Recorder{clock: clock, max: RecorderOperationsMax}
}

// now returns the next timestamp. r.mu must be held.
func (r *Recorder) now() int64 {
	if r.clock != nil {
		return r.clock()
	}
	r.tick++
	return r.tick
}

// Invoke records the invocation of in by client (a zero-based client number,
// used by the visualization) and returns the handle for Return.
func (r *Recorder) Invoke(client int, in Input) Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ops) >= r.max {
		r.dropped++
		return Call{index: -1}
	}
	r.ops = append(r.ops, porcupine.Operation{ClientId: client, Input: in, Call: r.now()})
	r.done = append(r.done, false)
	return Call{index: len(r.ops) - 1}
}

// Return records the answer to c. An Output with StatusUnknown is recorded
// as a return at +infinity: the operation may still take effect.
func (r *Recorder) Return(c Call, out Output) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.index < 0 {
		return
	}
	assertf(c.index < len(r.ops), "call %d of %d recorded", c.index, len(r.ops))
	assertf(!r.done[c.index], "call %d returned twice", c.index)
	r.done[c.index] = true
	r.ops[c.index].Output = out
	r.ops[c.index].Return = r.now()
	if out.Status == StatusUnknown {
		r.ops[c.index].Return = math.MaxInt64
	}
}

// History returns a copy of the operations recorded so far; those not
// returned yet are of unknown outcome. The error is ErrTooManyOperations when
// some invocations were dropped: the history is then incomplete.
func (r *Recorder) History() ([]porcupine.Operation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := make([]porcupine.Operation, len(r.ops))
	copy(h, r.ops)
	for i := range h {
		if !r.done[i] {
			h[i].Output = Output{Status: StatusUnknown}
			h[i].Return = math.MaxInt64
		}
	}
	if r.dropped > 0 {
		return h, fmt.Errorf("%w: %d operations invoked, max %d", ErrTooManyOperations, len(r.ops)+r.dropped, r.max)
	}
	return h, nil
}
