package lockmodel

import (
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

func TestScaleProbe(t *testing.T) {
	h := Normalize(benchHistory(randomClients, 200, 0, true))
	parts := partitionOperations(h)
	m := Model()
	m.Partition = nil
	maxSet, steps, okSteps := 0, 0, 0
	hist := map[int]int{}
	inner := m.Step
	m.Step = func(st, in, out any) (bool, any) {
		ok, next := inner(st, in, out)
		steps++
		if ok {
			okSteps++
			n := len(next.([]any))
			hist[n]++
			maxSet = max(maxSet, n)
		}
		return ok, next
	}
	m.StepContext = nil
	p := parts[0]
	start := time.Now()
	r := porcupine.CheckOperationsTimeout(m, p, 5*time.Second)
	t.Logf("%s in %v: steps %d ok %d maxSet %d hist %v", r, time.Since(start), steps, okSteps, maxSet, hist)
	// concurrency profile
	conc := 0
	for _, op := range p {
		c := 0
		for _, o2 := range p {
			if o2.Call <= op.Call && o2.Return >= op.Call {
				c++
			}
		}
		conc = max(conc, c)
	}
	t.Logf("max concurrency %d", conc)
}
