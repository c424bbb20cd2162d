package lockmodel

import (
	"math"

	"github.com/anishathalye/porcupine"
)

// An operation of unknown outcome may take effect at any time after its
// invocation, so Normalize gives it a return at +infinity, and the checker
// may linearize it anywhere: every such operation left floating multiplies
// the search. Many can be pinned down soundly, because the history itself
// shows the moment after which they can no longer take effect:
//
//   - release, resign or proclaim with token T on an object: once an answer
//     shows the object's holder with a token above T, T is never the holder's
//     token again (tokens only grow); nor once a release or resign of T
//     succeeded, or the lease an answer showed holding T is shown gone;
//   - revoke of a lease, and acquire or campaign with a lease: once an answer
//     shows the lease gone, it never comes back.
//
// Such an operation either took effect before that answer's linearization
// point or can be linearized right after it with no effect, so its return
// moves to that answer's return (or its own invocation, if later). The
// answer must be in every partition the operation is in, or the model could
// not see the operation become inert there: a keepalive or revoke (copied
// into every partition mentioning the lease), or an answer on the same
// object.

// clipUnknown moves the returns of h's unknown operations (already at
// +infinity) to the earliest moment the history shows they became inert.
func clipUnknown(h []porcupine.Operation) {
	type newer struct {
		ret   int64
		token Token
	}
	type leaseOn struct {
		key   objectKey
		lease LeaseID
	}
	type tokenOn struct {
		key   objectKey
		token Token
	}
	freed := map[tokenOn]int64{}     // earliest release or resign of the token that succeeded
	holders := map[tokenOn]LeaseID{} // the lease an answer showed holding the token
	held := map[objectKey][]newer{}  // holder tokens shown, per object
	gone := map[LeaseID]int64{}      // earliest keepalive or revoke showing the lease gone
	goneOn := map[leaseOn]int64{}    // earliest acquire or campaign on the object showing it gone
	earliest := func(at int64, seen bool, t int64) int64 {
		if !seen || t < at {
			return t
		}
		return at
	}
	for _, op := range h {
		in, out := op.Input.(Input), op.Output.(Output)
		if out.Status == StatusUnknown {
			continue
		}
		if id, ok := provesGone(in, out); ok {
			if in.Kind.isLeaseOp() {
				at, seen := gone[id]
				gone[id] = earliest(at, seen, op.Return)
			} else {
				k := leaseOn{keyOf(in), id}
				at, seen := goneOn[k]
				goneOn[k] = earliest(at, seen, op.Return)
			}
		}
		if t := holderTokenShown(in, out); t != 0 {
			k := keyOf(in)
			held[k] = append(held[k], newer{ret: op.Return, token: t})
			if l := holderLeaseShown(in, out); l != 0 {
				holders[tokenOn{k, t}] = l
			}
		}
		if (in.Kind == KindRelease || in.Kind == KindResign) && out.Status == StatusOK {
			k := tokenOn{keyOf(in), in.Token}
			at, seen := freed[k]
			freed[k] = earliest(at, seen, op.Return)
		}
	}
	for i, op := range h {
		in, out := op.Input.(Input), op.Output.(Output)
		if out.Status != StatusUnknown {
			continue
		}
		at := int64(math.MaxInt64)
		switch in.Kind {
		case KindRelease, KindResign, KindProclaim:
			for _, n := range held[keyOf(in)] {
				if n.token > in.Token && n.ret < at {
					at = n.ret
				}
			}
			k := tokenOn{keyOf(in), in.Token}
			if f, seen := freed[k]; seen && f < at {
				at = f
			}
			if g, seen := gone[holders[k]]; seen && holders[k] != 0 && g < at {
				at = g
			}
		case KindRevoke, KindAcquire, KindCampaign:
			if in.Lease == 0 {
				break
			}
			if g, seen := gone[in.Lease]; seen {
				at = g
			}
			if g, seen := goneOn[leaseOn{keyOf(in), in.Lease}]; seen && in.Kind != KindRevoke && g < at {
				at = g
			}
		}
		if at != math.MaxInt64 {
			h[i].Return = max(op.Call, at)
		}
	}
}

// holderTokenShown returns the token an answer shows as its object's
// holder's at the answer's linearization point, or 0. Fence is left out: under
// FenceHolderOrNewer a valid fence need not name the holder.
func holderTokenShown(in Input, out Output) Token {
	switch {
	case out.Status == StatusLockHeld:
		return out.Token
	case out.Status != StatusOK:
		return 0
	case in.Kind == KindAcquire || in.Kind == KindCampaign:
		return out.Token
	case (in.Kind == KindRead || in.Kind == KindLeader) && out.Held:
		return out.Token
	case in.Kind == KindRelease || in.Kind == KindResign || in.Kind == KindProclaim:
		return in.Token
	}
	return 0
}

// holderLeaseShown returns the lease an answer shows holding its object with
// holderTokenShown's token, or 0.
func holderLeaseShown(in Input, out Output) LeaseID {
	switch {
	case out.Status == StatusLockHeld:
		return out.Lease
	case out.Status != StatusOK:
		return 0
	case in.Kind == KindAcquire || in.Kind == KindCampaign:
		if out.Lease != 0 {
			return out.Lease
		}
		return in.Lease
	case (in.Kind == KindRead || in.Kind == KindLeader) && out.Held:
		return out.Lease
	}
	return 0
}
