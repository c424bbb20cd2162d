package lockmodel

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// ErrNotLinearizable is wrapped by Result.Err when a history is rejected.
var ErrNotLinearizable = errors.New("lockmodel: history is not linearizable")

// ErrCheckTimeout is wrapped by Result.Err when the checker ran out of time
// before it found a linearization or a violation.
var ErrCheckTimeout = errors.New("lockmodel: linearizability check timed out")

// Result is the verdict of Check on one history.
type Result struct {
	// Linearizable is Porcupine's verdict over all partitions: Ok, Illegal,
	// or Unknown when the timeout passed first.
	Linearizable porcupine.CheckResult
	// Violations are the cross-partition problems; ViolationsDropped counts
	// those past ViolationsMax.
	Violations        []Violation
	ViolationsDropped int
	// Operations is the length of the history; Partitions how many
	// independent parts Porcupine checked.
	Operations int
	Partitions int
	// Illegal names the partitions Porcupine rejected, each narrowed to
	// the operation where it first goes wrong (only when Linearizable is
	// Illegal; the narrowing gets the same timeout again).
	Illegal []IllegalPart
}

// OK reports whether the history was accepted: linearizable and free of
// cross-partition violations.
func (r Result) OK() bool {
	return r.Linearizable == porcupine.Ok && len(r.Violations) == 0
}

// Err returns nil when OK, else an error wrapping ErrNotLinearizable or
// ErrCheckTimeout that names every violation found.
func (r Result) Err() error {
	if r.OK() {
		return nil
	}
	var b strings.Builder
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "; %s", v.Message)
	}
	if r.ViolationsDropped > 0 {
		fmt.Fprintf(&b, "; and %d more", r.ViolationsDropped)
	}
	if r.Linearizable == porcupine.Unknown && len(r.Violations) == 0 {
		return fmt.Errorf("%w: %d operations in %d partitions", ErrCheckTimeout, r.Operations, r.Partitions)
	}
	for _, p := range r.Illegal {
		fmt.Fprintf(&b, "; %s (%d operations) illegal by operation %d", p.Object, p.Operations, p.Op)
	}
	return fmt.Errorf("%w: porcupine %s, %d operations in %d partitions%s",
		ErrNotLinearizable, r.Linearizable, r.Operations, r.Partitions, b.String())
}

// Visualization is Porcupine's HTML view of a checked history: the
// partitions it could not linearize, each up to the operation by which it
// went wrong (the whole history when the check was not narrowed, after a
// timeout), the longest linearizations found, and the cross-partition
// violations as annotations. It is computed when written: Porcupine's
// verbose check keeps every partial linearization, which for a long history
// takes far more memory than the verdict (a 284,420-operation chaos history
// ran a 24 GiB machine out of memory), so Check gives the plain verdict and
// only a rejected history's narrowed part is ever visualized.
type Visualization struct {
	model       porcupine.Model
	ops         []porcupine.Operation
	annotations []porcupine.Annotation
}

// WriteTo writes the HTML page to w. It refuses a visualization of more
// than VisualizeOperationsMax operations.
func (v *Visualization) WriteTo(w io.Writer) (int64, error) {
	if n := len(v.ops); n > VisualizeOperationsMax {
		return 0, fmt.Errorf("lockmodel: visualize: %d operations, max %d (Result.Illegal names where the history goes wrong)", n, VisualizeOperationsMax)
	}
	_, info := porcupine.CheckOperationsVerbose(v.model, v.ops, VisualizeTimeout)
	info.AddAnnotations(v.annotations)
	cw := &countingWriter{w: w}
	if err := porcupine.Visualize(v.model, info, cw); err != nil {
		return cw.n, fmt.Errorf("lockmodel: visualize: %w", err)
	}
	return cw.n, nil
}

// WriteFile writes the HTML page to a new file at path.
func (v *Visualization) WriteFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("lockmodel: visualization: %w", err)
	}
	if _, err := v.WriteTo(f); err != nil {
		f.Close() // the write error is the one to report
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("lockmodel: visualization: %w", err)
	}
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

