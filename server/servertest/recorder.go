package servertest

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/raftlock/raftlock/consensus"
)

// Applied is one command a Recorder applied.
type Applied struct {
	Index consensus.Index
	Data  string
}

// Recorder is a state machine for cluster tests: it records every command in
// apply order and returns the command's index as its result. It is safe for
// concurrent use (the Raft loop applies, the test reads).
type Recorder struct {
	mu      sync.Mutex
	applied []Applied
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{} }

// Apply implements server.StateMachine.
func (r *Recorder) Apply(index consensus.Index, data []byte) any {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applied = append(r.applied, Applied{Index: index, Data: string(data)})
	return index
}

// Snapshot implements server.StateMachine: every command applied so far, as JSON.
func (r *Recorder) Snapshot(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := json.NewEncoder(w).Encode(r.applied); err != nil {
		return fmt.Errorf("servertest: snapshot: %w", err)
	}
	return nil
}

// Restore implements server.StateMachine: the commands become the snapshot's.
func (r *Recorder) Restore(rd io.Reader) error {
	b, err := io.ReadAll(rd)
	if err != nil {
		return fmt.Errorf("servertest: restore: %w", err)
	}
	var applied []Applied
	if err := json.Unmarshal(b, &applied); err != nil {
		return fmt.Errorf("servertest: restore: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applied = applied
	return nil
}

// Applied returns a copy of every command applied so far, in order.
func (r *Recorder) Applied() []Applied {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Applied(nil), r.applied...)
}

// Len is the number of commands applied so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.applied)
}
