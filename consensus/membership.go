package consensus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// ErrConfChangePending is returned by ProposeConfChange while an earlier
// membership change is not finished: its entry is not committed yet, or the
// cluster is still in the joint configuration it started. Only one change
// runs at a time.
var ErrConfChangePending = errors.New("consensus: a membership change is in progress")

// ErrInvalidConfChange is returned by ProposeConfChange for a change that
// does not fit the current membership (adding a member twice, promoting a
// node that is not a learner or is still catching up, removing the last
// voter...). The message says which.
var ErrInvalidConfChange = errors.New("consensus: invalid membership change")

// Membership is a cluster configuration (§6). Outside a change, Voters is the
// configuration and Outgoing is empty. During a change of voters the cluster
// runs in the joint configuration C_old,new: Outgoing is C_old, Voters is
// C_new, and every decision (election, commit, CheckQuorum, read
// confirmation) needs a majority of each. Learners receive the log but never
// vote, never count towards a majority and never campaign.
//
// A node uses the newest membership in its log, committed or not, and falls
// back to the previous one if that entry is truncated (§6).
type Membership struct {
	Voters   []NodeID `codec:"v"`
	Outgoing []NodeID `codec:"o,omitempty"`
	Learners []NodeID `codec:"l,omitempty"`
	// Context is the application's data about the members (their names and
	// addresses); the core carries it without reading it. Every membership
	// entry carries the whole of it, not a change.
	Context []byte `codec:"x,omitempty"`
}

// Joint reports whether m is a joint configuration C_old,new.
func (m *Membership) Joint() bool { return len(m.Outgoing) > 0 }

// IsVoter reports whether id votes in m (in either half of a joint configuration).
func (m *Membership) IsVoter(id NodeID) bool {
	return slices.Contains(m.Voters, id) || slices.Contains(m.Outgoing, id)
}

// IsLearner reports whether id is a learner in m.
func (m *Membership) IsLearner(id NodeID) bool { return slices.Contains(m.Learners, id) }

// IsMember reports whether id is a voter or a learner in m.
func (m *Membership) IsMember(id NodeID) bool { return m.IsVoter(id) || m.IsLearner(id) }

// Members returns every voter and learner of m, sorted, each once.
func (m *Membership) Members() []NodeID {
	out := make([]NodeID, 0, len(m.Voters)+len(m.Outgoing)+len(m.Learners))
	out = append(append(append(out, m.Voters...), m.Outgoing...), m.Learners...)
	slices.Sort(out)
	return slices.Compact(out)
}

// Clone returns a deep copy of m.
func (m Membership) Clone() Membership {
	return Membership{
		Voters:   slices.Clone(m.Voters),
		Outgoing: slices.Clone(m.Outgoing),
		Learners: slices.Clone(m.Learners),
		Context:  slices.Clone(m.Context),
	}
}

// Equal reports whether m and o list the same members and context.
func (m *Membership) Equal(o *Membership) bool {
	return slices.Equal(m.Voters, o.Voters) && slices.Equal(m.Outgoing, o.Outgoing) &&
		slices.Equal(m.Learners, o.Learners) && string(m.Context) == string(o.Context)
}

// String shows the members, as in "voters=[1 2 3] outgoing=[1 2] learners=[4]".
func (m Membership) String() string {
	s := fmt.Sprintf("voters=%v", m.Voters)
	if m.Joint() {
		s += fmt.Sprintf(" outgoing=%v", m.Outgoing)
	}
	if len(m.Learners) > 0 {
		s += fmt.Sprintf(" learners=%v", m.Learners)
	}
	return s
}

// Validate checks m as a configuration a cluster may run with: 1..VotersMax
// voters in each half, at most LearnersMax learners, no None, no id twice in
// one list, learners disjoint from voters, and a context of at most
// ConfContextBytesMax bytes. Lists must be sorted.
func (m *Membership) Validate() error {
	if n := len(m.Voters); n == 0 || n > VotersMax {
		return fmt.Errorf("%d voters, want 1..%d", n, VotersMax)
	}
	if n := len(m.Outgoing); n > VotersMax {
		return fmt.Errorf("%d outgoing voters, max %d", n, VotersMax)
	}
	if n := len(m.Learners); n > LearnersMax {
		return fmt.Errorf("%d learners, max %d", n, LearnersMax)
	}
	if n := len(m.Context); n > ConfContextBytesMax {
		return fmt.Errorf("context of %d bytes, max %d", n, ConfContextBytesMax)
	}
	for _, l := range []struct {
		what string
		ids  []NodeID
	}{{"voters", m.Voters}, {"outgoing", m.Outgoing}, {"learners", m.Learners}} {
		for i, id := range l.ids {
			if id == None {
				return fmt.Errorf("%s list None", l.what)
			}
			if i > 0 && id <= l.ids[i-1] {
				return fmt.Errorf("%s %v not sorted or list %d twice", l.what, l.ids, id)
			}
		}
	}
	for _, id := range m.Learners {
		if m.IsVoter(id) {
			return fmt.Errorf("%d is both a voter and a learner", id)
		}
	}
	return nil
}

