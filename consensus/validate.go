package consensus

import (
	"fmt"
	"math"
)

// validate rejects a message no correct peer sends. It checks the message
// alone (and our id and membership), never our log: a well-formed message
// that does not fit our state is handled by the protocol, not refused here.
func (r *Raft) validate(m Message) error {
	switch {
	case !m.Type.Valid():
		return fmt.Errorf("%w: unknown type %d", ErrInvalidMessage, uint8(m.Type))
	case m.Type == MsgSnap || m.Type == MsgTimeoutNow:
		return fmt.Errorf("%w: %s is not supported yet", ErrInvalidMessage, m.Type)
	case m.To != r.id:
		return fmt.Errorf("%w: %s to %d delivered to %d", ErrInvalidMessage, m.Type, m.To, r.id)
	case m.From == None:
		return fmt.Errorf("%w: %s from None", ErrInvalidMessage, m.Type)
	case m.From == r.id:
		return fmt.Errorf("%w: %s from this node %d", ErrInvalidMessage, m.Type, m.From)
	case !r.isVoter(m.From):
		return fmt.Errorf("%w: %s from %d, not a voter", ErrInvalidMessage, m.Type, m.From)
	case m.Term > TermMax:
		return fmt.Errorf("%w: %s from %d at term %d, max %d", ErrInvalidMessage, m.Type, m.From, m.Term, Term(TermMax))
	case m.Type != MsgApp && len(m.Entries) > 0:
		return fmt.Errorf("%w: %s with %d entries", ErrInvalidMessage, m.Type, len(m.Entries))
	}
	switch m.Type {
	case MsgApp:
		return validateAppend(m)
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
		prevTerm = e.Term
	}
	return nil
}
