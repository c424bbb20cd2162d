package main

import (
	"fmt"
	"sort"

	"github.com/anishathalye/porcupine"

	"github.com/raftlock/raftlock/locks/lockmodel"
)

// verdict is the outcome of one check: its name and what it found wrong.
type verdict struct {
	Name       string   `json:"name"`
	OK         bool     `json:"ok"`
	Violations []string `json:"violations,omitempty"`
	// Dropped counts violations past ViolationsMax.
	Dropped int `json:"dropped,omitempty"`
	// Note says what the check covered.
	Note string `json:"note,omitempty"`
}

// finding collects the violations of one check.
type finding struct {
	list    []string
	dropped int
}

func (f *finding) addf(format string, args ...any) {
	if len(f.list) >= ViolationsMax {
		f.dropped++
		return
	}
	f.list = append(f.list, fmt.Sprintf(format, args...))
}

func (f *finding) verdict(name, note string) verdict {
	return verdict{Name: name, OK: len(f.list) == 0 && f.dropped == 0, Violations: f.list, Dropped: f.dropped, Note: note}
}

// grantOp is one acknowledged grant of a lock or election.
type grantOp struct {
	object    string // "lock NAME" or "election NAME"
	client    int
	call, ret int64
	token     lockmodel.Token
	lease     lockmodel.LeaseID
}

// grants returns the acknowledged grants (acquire and campaign answered ok)
// of a history, by object.
func grants(h []porcupine.Operation) map[string][]grantOp {
	out := make(map[string][]grantOp)
	for _, op := range h {
		in, res := op.Input.(lockmodel.Input), op.Output.(lockmodel.Output)
		if res.Status != lockmodel.StatusOK {
			continue
		}
		var obj string
		switch in.Kind {
		case lockmodel.KindAcquire:
			obj = "lock " + in.Name
		case lockmodel.KindCampaign:
			obj = "election " + in.Name
		default:
			continue
		}
		out[obj] = append(out[obj], grantOp{object: obj, client: op.ClientId, call: op.Call, ret: op.Return, token: res.Token, lease: res.Lease})
	}
	return out
}

// checkTokens: per lock and election, a grant that was answered before
// another grant was asked carries the smaller token; two grants never carry
// the same token unless they are the same lease's (a retry).
func checkTokens(h []porcupine.Operation) verdict {
	var f finding
	objects := 0
	for obj, gs := range grants(h) {
		objects++
		byRet := append([]grantOp(nil), gs...)
		sort.Slice(byRet, func(i, j int) bool { return byRet[i].ret < byRet[j].ret })
		byCall := append([]grantOp(nil), gs...)
		sort.Slice(byCall, func(i, j int) bool { return byCall[i].call < byCall[j].call })
		// Sweep the grants in call order; best is the highest token among
		// the grants answered before the current one was asked.
		var best grantOp
		k := 0
		for _, b := range byCall {
			for k < len(byRet) && byRet[k].ret < b.call {
				if byRet[k].token > best.token {
					best = byRet[k]
				}
				k++
			}
			if best.token != 0 && best.token >= b.token {
				f.addf("%s: grant of token %d to client %d answered before client %d asked and got token %d; tokens must increase", obj, best.token, best.client, b.client, b.token)
			}
		}
		byToken := make(map[lockmodel.Token]grantOp)
		for _, g := range gs {
			if o, ok := byToken[g.token]; ok && o.lease != g.lease {
				f.addf("%s: token %d granted to lease %d (client %d) and lease %d (client %d)", obj, g.token, o.lease, o.client, g.lease, g.client)
			}
			byToken[g.token] = g
		}
	}
	return f.verdict("tokens_increase", fmt.Sprintf("%d locks and elections with grants", objects))
}

// checkFenced judges the fenced resource from its writes alone, not from
// the store's own rule:
//
//   - per lock, accepted writes carry non-decreasing tokens in the order the
//     store accepted them: an accepted write never follows a write of a newer
//     holder (two holds that overlapped were ordered by their tokens);
//   - every token the store accepted was granted to the client that wrote
//     it, by a grant answered before the write;
//   - a client never writes with a token after its own release of that
//     token was answered.
func checkFenced(h []porcupine.Operation, writes []write) verdict {
	var f finding
	type owner struct {
		client int
		ret    int64
	}
	granted := make(map[string]map[lockmodel.Token]owner)
	type releaseKey struct {
		token  lockmodel.Token
		client int
	}
	released := make(map[string]map[releaseKey]int64)
	for _, op := range h {
		in, res := op.Input.(lockmodel.Input), op.Output.(lockmodel.Output)
		switch {
		case in.Kind == lockmodel.KindAcquire && res.Status == lockmodel.StatusOK:
			if granted[in.Name] == nil {
				granted[in.Name] = make(map[lockmodel.Token]owner)
			}
			granted[in.Name][res.Token] = owner{client: op.ClientId, ret: op.Return}
		case in.Kind == lockmodel.KindRelease && res.Status == lockmodel.StatusOK:
			if released[in.Name] == nil {
				released[in.Name] = make(map[releaseKey]int64)
			}
			released[in.Name][releaseKey{in.Token, op.ClientId}] = op.Return
		}
	}
	ws := append([]write(nil), writes...)
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].At < ws[j].At })
	last := make(map[string]write)
	accepted := 0
	for _, w := range ws {
		if !w.Accepted {
			continue
		}
		accepted++
		if prev, ok := last[w.Lock]; ok && w.Token < prev.Token {
			f.addf("lock %s: write by client %d with token %d accepted at %s after a write by client %d with token %d; the holds overlapped out of token order",
				w.Lock, w.Client, w.Token, atString(w.At), prev.Client, prev.Token)
		}
		last[w.Lock] = w
		switch o, ok := granted[w.Lock][w.Token]; {
		case !ok:
			f.addf("lock %s: write by client %d with token %d, which no acknowledged grant gave", w.Lock, w.Client, w.Token)
		case o.client != w.Client:
			f.addf("lock %s: write by client %d with token %d, granted to client %d", w.Lock, w.Client, w.Token, o.client)
		case o.ret > w.At:
			f.addf("lock %s: write by client %d with token %d at %s before its grant was answered at %s", w.Lock, w.Client, w.Token, atString(w.At), atString(o.ret))
		}
		if r, ok := released[w.Lock][releaseKey{w.Token, w.Client}]; ok && r < w.At {
			f.addf("lock %s: write by client %d with token %d at %s after its release was answered at %s", w.Lock, w.Client, w.Token, atString(w.At), atString(r))
		}
	}
	return f.verdict("fenced_resource", fmt.Sprintf("%d writes, %d accepted", len(writes), accepted))
}

// atString shows a history timestamp as seconds into the run.
func atString(at int64) string { return fmt.Sprintf("%.3fs", float64(at)/1e9) }