// membershipFormat is the first byte of an encoded membership.
const membershipFormat = 1

// EncodeMembership returns the data of an EntryConfChange entry holding m:
// a format byte, then each list as a count and ids, then the context, all
// as unsigned varints.
func EncodeMembership(m Membership) []byte {
	n := 1 + binary.MaxVarintLen64*(4+len(m.Voters)+len(m.Outgoing)+len(m.Learners)) + len(m.Context)
	b := append(make([]byte, 0, n), membershipFormat)
	for _, ids := range [][]NodeID{m.Voters, m.Outgoing, m.Learners} {
		b = binary.AppendUvarint(b, uint64(len(ids)))
		for _, id := range ids {
			b = binary.AppendUvarint(b, uint64(id))
		}
	}
	b = binary.AppendUvarint(b, uint64(len(m.Context)))
	return append(b, m.Context...)
}

// DecodeMembership parses an EntryConfChange entry's data and validates the
// membership it holds. It never panics on bad bytes: they are a peer's or the
// disk's, and the error says what is wrong.
func DecodeMembership(data []byte) (Membership, error) {
	var m Membership
	if len(data) == 0 || data[0] != membershipFormat {
		return m, fmt.Errorf("membership: unknown format (%d bytes)", len(data))
	}
	d := data[1:]
	next := func(what string, max uint64) (uint64, error) {
		v, n := binary.Uvarint(d)
		if n <= 0 {
			return 0, fmt.Errorf("membership: truncated %s", what)
		}
		if v > max {
			return 0, fmt.Errorf("membership: %s %d, max %d", what, v, max)
		}
		d = d[n:]
		return v, nil
	}
	lists := []*[]NodeID{&m.Voters, &m.Outgoing, &m.Learners}
	for i, max := range []uint64{VotersMax, VotersMax, LearnersMax} {
		count, err := next("count", max)
		if err != nil {
			return Membership{}, err
		}
		if count == 0 {
			continue
		}
		ids := make([]NodeID, count)
		for j := range ids {
			id, err := next("id", ^uint64(0))
			if err != nil {
				return Membership{}, err
			}
			ids[j] = NodeID(id)
		}
		*lists[i] = ids
	}
	size, err := next("context bytes", ConfContextBytesMax)
	if err != nil {
		return Membership{}, err
	}
	if uint64(len(d)) != size {
		return Membership{}, fmt.Errorf("membership: context of %d bytes, %d left", size, len(d))
	}
	if size > 0 {
		m.Context = slices.Clone(d)
	}
	if err := m.Validate(); err != nil {
		return Membership{}, fmt.Errorf("membership: %w", err)
	}
	return m, nil
}

// ConfChangeOp is the kind of a membership change.
type ConfChangeOp uint8

const (
	// ConfAddLearner adds a node as a learner: it receives the log and
	// catches up without affecting any majority.
	ConfAddLearner ConfChangeOp = iota + 1
	// ConfPromote makes a caught-up learner a voter, through the joint
	// configuration.
	ConfPromote
	// ConfRemove removes a learner at once, or a voter through the joint
	// configuration. A leader that removes itself leads until C_new is
	// committed, then hands over and steps down.
	ConfRemove
)

// String returns the op's name, as in "add-learner".
func (op ConfChangeOp) String() string {
	switch op {
	case ConfAddLearner:
		return "add-learner"
	case ConfPromote:
		return "promote"
	case ConfRemove:
		return "remove"
	}
	return fmt.Sprintf("ConfChangeOp(%d)", uint8(op))
}

// ConfChange asks the leader to change the membership of one node.
type ConfChange struct {
	Op   ConfChangeOp
	Node NodeID
	// Context replaces the membership's context (the application's member
	// directory after the change).
	Context []byte
}

