package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/metrics"
	"sort"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/locks/lockmodel"
)

// summary is summary.json: what ran and every verdict.
type summary struct {
	Seed         uint64                    `json:"seed"`
	Replay       string                    `json:"replay"`
	Nodes        int                       `json:"nodes"`
	Clients      int                       `json:"clients"`
	RanSeconds   float64                   `json:"ran_seconds"`
	Operations   int                       `json:"operations"`
	Completed    int                       `json:"completed"`
	ByKind       map[string]map[string]int `json:"by_kind"`
	Writes       int                       `json:"fenced_writes"`
	Faults       map[string]int            `json:"faults"`
	FaultsLeader int                       `json:"faults_at_leader"`
	Restarts     int                       `json:"restarts"`
	CheckSeconds float64                   `json:"check_seconds"`
	Verdicts     []verdict                 `json:"verdicts"`
}

// judge reads the logs, runs every check, writes summary.json and returns
// the exit status.
func (r *runState) judge() int {
	ops, keys, err := r.hist.operations()
	if err != nil {
		r.out.printf("history: %v", err)
		return exitHarness
	}
	writes, dropped := r.store.all()
	if err := writeHistory(filepath.Join(r.dir, "history.jsonl"), ops, keys); err != nil {
		r.out.printf("%v", err)
	}
	s := r.summarize(ops, writes)
	verdicts := []verdict{r.live, r.converge, r.mon.verdict(), crashVerdict(r.c.unexpectedExits())}
	logs, err := r.readLogs()
	if err != nil {
		r.out.printf("%v", err)
		return exitHarness
	}
	reported := consensus.Index(max(r.mon.highestCommit(), r.target))
	verdicts = append(verdicts, checkLogsAgree(logs, reported), checkAppliedState(logs))
	verdicts = append(verdicts, r.ackVerdict(ops, keys, logs))
	verdicts = append(verdicts, checkTokens(ops))
	fv := checkFenced(ops, writes)
	if dropped > 0 {
		fv.Note += fmt.Sprintf("; %d writes past %d not kept", dropped, WritesMax)
	}
	verdicts = append(verdicts, fv)
	r.out.printf("checking linearizability of %d operations (budget %v)", len(ops), r.cfg.checkTimeout)
	checkStart := time.Now()
	lin, timedOut := r.linearizable(ops)
	s.CheckSeconds = time.Since(checkStart).Seconds()
	verdicts = append(verdicts, lin)
	s.Verdicts = verdicts
	return r.report(s, timedOut)
}

// summarize counts the operations and the faults.
func (r *runState) summarize(ops []porcupine.Operation, writes []write) summary {
	s := summary{
		Seed: r.cfg.seed, Replay: r.cfg.replayCommand(), Nodes: r.cfg.nodes, Clients: r.cfg.clients,
		RanSeconds: r.ran.Seconds(), Operations: len(ops), ByKind: make(map[string]map[string]int), Writes: len(writes),
	}
	for _, op := range ops {
		in, out := op.Input.(lockmodel.Input), op.Output.(lockmodel.Output)
		if s.ByKind[in.Kind.String()] == nil {
			s.ByKind[in.Kind.String()] = make(map[string]int)
		}
		s.ByKind[in.Kind.String()][out.Status.String()]++
		if out.Status != lockmodel.StatusUnknown {
			s.Completed++
		}
	}
	s.Faults, s.FaultsLeader = r.inj.faultCounts()
	for i := range r.c.nodes {
		s.Restarts += r.c.startsOf(i) - 1
	}
	return s
}

// crashVerdict: no node exited unless the harness made it.
func crashVerdict(unexpected []string) verdict {
	var f finding
	for _, u := range unexpected {
		f.addf("%s", u)
	}
	return f.verdict("no_crashes", "")
}

// readLogs opens every stopped node's log.
func (r *runState) readLogs() ([]nodeLog, error) {
	logs := make([]nodeLog, 0, len(r.c.nodes))
	for _, nd := range r.c.nodes {
		l, err := readNodeLog(nd.name, nd.dataDir)
		if err != nil {
			return nil, err
		}
		logs = append(logs, l)
	}
	return logs, nil
}