// Write writes p to the underlying writer, counting the bytes written.
func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Normalize returns a copy of history ready for checking: an operation of
// unknown outcome may take effect at any time after its invocation, so its
// return moves to +infinity, or to the moment the history shows it inert
// (clip.go). Check calls it; callers building events use it to see what is
// checked.
func Normalize(history []porcupine.Operation) []porcupine.Operation {
	res := make([]porcupine.Operation, len(history))
	for i, op := range history {
		in, isInput := op.Input.(Input)
		out, isOutput := op.Output.(Output)
		assertf(isInput, "operation %d input is %T, want lockmodel.Input", i, op.Input)
		assertf(isOutput, "operation %d output is %T, want lockmodel.Output", i, op.Output)
		assertf(in.Kind >= KindCreateLease && in.Kind <= KindLeader, "operation %d has kind %d", i, in.Kind)
		assertf(out.Status >= StatusOK && out.Status <= StatusUnknown, "operation %d has status %d", i, out.Status)
		res[i] = op
		if out.Status == StatusUnknown {
			res[i].Return = math.MaxInt64
		}
	}
	clipUnknown(res)
	return res
}

// Check checks history against Model and the cross-partition rules, giving
// Porcupine at most timeout (0: no limit). The Visualization is always
// returned; write it when !Result.OK(), e.g.
//
//	res, vis := lockmodel.Check(h, 10*time.Second)
//	if !res.OK() {
//		path := filepath.Join(t.TempDir(), "history.html")
//		t.Errorf("Check = %v; visualization: %s (write err %v)", res.Err(), path, vis.WriteFile(path))
//	}
//
// Inputs must be Input and outputs Output values: anything else is a
// programmer error and panics.
func Check(history []porcupine.Operation, timeout time.Duration) (Result, *Visualization) {
	return Options{}.Check(history, timeout)
}

// Check is Check under the semantics o selects.
func (o Options) Check(history []porcupine.Operation, timeout time.Duration) (Result, *Visualization) {
	h := Normalize(history)
	model := o.Model()
	verdict := porcupine.CheckOperationsTimeout(model, h, timeout)
	v := &violations{}
	checkIndices(o, h, v)
	checkLeaseLives(h, v)
	res := Result{
		Linearizable:      verdict,
		Violations:        v.list,
		ViolationsDropped: v.dropped,
		Operations:        len(h),
		Partitions:        len(model.Partition(h)),
	}
	shown := h
	if verdict == porcupine.Illegal {
		var prefixes []int
		res.Illegal, prefixes = o.explain(h, timeout)
		if len(prefixes) > 0 {
			shown = make([]porcupine.Operation, len(prefixes))
			for i, p := range prefixes {
				shown[i] = h[p]
			}
		}
	}
	return res, &Visualization{model: model, ops: shown, annotations: annotations(h, v.list)}
}

// CheckFile is Check that also writes the visualization to path when the
// history is not accepted. The error is only about writing the file.
func CheckFile(history []porcupine.Operation, timeout time.Duration, path string) (Result, error) {
	return Options{}.CheckFile(history, timeout, path)
}

// CheckFile is CheckFile under the semantics o selects.
func (o Options) CheckFile(history []porcupine.Operation, timeout time.Duration, path string) (Result, error) {
	res, vis := o.Check(history, timeout)
	if res.OK() {
		return res, nil
	}
	return res, vis.WriteFile(path)
}

// annotations marks each violation on the operations that show it.
func annotations(h []porcupine.Operation, vs []Violation) []porcupine.Annotation {
	var res []porcupine.Annotation
	for _, v := range vs {
		for _, i := range v.Operations {
			end := h[i].Return
			if end == math.MaxInt64 {
				end = h[i].Call
			}
			res = append(res, porcupine.Annotation{
				ClientId:        h[i].ClientId,
				Start:           h[i].Call,
				End:             end,
				Description:     "violation",
				Details:         v.Message,
				BackgroundColor: "#f8c0c0",
			})
		}
	}
	return res
}