// next returns the membership that the first entry of change cc appends to
// m, with whether it is a joint configuration the leader must later leave.
// caughtUp reports whether a learner may be promoted.
func (cc ConfChange) next(m *Membership, caughtUp func(NodeID) error) (Membership, error) {
	if cc.Node == None {
		return Membership{}, fmt.Errorf("%w: %s of node None", ErrInvalidConfChange, cc.Op)
	}
	out := Membership{Voters: m.Voters, Learners: m.Learners, Context: cc.Context}
	switch cc.Op {
	case ConfAddLearner:
		if m.IsMember(cc.Node) {
			return Membership{}, fmt.Errorf("%w: node %d is already a member (%s)", ErrInvalidConfChange, cc.Node, m)
		}
		out.Learners = sortedWith(m.Learners, cc.Node)
	case ConfPromote:
		if !m.IsLearner(cc.Node) {
			return Membership{}, fmt.Errorf("%w: node %d is not a learner (%s)", ErrInvalidConfChange, cc.Node, m)
		}
		if err := caughtUp(cc.Node); err != nil {
			return Membership{}, err
		}
		out.Outgoing = m.Voters
		out.Voters = sortedWith(m.Voters, cc.Node)
		out.Learners = without(m.Learners, cc.Node)
	case ConfRemove:
		switch {
		case m.IsLearner(cc.Node):
			out.Learners = without(m.Learners, cc.Node)
		case slices.Contains(m.Voters, cc.Node):
			if len(m.Voters) == 1 {
				return Membership{}, fmt.Errorf("%w: node %d is the last voter", ErrInvalidConfChange, cc.Node)
			}
			out.Outgoing = m.Voters
			out.Voters = without(m.Voters, cc.Node)
		default:
			return Membership{}, fmt.Errorf("%w: node %d is not a member (%s)", ErrInvalidConfChange, cc.Node, m)
		}
	default:
		return Membership{}, fmt.Errorf("%w: unknown op %d", ErrInvalidConfChange, uint8(cc.Op))
	}
	out = out.Clone()
	if err := out.Validate(); err != nil {
		return Membership{}, fmt.Errorf("%w: %w", ErrInvalidConfChange, err)
	}
	return out, nil
}

// sortedWith returns a sorted copy of ids with id added.
func sortedWith(ids []NodeID, id NodeID) []NodeID {
	out := append(slices.Clone(ids), id)
	slices.Sort(out)
	return out
}

// without returns a copy of ids without id (nil when none is left).
func without(ids []NodeID, id NodeID) []NodeID {
	var out []NodeID
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

// majority reports whether yes holds for a majority of ids; an empty list
// (the outgoing half outside a joint configuration) agrees with anything.
func majority(ids []NodeID, yes func(NodeID) bool) bool {
	if len(ids) == 0 {
		return true
	}
	n := 0
	for _, id := range ids {
		if yes(id) {
			n++
		}
	}
	return n >= len(ids)/2+1
}

// quorumValue returns the highest v that a majority of ids has reached
// (value(id) >= v for a majority); an empty list imposes no bound. buf is
// scratch space, returned for reuse.
func quorumValue(ids []NodeID, value func(NodeID) uint64, buf []Index) (uint64, []Index) {
	if len(ids) == 0 {
		return ^uint64(0), buf
	}
	buf = buf[:0]
	for _, id := range ids {
		buf = append(buf, Index(value(id)))
	}
	sortIndexes(buf)
	return uint64(buf[len(buf)-(len(ids)/2+1)]), buf
}

// confEntry is a membership entry in the log.
type confEntry struct {
	index Index
	m     Membership
}

// confLog tracks which membership is in effect: the newest membership entry
// in the log, or the base one (from the snapshot, or the initial voters)
// when the log holds none after it.
type confLog struct {
	base      Membership
	baseIndex Index
	// entries are membership entries after baseIndex, by ascending index.
	entries []confEntry
}

// current returns the membership in effect and the index of its entry.
func (c *confLog) current() (*Membership, Index) {
	if n := len(c.entries); n > 0 {
		return &c.entries[n-1].m, c.entries[n-1].index
	}
	return &c.base, c.baseIndex
}

// committed returns the newest membership at or below index committed.
func (c *confLog) committed(committed Index) *Membership {
	for i := len(c.entries) - 1; i >= 0; i-- {
		if c.entries[i].index <= committed {
			return &c.entries[i].m
		}
	}
	return &c.base
}

// reset makes m, at index, the base with nothing after it (a snapshot).
func (c *confLog) reset(m Membership, index Index) {
	c.base, c.baseIndex, c.entries = m, index, nil
}

// truncateFrom forgets the entries at index i and after (a log truncation).
func (c *confLog) truncateFrom(i Index) {
	n := len(c.entries)
	for n > 0 && c.entries[n-1].index >= i {
		n--
	}
	c.entries = c.entries[:n]
}

// add records a membership entry at index, folding the entries at or below
// committed (which can never be truncated) into the base.
func (c *confLog) add(index Index, m Membership, committed Index) {
	c.entries = append(c.entries, confEntry{index: index, m: m})
	c.fold(committed)
}

// fold moves the newest entry at or below committed into the base.
func (c *confLog) fold(committed Index) {
	n := 0
	for n < len(c.entries) && c.entries[n].index <= committed {
		n++
	}
	if n == 0 {
		return
	}
	c.base, c.baseIndex = c.entries[n-1].m, c.entries[n-1].index
	c.entries = append(c.entries[:0:0], c.entries[n:]...)
}