// ackVerdict replays the log that reaches back furthest (the longest
// committed one among those) and checks every answer against it.
func (r *runState) ackVerdict(ops []porcupine.Operation, keys []string, logs []nodeLog) verdict {
	ref := 0
	for i := range logs {
		a, b := logs[i], logs[ref]
		if a.snap.Index < b.snap.Index || (a.snap.Index == b.snap.Index && a.committed() > b.committed()) {
			ref = i
		}
	}
	rep, err := replay(&logs[ref], logs[ref].committed())
	if err != nil {
		var f finding
		f.addf("%v", err)
		return f.verdict("acknowledged_in_log", "")
	}
	coverFrom := int64(math.MinInt64)
	if rep.from > 1 {
		coverFrom = rep.fromTime - r.hist.start.UnixNano() + int64(CompactionCoverMargin)
	}
	return checkAcknowledged(ops, keys, rep, coverFrom)
}

// linearizable runs the lockmodel check and writes the visualization when
// the history is rejected. A check that outgrows CheckMemoryMax ends like
// one that outlasts --check-timeout (the verdict is unknown), instead of
// taking the machine's memory and being killed without a verdict.
func (r *runState) linearizable(ops []porcupine.Operation) (verdict, bool) {
	path := filepath.Join(r.dir, "history.html")
	type checked struct {
		res lockmodel.Result
		err error
	}
	done := make(chan checked, 1)
	// Exits when the check ends; past the memory limit it is abandoned
	// and the process exits soon after the report.
	go func() {
		res, err := lockmodel.Options{Fence: lockmodel.FenceHolderOrNewer}.CheckFile(ops, r.cfg.checkTimeout, path)
		done <- checked{res, err}
	}()
	above, stop := heapAbove(CheckMemoryMax)
	defer stop()
	var res lockmodel.Result
	var err error
	select {
	case c := <-done:
		res, err = c.res, c.err
	case heap := <-above:
		var f finding
		note := fmt.Sprintf("%d operations: check stopped at %d MiB of heap (limit %d MiB)", len(ops), heap>>20, uint64(CheckMemoryMax)>>20)
		return f.verdict("linearizable", note), true
	}
	var f finding
	note := fmt.Sprintf("%d operations in %d partitions: %s", res.Operations, res.Partitions, res.Linearizable)
	if !res.OK() {
		f.addf("%v; visualization %s", res.Err(), path)
		if err != nil {
			f.addf("writing the visualization: %v", err)
		}
	}
	timedOut := res.Linearizable == porcupine.Unknown && len(res.Violations) == 0
	return f.verdict("linearizable", note), timedOut
}

// report prints the verdicts, writes summary.json and picks the exit status.
func (r *runState) report(s summary, timedOut bool) int {
	failed := 0
	for _, v := range s.Verdicts {
		state := "ok  "
		if !v.OK {
			state = "FAIL"
			failed++
		}
		r.out.printf("%s %-20s %s", state, v.Name, v.Note)
		for _, msg := range v.Violations {
			r.out.printf("       %s", msg)
		}
		if v.Dropped > 0 {
			r.out.printf("       and %d more", v.Dropped)
		}
	}
	kinds := make([]string, 0, len(s.Faults))
	for k, n := range s.Faults {
		if n > 0 {
			kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
		}
	}
	sort.Strings(kinds)
	r.out.printf("%d operations (%d completed, %d unknown), %d fenced writes; faults %v (%d at the leader), %d restarts",
		s.Operations, s.Completed, s.Operations-s.Completed, s.Writes, kinds, s.FaultsLeader, s.Restarts)
	if b, err := json.MarshalIndent(s, "", "  "); err == nil {
		if err := os.WriteFile(filepath.Join(r.dir, "summary.json"), append(b, '\n'), 0o644); err != nil {
			r.out.printf("summary: %v", err)
		}
	}
	switch {
	case failed == 1 && timedOut:
		r.out.printf("INCONCLUSIVE: the linearizability check ran out of time; seed %d; replay: %s", s.Seed, s.Replay)
		return exitCheckTimeout
	case failed > 0:
		r.out.printf("VIOLATION: %d verdicts failed; seed %d; replay: %s", failed, s.Seed, s.Replay)
		return exitViolation
	}
	r.out.printf("PASS: seed %d", s.Seed)
	return exitOK
}

// heapAbove returns a channel that yields the heap size once it passes
// limit, sampled every HeapPollInterval, and stop, which ends the sampling
// and waits for it (call it once).
func heapAbove(limit uint64) (above <-chan uint64, stop func()) {
	out := make(chan uint64, 1)
	quit := make(chan struct{})
	exited := make(chan struct{})
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	// Exits when the heap passes limit or stop is called.
	go func() {
		defer close(exited)
		tick := time.NewTicker(HeapPollInterval)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
			case <-quit:
				return
			}
			metrics.Read(sample)
			if heap := sample[0].Value.Uint64(); heap > limit {
				out <- heap
				return
			}
		}
	}()
	return out, func() {
		close(quit)
		<-exited
	}
}
