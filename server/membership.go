package server

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"go.uber.org/zap"

	"github.com/raftlock/raftlock/consensus"
)

// Membership changes (issue 8). The member directory (every member's name,
// Raft id, peer URL and client URL) travels as JSON in the Context of every
// membership entry the server proposes, so every node, and a node restarted
// with a stale --initial-cluster, learns the addresses of the members the
// log names. The initial cluster has no context: its directory comes from
// --initial-cluster.

// dirEntry is one member in the JSON directory of a membership context.
type dirEntry struct {
	ID        consensus.NodeID `json:"id"`
	Name      string           `json:"name"`
	PeerURL   string           `json:"peer_url"`
	ClientURL string           `json:"client_url,omitempty"`
}

// dirContext is the JSON of Membership.Context.
type dirContext struct {
	Members []dirEntry `json:"members"`
}

// memberDir is an applied membership with the addresses of its members.
// It is replaced whole, never modified.
type memberDir struct {
	// members are the voters and learners with their addresses, sorted by
	// name.
	members    []Member
	membership consensus.Membership
	// index is the log index of the membership (0: the initial one).
	index consensus.Index
}

// encodeDirectory is the Membership.Context listing members.
func encodeDirectory(members []Member) ([]byte, error) {
	dc := dirContext{Members: make([]dirEntry, 0, len(members))}
	for _, m := range members {
		dc.Members = append(dc.Members, dirEntry{ID: m.ID, Name: m.Name, PeerURL: m.PeerURL, ClientURL: m.ClientURL})
	}
	b, err := json.Marshal(dc)
	if err != nil {
		return nil, fmt.Errorf("server: encode member directory: %w", err)
	}
	if len(b) > consensus.ConfContextBytesMax {
		return nil, fmt.Errorf("%w: member directory is %d bytes, max %d", ErrTooLarge, len(b), consensus.ConfContextBytesMax)
	}
	return b, nil
}

// decodeDirectory parses a Membership.Context. It came from the log (from
// the network, or disk): it is validated, never trusted.
func decodeDirectory(b []byte, peerScheme string) ([]Member, error) {
	var dc dirContext
	if err := json.Unmarshal(b, &dc); err != nil {
		return nil, fmt.Errorf("server: member directory: %w", err)
	}
	if len(dc.Members) > MembersMax {
		return nil, fmt.Errorf("server: member directory has %d members, max %d", len(dc.Members), MembersMax)
	}
	out := make([]Member, 0, len(dc.Members))
	seen := make(map[string]bool, len(dc.Members))
	seenID := make(map[consensus.NodeID]string, len(dc.Members))
	for _, e := range dc.Members {
		if seen[e.Name] {
			return nil, fmt.Errorf("server: member directory: %s is listed twice", e.Name)
		}
		seen[e.Name] = true
		if e.ID == consensus.None {
			return nil, fmt.Errorf("server: member directory: %s has no raft id", e.Name)
		}
		if other, dup := seenID[e.ID]; dup {
			return nil, fmt.Errorf("server: member directory: %s and %s have the same raft id %x", other, e.Name, uint64(e.ID))
		}
		seenID[e.ID] = e.Name
		if err := validateName("member", e.Name); err != nil {
			return nil, fmt.Errorf("server: member directory: %w", err)
		}
		if err := validateURL("peer-url", e.PeerURL, peerScheme); err != nil {
			return nil, fmt.Errorf("server: member directory: %s: %w", e.Name, err)
		}
		out = append(out, Member{Name: e.Name, ID: e.ID, PeerURL: e.PeerURL, ClientURL: e.ClientURL})
	}
	sortMembers(out)
	return out, nil
}

func sortMembers(ms []Member) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
}

// directoryOf builds the directory of membership m: the members its context
// lists or, without a context (the initial cluster), those of prev; either
// way only the members m names.
func directoryOf(m consensus.Membership, index consensus.Index, prev []Member, peerScheme string) (*memberDir, error) {
	listed := prev
	if len(m.Context) > 0 {
		var err error
		if listed, err = decodeDirectory(m.Context, peerScheme); err != nil {
			return nil, err
		}
	}
	d := &memberDir{membership: m.Clone(), index: index}
	for _, mem := range listed {
		if m.IsMember(mem.ID) {
			d.members = append(d.members, mem)
		}
	}
	return d, nil
}

