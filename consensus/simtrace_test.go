package consensus

// The simulator's trace: a ring buffer of the last events of a run, printed when
// a check fails, and a running digest of every event, which proves in
// TestSimulatorDeterministic that one seed replays exactly.

import (
	"fmt"
	"strings"
)

// simTraceCap is how many events the trace ring keeps at least; -sim.trace
// asks for more.
const simTraceCap = 512

// traceKind is what happened in one trace event.
type traceKind uint8

const (
	traceDeliver   traceKind = iota + 1 // a message reached its node
	traceLost                           // a message was lost in flight (cut link, node down)
	traceTick                           // a node ticked
	traceRole                           // a node's role or leader changed
	tracePropose                        // a client proposed on a node
	traceRead                           // a client called ReadIndex on a node
	traceReadState                      // a node's driver received a read state
	traceApply                          // a node applied entries (a = first, b = last)
	traceCrash                          // a node crashed
	traceRestart                        // a node restarted
	traceFault                          // the fault schedule acted (detail says how)
)

// traceEvent is one event of a run. Messages are kept without their entries:
// nEnt, a and b say how many and which.
type traceEvent struct {
	step   int
	at     simTime
	kind   traceKind
	node   NodeID
	msg    Message
	a, b   uint64
	detail string
}

// traceRing keeps the last len(events) events and a digest of all of them.
type traceRing struct {
	events []traceEvent
	n      int // events recorded in total
	digest uint64
}

func newTraceRing(capacity int) *traceRing {
	return &traceRing{events: make([]traceEvent, max(capacity, simTraceCap)), digest: 14695981039346656037}
}

// add records ev; the ring keeps it until simTraceCap later events replace it.
func (tr *traceRing) add(ev traceEvent) {
	if ev.kind == traceDeliver || ev.kind == traceLost {
		ev.a = uint64(len(ev.msg.Entries))
		if len(ev.msg.Entries) > 0 {
			ev.b = uint64(ev.msg.Entries[len(ev.msg.Entries)-1].Term)
		}
		ev.msg.Entries = nil
		ev.msg.Context = nil
	}
	tr.events[tr.n%len(tr.events)] = ev
	tr.n++
	m := &ev.msg
	for _, x := range [...]uint64{uint64(ev.step), uint64(ev.at), uint64(ev.kind), uint64(ev.node),
		uint64(m.Type), uint64(m.From), uint64(m.To), uint64(m.Term), uint64(m.LogTerm),
		uint64(m.Index), uint64(m.Commit), uint64(m.RejectHint), ev.a, ev.b} {
		tr.digest = (tr.digest ^ x) * 1099511628211
	}
	if m.Reject {
		tr.digest = (tr.digest ^ 1) * 1099511628211
	}
}

// last formats the last k events, oldest first.
func (tr *traceRing) last(k int) string {
	k = min(k, tr.n, len(tr.events))
	var b strings.Builder
	for i := tr.n - k; i < tr.n; i++ {
		b.WriteString(tr.events[i%len(tr.events)].String())
		b.WriteByte('\n')
	}
	return b.String()
}

func (ev traceEvent) String() string {
	head := fmt.Sprintf("step %6d  t=%4d.%d  ", ev.step, ev.at/simUnitsPerTick, ev.at%simUnitsPerTick)
	m := ev.msg
	switch ev.kind {
	case traceDeliver, traceLost:
		verb := "deliver"
		if ev.kind == traceLost {
			verb = "LOST   "
		}
		s := fmt.Sprintf("%s%s %d->%d %v term %d index %d logterm %d commit %d", head, verb, m.From, m.To,
			m.Type, m.Term, m.Index, m.LogTerm, m.Commit)
		if ev.a > 0 {
			s += fmt.Sprintf(" entries %d (last term %d)", ev.a, ev.b)
		}
		if m.Reject {
			s += fmt.Sprintf(" REJECT hint %d", m.RejectHint)
		}
		return s
	case traceTick:
		return fmt.Sprintf("%stick node %d", head, ev.node)
	case traceApply:
		return fmt.Sprintf("%snode %d applied %d..%d", head, ev.node, ev.a, ev.b)
	case traceReadState:
		return fmt.Sprintf("%snode %d read state index %d %s", head, ev.node, ev.a, ev.detail)
	}
	if ev.node == None {
		return head + "fault: " + ev.detail
	}
	return fmt.Sprintf("%snode %d %s", head, ev.node, ev.detail)
}
