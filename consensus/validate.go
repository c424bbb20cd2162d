package consensus

import (
	"fmt"
	"math"
	"slices"
)

// validate rejects a message no correct peer sends. It checks the message
// alone (and our id), never our log or membership: a node joining the
// cluster hears from a leader it does not know yet, and a candidate may be a
// voter of a membership this node has not seen. A well-formed message that
// does not fit our state is handled by the protocol, not refused here.
func (r *Raft) validate(m Message) error {
	switch {
	case !m.Type.Valid():
		return fmt.Errorf("%w: unknown type %d", ErrInvalidMessage, uint8(m.Type))
	case m.To != r.id:
		return fmt.Errorf("%w: %s to %d delivered to %d", ErrInvalidMessage, m.Type, m.To, r.id)
	case m.From == None:
		return fmt.Errorf("%w: %s from None", ErrInvalidMessage, m.Type)
	case m.From == r.id:
		return fmt.Errorf("%w: %s from this node %d", ErrInvalidMessage, m.Type, m.From)
	case m.Term > TermMax:
		return fmt.Errorf("%w: %s from %d at term %d, max %d", ErrInvalidMessage, m.Type, m.From, m.Term, Term(TermMax))
	case m.Type != MsgApp && len(m.Entries) > 0:
		return fmt.Errorf("%w: %s with %d entries", ErrInvalidMessage, m.Type, len(m.Entries))
	case m.Type != MsgSnap && m.Snapshot != nil:
		return fmt.Errorf("%w: %s with a snapshot", ErrInvalidMessage, m.Type)
	}
	switch m.Type {
	case MsgApp:
		return validateAppend(m)
	case MsgSnap:
		return ValidateSnapshotMeta(m.Snapshot, m.Term)
	case MsgAppResp:
		if m.Reject && m.RejectHint > m.Index {
			return fmt.Errorf("%w: MsgAppResp from %d rejects %d with hint %d above it", ErrInvalidMessage, m.From, m.Index, m.RejectHint)
		}
	case MsgVote, MsgPreVote:
		if m.Term == 0 || m.LogTerm > m.Term {
			return fmt.Errorf("%w: %s from %d at term %d with last log term %d", ErrInvalidMessage, m.Type, m.From, m.Term, m.LogTerm)
		}
	}
	return nil
}

// ValidateSnapshotMeta checks the metadata of a snapshot a leader of term
// sent (or that a peer streams): present, at an index above 0, of a term
// between 1 and term, with a valid membership (Membership.Validate, in any
// order). The transport checks it too, before it stores the snapshot's data.
func ValidateSnapshotMeta(s *SnapshotMeta, term Term) error {
	switch {
	case s == nil:
		return fmt.Errorf("%w: MsgSnap without a snapshot", ErrInvalidMessage)
	case s.Index == 0:
		return fmt.Errorf("%w: snapshot at index 0", ErrInvalidMessage)
	case s.Term == 0 || s.Term > term:
		return fmt.Errorf("%w: snapshot at index %d has term %d, want 1..%d", ErrInvalidMessage, s.Index, s.Term, term)
	}
	m := s.Membership().Clone()
	slices.Sort(m.Voters)
	slices.Sort(m.Outgoing)
	slices.Sort(m.Learners)
	if err := m.Validate(); err != nil {
		return fmt.Errorf("%w: snapshot at index %d: %w", ErrInvalidMessage, s.Index, err)
	}
	return nil
}

// validateAppend checks that a MsgApp's entries follow prevLogIndex one by
// one with terms between prevLogTerm and the message's term, never falling.
func validateAppend(m Message) error {
	if m.LogTerm > m.Term {
		return fmt.Errorf("%w: MsgApp from %d at term %d with previous log term %d", ErrInvalidMessage, m.From, m.Term, m.LogTerm)
	}
	if uint64(len(m.Entries)) > math.MaxUint64-uint64(m.Index) {
		return fmt.Errorf("%w: MsgApp from %d: %d entries after index %d overflow", ErrInvalidMessage, m.From, len(m.Entries), m.Index)
	}
	prevTerm := m.LogTerm
	for i := range m.Entries {
		e := &m.Entries[i]
		if want := m.Index + 1 + Index(i); e.Index != want {
			return fmt.Errorf("%w: MsgApp from %d: entry %d has index %d, want %d", ErrInvalidMessage, m.From, i, e.Index, want)
		}
		if e.Term > m.Term || e.Term < prevTerm {
			return fmt.Errorf("%w: MsgApp from %d at term %d: entry %d has term %d after term %d", ErrInvalidMessage, m.From, m.Term, e.Index, e.Term, prevTerm)
		}
		if e.Type > EntryConfChange {
			return fmt.Errorf("%w: MsgApp from %d: entry %d has type %d", ErrInvalidMessage, m.From, e.Index, e.Type)
		}
		if e.Type == EntryConfChange {
			if _, err := DecodeMembership(e.Data); err != nil {
				return fmt.Errorf("%w: MsgApp from %d: entry %d: %w", ErrInvalidMessage, m.From, e.Index, err)
			}
		}
		prevTerm = e.Term
	}
	return nil
}