// directory returns the member directory as of the last membership the
// node applied (and handed to the membership worker).
func (n *Node) directory() *memberDir { return n.dir.Load() }

// memberList returns the current members with their addresses.
func (n *Node) memberList() []Member { return n.directory().members }

// onMembership is driver.Config.OnMembership: called on the Raft loop, it
// must not block, so it hands m to the membership worker through a queue of
// one where the newest membership replaces an unread one (each carries the
// whole directory, so skipping one loses nothing).
func (n *Node) onMembership(index consensus.Index, m consensus.Membership) {
	u := membershipUpdate{index: index, m: m.Clone()}
	for {
		select {
		case n.memberCh <- u:
			return
		default:
		}
		select {
		case <-n.memberCh:
		default:
		}
	}
}

// membershipUpdate is one applied membership on its way to the worker.
type membershipUpdate struct {
	index consensus.Index
	m     consensus.Membership
}

// runMembership applies the memberships the loop hands over until ctx ends.
func (n *Node) runMembership(ctx context.Context) {
	for {
		select {
		case u := <-n.memberCh:
			n.applyDirectory(u.index, u.m)
		case <-ctx.Done():
			return
		}
	}
}

// localAddresses returns members with the peer URL this node's own
// --initial-cluster gives for the members it lists (same name and raft id):
// how this node reaches a peer is its own configuration's to say (a proxy,
// another network path), the directory's address is for the others. A
// member added later (its raft id is fresh) has only the directory's.
func (n *Node) localAddresses(members []Member) []Member {
	local := n.cfg.Members()
	out := slices.Clone(members)
	for i, m := range out {
		if l, ok := findMemberID(local, m.ID); ok && l.Name == m.Name && l.PeerURL != m.PeerURL {
			out[i].PeerURL = l.PeerURL
		}
	}
	return out
}

// applyDirectory makes membership m (applied at index) the node's
// directory and brings the transport's peers in line with it: new members
// are added (or their URL changed), members that left are removed.
func (n *Node) applyDirectory(index consensus.Index, m consensus.Membership) {
	cur := n.directory()
	d, err := directoryOf(m, index, cur.members, n.cfg.peerScheme())
	if err != nil {
		// The entry is committed: its membership holds, only the addresses
		// are unreadable. Keep the known addresses of its members.
		n.log.Warn("member directory unreadable", zap.Uint64("index", uint64(index)), zap.Error(err))
		d, _ = directoryOf(consensus.Membership{Voters: m.Voters, Outgoing: m.Outgoing, Learners: m.Learners}, index, cur.members, n.cfg.peerScheme())
	}
	d.members = n.localAddresses(d.members)
	n.dir.Store(d)
	for _, mem := range d.members {
		if mem.ID == n.self.ID {
			continue
		}
		if old, ok := findMemberID(cur.members, mem.ID); ok && old.PeerURL == mem.PeerURL {
			continue
		}
		if err := n.trans.AddPeer(mem.ID, mem.PeerURL); err != nil {
			n.log.Warn("peer not added", zap.String("peer", mem.Name), zap.Error(err))
		}
	}
	// Peers are never removed here. A node that joined replays the log from
	// its start (or from an old snapshot) and applies memberships older than
	// the one it joined: removing the peers those do not list would drop
	// the current leader's address (a member added since, under a fresh
	// raft id), refuse its messages, and leave the node unable to catch up
	// (the chaos harness's wipe fault found it). A removed member's peer
	// stays idle: Raft sends only to members.
	n.log.Info("member directory updated", zap.Uint64("index", uint64(index)),
		zap.Int("voters", len(d.membership.Voters)), zap.Int("learners", len(d.membership.Learners)))
}

// roleOf is a member's role in d: voter or learner.
func (d *memberDir) isLearner(id consensus.NodeID) bool {
	return d.membership.IsLearner(id) && !d.membership.IsVoter(id)
}

// withMember returns d's members with m added (or replaced, by name).
func (d *memberDir) withMember(m Member) []Member {
	out := slices.DeleteFunc(slices.Clone(d.members), func(x Member) bool { return x.Name == m.Name })
	out = append(out, m)
	sortMembers(out)
	return out
}

// without returns d's members without the one named name.
func (d *memberDir) without(name string) []Member {
	return slices.DeleteFunc(slices.Clone(d.members), func(x Member) bool { return x.Name == name })
}
