package consensus

// progressState is how a leader replicates to one follower.
type progressState uint8

const (
	// stateProbe sends one MsgApp at a time (per heartbeat) until one is
	// acknowledged: the leader does not know where the logs agree.
	stateProbe progressState = iota
	// stateReplicate pipelines MsgApps, advancing next optimistically, with at
	// most a window of them in flight.
	stateReplicate
	// stateSnapshot has sent a MsgSnap (the entries the follower needs are
	// compacted) and sends nothing more until the follower acknowledges the
	// snapshot or the transport reports the outcome of sending it.
	stateSnapshot
)

// String returns the state's name, as in "replicate".
func (s progressState) String() string {
	switch s {
	case stateReplicate:
		return "replicate"
	case stateSnapshot:
		return "snapshot"
	}
	return "probe"
}

// progress is the leader's view of one voter (itself included).
type progress struct {
	// match is the highest index known to be on the voter's disk; next is the
	// index of the next entry to send. Invariant: match < next.
	match, next Index
	state       progressState
	// probeSent pauses a probing follower after one MsgApp until a response
	// or a heartbeat response arrives.
	probeSent bool
	// recentActive says the voter was heard from in the current CheckQuorum window.
	recentActive bool
	// ticksSinceHeard counts leader ticks since the last message from the voter.
	ticksSinceHeard int
	// readSeqAcked is the newest read confirmation round the voter echoed.
	readSeqAcked uint64
	// pendingSnapshot is the index of the snapshot sent in stateSnapshot.
	pendingSnapshot Index
	inflights       *inflights
}

// becomeProbe falls back to probing from just after match.
func (pr *progress) becomeProbe() {
	pr.state = stateProbe
	pr.next = pr.match + 1
	pr.probeSent = false
	pr.inflights.reset()
}

// becomeReplicate starts pipelining from just after match.
func (pr *progress) becomeReplicate() {
	pr.state = stateReplicate
	pr.next = pr.match + 1
	pr.probeSent = false
	pr.inflights.reset()
}

// becomeSnapshot pauses the follower while the snapshot at index travels.
func (pr *progress) becomeSnapshot(index Index) {
	pr.state = stateSnapshot
	pr.pendingSnapshot = index
	pr.probeSent = false
	pr.inflights.reset()
}

// snapshotDone leaves stateSnapshot after the transport reported the
// outcome: probing resumes after the snapshot when it was delivered, after
// match when it was not (the probe then finds the entries compacted and
// sends a fresh snapshot).
func (pr *progress) snapshotDone(delivered bool) {
	next := pr.match + 1
	if delivered {
		next = max(next, pr.pendingSnapshot+1)
	}
	pr.becomeProbe()
	pr.next = next
	pr.pendingSnapshot = 0
}

// maybeUpdate records an acknowledgement up to i; it returns false for a stale
// one (at or below match), which changes nothing.
func (pr *progress) maybeUpdate(i Index) bool {
	if i <= pr.match {
		return false
	}
	pr.match = i
	pr.probeSent = false
	if pr.next <= i {
		pr.next = i + 1
	}
	return true
}

// maybeDecrTo handles a rejection of the MsgApp whose prevLogIndex was
// rejected; hint is the highest index that may match (the leader's reading of
// the follower's hint). A pipelining follower drops back to probing. It
// returns false for a stale rejection, which changes nothing.
func (pr *progress) maybeDecrTo(rejected, hint Index) bool {
	if pr.state == stateSnapshot {
		// Answers an append sent before the snapshot.
		return false
	}
	if pr.state == stateReplicate {
		if rejected <= pr.match {
			return false
		}
		pr.state = stateProbe
		pr.inflights.reset()
	} else if pr.next == 0 || pr.next-1 != rejected {
		return false
	}
	// Any next in (match, rejected] is a safe probe: entries up to match agree.
	pr.next = max(min(rejected, hint+1), pr.match+1)
	pr.probeSent = false
	return true
}

// paused reports whether the leader must not send this follower a MsgApp now.
func (pr *progress) paused() bool {
	switch pr.state {
	case stateProbe:
		return pr.probeSent
	case stateSnapshot:
		return true
	}
	return pr.inflights.full()
}

// sentEntries updates the progress after a MsgApp whose last entry is last
// (0 when it carried none) was queued.
func (pr *progress) sentEntries(last Index) {
	switch pr.state {
	case stateReplicate:
		if last != 0 {
			pr.next = last + 1
			pr.inflights.add(last)
		}
	case stateProbe:
		pr.probeSent = true
	}
}
