package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/locks/lockmodel"
)

// campaign runs for an election with the session lease or a lease of its own.
func (w *worker) campaign(ctx context.Context) {
	name := w.pick(w.elecs)
	if _, ok := w.leads[name]; ok {
		w.proclaim(ctx)
		return
	}
	lease := lockmodel.LeaseID(0)
	if w.session != 0 && w.rng.IntN(2) == 0 {
		lease = w.session
	}
	wait := w.waitFor()
	value := fmt.Sprintf("c%d-%d", w.id, w.seq)
	body := wire.CampaignRequest{LeaseID: uint64(lease), Value: value, Wait: wire.Duration(wait)}
	in := lockmodel.Input{Kind: lockmodel.KindCampaign, Name: name, Lease: lease, Value: value, Wait: wait > 0}
	if lease == 0 {
		body.TTL, in.TTL = ttlString(), LeaseTTL
	}
	invoked := time.Now()
	out, _ := w.call(ctx, in, http.MethodPost, "/v1/elections/"+name+"/campaign", body, w.key(), wait,
		func(ans answer, out *lockmodel.Output) {
			holderFields(ans, out)
			var e wire.Elected
			if out.Status == lockmodel.StatusOK && ans.decode(&e) == nil {
				out.Token, out.Lease = lockmodel.Token(e.Term), lockmodel.LeaseID(e.LeaseID)
			}
		})
	w.remember(out.Token)
	switch {
	case out.Status == lockmodel.StatusOK:
		w.leads[name] = lead{term: out.Token, lease: out.Lease}
		w.proven(out.Lease, invoked)
	case out.Status == lockmodel.StatusUnknown && lease != 0:
		w.revoke(ctx, lease) // as in acquire
	}
}

// proclaim changes the value of an election the client leads (or tries a
// stale term).
func (w *worker) proclaim(ctx context.Context) {
	name := w.pick(w.elecs)
	term := w.staleToken()
	if l, ok := w.leads[name]; ok {
		term = l.term
	}
	value := fmt.Sprintf("c%d-p%d", w.id, w.seq)
	in := lockmodel.Input{Kind: lockmodel.KindProclaim, Name: name, Token: term, Value: value}
	out, _ := w.call(ctx, in, http.MethodPost, "/v1/elections/"+name+"/proclaim", wire.ProclaimRequest{Term: uint64(term), Value: value}, w.key(), 0, nil)
	if out.Status == lockmodel.StatusNotLeader {
		delete(w.leads, name)
	}
}

// resign gives up an election the client leads (or tries a stale term).
func (w *worker) resign(ctx context.Context) {
	name := w.pick(w.elecs)
	term := w.staleToken()
	if l, ok := w.leads[name]; ok {
		term = l.term
		delete(w.leads, name)
	}
	in := lockmodel.Input{Kind: lockmodel.KindResign, Name: name, Token: term}
	w.call(ctx, in, http.MethodPost, "/v1/elections/"+name+"/resign", wire.ResignRequest{Term: uint64(term)}, w.key(), 0, nil)
}

// leader is a linearizable read of an election.
func (w *worker) leader(ctx context.Context) {
	name := w.pick(w.elecs)
	in := lockmodel.Input{Kind: lockmodel.KindLeader, Name: name}
	out, _ := w.call(ctx, in, http.MethodGet, "/v1/elections/"+name, nil, "", 0,
		func(ans answer, out *lockmodel.Output) {
			var ei wire.ElectionInfo
			if out.Status != lockmodel.StatusOK {
				return
			}
			if ans.decode(&ei) != nil {
				out.Status = lockmodel.StatusUnknown
				return
			}
			if ei.Leader != nil {
				out.Held = true
				out.Token, out.Lease, out.Value = lockmodel.Token(ei.Leader.Term), lockmodel.LeaseID(ei.Leader.LeaseID), ei.Leader.Value
			}
		})
	w.remember(out.Token)
}
