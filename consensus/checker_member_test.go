package consensus

// This file holds the checkers' view of membership (§6): which membership
// the committed log has put in effect, and the property that a node removed
// by a committed membership never wins an election again unless it is added
// back. State Machine Safety covers membership entries already: applying a
// different membership entry at an index than another node is applying a
// different entry (type and data are compared).

import (
	"fmt"
	"slices"
)

// chkConfTrack follows the membership in effect at the end of the committed
// log: its newest membership entry, else the initial voters.
type chkConfTrack struct {
	m Membership
	// index is the index of m's entry, 0 for the initial voters.
	index Index
}

func newChkConfTrack(voters []NodeID) chkConfTrack {
	return chkConfTrack{m: Membership{Voters: slices.Sorted(slices.Values(voters))}}
}

// observe follows committed entry e, the one after those observed before.
func (c *chkConfTrack) observe(e Entry) error {
	if e.Type != EntryConfChange {
		return nil
	}
	m, err := DecodeMembership(e.Data)
	if err != nil {
		return fmt.Errorf("committed membership entry %s does not decode: %w", chkDescribe(e), err)
	}
	c.m, c.index = m, e.Index
	return nil
}

// removedLeader: a node that the committed membership does not list never
// wins an election. A node is listed from the committed entry that adds it
// as a learner (it must be one before it can be promoted, and a promotion
// not yet committed may already make it win) until a committed C_new drops
// it; a voter being removed is still listed, in the outgoing half, while the
// joint configuration is the newest committed one. So once the C_new that
// removed a node is committed it must not lead again, unless a committed
// entry added it back. Leaders elected before the removal may still believe
// they lead for a while (they learn of higher terms late): only wins count.
type removedLeader struct {
	next Index // the next committed index to observe
	conf chkConfTrack
}

func newRemovedLeader(voters []NodeID) *removedLeader {
	return &removedLeader{next: 1, conf: newChkConfTrack(voters)}
}

func (*removedLeader) name() string { return "removed leader" }

func (c *removedLeader) check(v *clusterView) error {
	for _, a := range v.applied {
		if a.entry.Index != c.next {
			continue
		}
		c.next++
		if err := c.conf.observe(a.entry); err != nil {
			return err
		}
	}
	for _, n := range v.won {
		if !c.conf.m.IsMember(n.id) {
			return fmt.Errorf("node %d won term %d, though the committed membership at %d (%s) does not list it",
				n.id, n.term, c.conf.index, c.conf.m)
		}
	}
	return nil
}
