package main

import (
	"fmt"

	"github.com/anishathalye/porcupine"

	"github.com/raftlock/raftlock/locks"
	"github.com/raftlock/raftlock/locks/lockmodel"
)

// checkAcknowledged compares every answered request with a request id to
// the committed log: an acknowledged create, acquire, release, campaign,
// proclaim, resign or revoke is in the log with a successful result (a
// grant at the index that is its token, for the lease the client was told;
// a created lease at the index that is its id), and a refusal found in the
// log carries the code the client got. No acknowledged write is lost.
//
// When the log was compacted, requests invoked before coverFrom (history
// clock) may have their entries in the snapshot only: they are not required
// to be found, nor grants below the first replayed index.
func checkAcknowledged(h []porcupine.Operation, keys []string, r *replayed, coverFrom int64) verdict {
	var f finding
	checked, uncovered := 0, 0
	for i, op := range h {
		key := keys[i]
		in, out := op.Input.(lockmodel.Input), op.Output.(lockmodel.Output)
		if key == "" || out.Status == lockmodel.StatusUnknown || out.Status == lockmodel.StatusRejected {
			continue
		}
		checked++
		e, inLog := r.byKey[key]
		if out.Status != lockmodel.StatusOK {
			if inLog && !in.Wait && e.code != out.Status.String() {
				f.addf("%s by client %d (request id %s) was answered %s; the log's result at %d is %q", in, op.ClientId, key, out.Status, e.index, e.code)
			}
			continue
		}
		if !inLog && op.Call < coverFrom {
			uncovered++
			continue
		}
		if !inLog {
			f.addf("acknowledged %s by client %d (request id %s) is not in the committed log", in, op.ClientId, key)
			continue
		}
		if e.code != "" {
			f.addf("acknowledged %s by client %d (request id %s): the log's result at %d is %q", in, op.ClientId, key, e.index, e.code)
			continue
		}
		checkAckedPayload(&f, in, out, op.ClientId, e, r)
	}
	return f.verdict("acknowledged_in_log", fmt.Sprintf("%d answered requests with request ids (%d before the log's first entry), %d request ids in the log from index %d", checked, uncovered, len(r.byKey), r.from))
}

// checkAckedPayload checks what an acknowledged create or grant returned.
func checkAckedPayload(f *finding, in lockmodel.Input, out lockmodel.Output, client int, e appliedEntry, r *replayed) {
	switch in.Kind {
	case lockmodel.KindCreateLease:
		if lockmodel.LeaseID(e.index) != out.Lease {
			f.addf("create_lease by client %d answered lease %d; the log created it at %d", client, out.Lease, e.index)
		}
	case lockmodel.KindAcquire, lockmodel.KindCampaign:
		obj := "lock " + in.Name
		if in.Kind == lockmodel.KindCampaign {
			obj = "election " + in.Name
		}
		lease, ok := r.grantsAt[obj][locks.Token(out.Token)]
		switch {
		case locks.Index(out.Token) < r.from:
			// Granted in the compacted part of the log.
		case !ok:
			f.addf("%s: acknowledged grant of token %d to client %d (lease %d) is not a grant in the committed log", obj, out.Token, client, out.Lease)
		case lockmodel.LeaseID(lease) != out.Lease:
			f.addf("%s: grant of token %d answered to client %d for lease %d; the log granted it to lease %d", obj, out.Token, client, out.Lease, lease)
		}
	}
}
