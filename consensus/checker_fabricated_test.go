package consensus

// This file proves the simulator's checkers have teeth: each is fed hand-built
// cluster histories, legal ones that it must accept and violations of its
// property that it must catch, without any core running.

import (
	"fmt"
	"strings"
	"testing"
)

// fabEnt is entry (i, t) with data naming both, so equal (i, t) means equal data.
func fabEnt(i Index, t Term) Entry {
	return Entry{Index: i, Term: t, Data: fmt.Appendf(nil, "%d.%d", i, t)}
}

// fabLog is a log whose entry i+1 has term terms[i].
func fabLog(terms ...Term) []Entry {
	log := make([]Entry, 0, len(terms))
	for i, t := range terms {
		log = append(log, fabEnt(Index(i+1), t))
	}
	return log
}

// withData returns log with entry i's data replaced.
func withData(log []Entry, i Index, data string) []Entry {
	out := append([]Entry(nil), log...)
	out[i-1].Data = []byte(data)
	return out
}

func fabNode(id NodeID, role Role, term Term, log []Entry, dirtyFrom Index) nodeView {
	return nodeView{id: id, up: true, role: role, term: term, log: log, dirtyFrom: dirtyFrom}
}

func fabFollower(id NodeID, log []Entry) nodeView { return fabNode(id, RoleFollower, 1, log, 1) }

func fabApplied(node NodeID, term Term, entries ...Entry) []applyEvent {
	var out []applyEvent
	for _, e := range entries {
		out = append(out, applyEvent{node: node, term: term, entry: e})
	}
	return out
}

type checkerCase struct {
	name string
	// setup, when set, tells the checker about calls made before the views.
	setup func(c simChecker)
	views []clusterView
	// wantErr is "" when every view is legal; else the last view must fail
	// with an error containing it, and the views before it must pass.
	wantErr string
}

func runCheckerCases(t *testing.T, newChecker func() simChecker, cases []checkerCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newChecker()
			if tc.setup != nil {
				tc.setup(c)
			}
			for i, v := range tc.views {
				err := c.check(&v)
				last := i == len(tc.views)-1
				switch {
				case !last || tc.wantErr == "":
					if err != nil {
						t.Fatalf("%s.check(view %d) = %v; want nil", c.name(), i, err)
					}
				case err == nil:
					t.Fatalf("%s.check(view %d) = nil; want an error containing %q", c.name(), i, tc.wantErr)
				case !strings.Contains(err.Error(), tc.wantErr):
					t.Fatalf("%s.check(view %d) = %v; want an error containing %q", c.name(), i, err, tc.wantErr)
				}
			}
		})
	}
}

func TestCheckerElectionSafety(t *testing.T) {
	runCheckerCases(t, func() simChecker { return newElectionSafety() }, []checkerCase{{
		name: "one leader per term",
		views: []clusterView{
			{nodes: []nodeView{fabNode(1, RoleLeader, 1, nil, 0), fabNode(2, RoleFollower, 1, nil, 0)}},
			{nodes: []nodeView{fabNode(1, RoleFollower, 2, nil, 0), fabNode(2, RoleLeader, 2, nil, 0)}},
			{nodes: []nodeView{fabNode(1, RoleFollower, 2, nil, 0), fabNode(2, RoleLeader, 2, nil, 0)}},
		},
	}, {
		name: "two leaders at one instant",
		views: []clusterView{
			{nodes: []nodeView{fabNode(1, RoleLeader, 3, nil, 0), fabNode(2, RoleLeader, 3, nil, 0)}},
		},
		wantErr: "term 3 has two leaders",
	}, {
		name: "two leaders of one term at different times",
		views: []clusterView{
			{nodes: []nodeView{fabNode(1, RoleLeader, 3, nil, 0), fabNode(2, RoleFollower, 3, nil, 0)}},
			{nodes: []nodeView{{id: 1}, fabNode(2, RoleLeader, 3, nil, 0)}},
		},
		wantErr: "term 3 has two leaders: node 1 and node 2",
	}, {
		name: "a leader that crashed in the step it won",
		views: []clusterView{
			{nodes: []nodeView{{id: 1}, fabNode(2, RoleFollower, 3, nil, 0)}, won: []nodeView{fabNode(1, RoleLeader, 3, nil, 0)}},
			{nodes: []nodeView{{id: 1}, fabNode(2, RoleLeader, 3, nil, 0)}},
		},
		wantErr: "term 3 has two leaders: node 1 and node 2",
	}})
}

func TestCheckerLeaderAppendOnly(t *testing.T) {
	runCheckerCases(t, func() simChecker { return newLeaderAppendOnly() }, []checkerCase{{
		name: "leader appends; a deposed leader truncates",
		views: []clusterView{
			{nodes: []nodeView{fabNode(1, RoleLeader, 2, fabLog(1, 2), 1)}},
			{nodes: []nodeView{fabNode(1, RoleLeader, 2, fabLog(1, 2, 2), 3)}},
			{nodes: []nodeView{fabNode(1, RoleFollower, 3, fabLog(1, 3), 2)}},
			{nodes: []nodeView{fabNode(1, RoleLeader, 4, fabLog(1, 3, 4), 3)}},
		},
	}, {
		name: "leader overwrites an entry",
		views: []clusterView{
			{nodes: []nodeView{fabNode(1, RoleLeader, 2, fabLog(1, 1, 2), 1)}},
			{nodes: []nodeView{fabNode(1, RoleLeader, 2, fabLog(1, 2, 2), 2)}},
		},
		wantErr: "leader 1 of term 2: entry 2 changed",
	}, {
		name: "leader changes an entry's data",
		views: []clusterView{
			{nodes: []nodeView{fabNode(1, RoleLeader, 2, fabLog(1, 2), 1)}},
			{nodes: []nodeView{fabNode(1, RoleLeader, 2, withData(fabLog(1, 2), 2, "other"), 2)}},
		},
		wantErr: "entry 2 changed",
	}, {
		name: "leader's log shrinks",
		views: []clusterView{
			{nodes: []nodeView{fabNode(1, RoleLeader, 2, fabLog(1, 2, 2), 1)}},
			{nodes: []nodeView{fabNode(1, RoleLeader, 2, fabLog(1, 2), 0)}},
		},
		wantErr: "log shrank from 3 to 2",
	}})
}

func TestCheckerLogMatching(t *testing.T) {
	runCheckerCases(t, func() simChecker { return newLogMatching() }, []checkerCase{{
		name: "logs agree where they share an entry",
		views: []clusterView{{nodes: []nodeView{
			fabFollower(1, fabLog(1, 1, 2)),
			fabFollower(2, fabLog(1, 1)),
			fabFollower(3, fabLog(1, 1, 3, 3)),
		}}},
	}, {
		name: "same index and term, different data",
		views: []clusterView{{nodes: []nodeView{
			fabFollower(1, fabLog(1, 1, 2)),
			fabFollower(2, withData(fabLog(1, 1, 2), 2, "forged")),
		}}},
		wantErr: "index 2 term 1: node 2 has",
	}, {
		name: "same last entry, different prefixes",
		views: []clusterView{{nodes: []nodeView{
			fabFollower(1, fabLog(1, 1, 3)),
			fabFollower(2, fabLog(1, 2, 3)),
		}}},
		wantErr: "index 3 term 3: node 2 has term 2 before it, node 1 had term 1",
	}, {
		name: "conflict with an entry seen earlier",
		views: []clusterView{
			{nodes: []nodeView{fabFollower(1, fabLog(1, 2))}},
			{nodes: []nodeView{fabNode(1, RoleFollower, 2, fabLog(1), 0)}},
			{nodes: []nodeView{fabNode(1, RoleFollower, 2, withData(fabLog(1, 2), 2, "second"), 2)}},
		},
		wantErr: "index 2 term 2",
	}})
}

func TestCheckerLeaderCompleteness(t *testing.T) {
	committed := fabLog(1, 2)
	runCheckerCases(t, func() simChecker { return newLeaderCompleteness() }, []checkerCase{{
		name: "later leaders hold the committed entries",
		views: []clusterView{
			{nodes: []nodeView{fabNode(1, RoleLeader, 2, committed, 1)}, applied: fabApplied(1, 2, committed...)},
			{nodes: []nodeView{fabNode(2, RoleLeader, 3, fabLog(1, 2, 3), 1)}},
		},
	}, {
		name: "a leader of the committing term may lack it",
		views: []clusterView{
			{nodes: []nodeView{fabFollower(1, committed)}, applied: fabApplied(1, 4, committed...)},
			{nodes: []nodeView{fabNode(2, RoleLeader, 4, fabLog(1, 3, 4), 1)}},
		},
	}, {
		name: "a later leader lacks a committed entry",
		views: []clusterView{
			{nodes: []nodeView{fabNode(1, RoleLeader, 2, committed, 1)}, applied: fabApplied(1, 2, committed...)},
			{nodes: []nodeView{fabNode(3, RoleLeader, 3, fabLog(1, 3), 1)}},
		},
		wantErr: "leader 3 of term 3 lacks entry {index 2 term 2",
	}, {
		name: "a later apply lowers the bound of the entries before it",
		views: []clusterView{
			{nodes: []nodeView{fabFollower(1, committed)}, applied: fabApplied(1, 6, committed...)},
			{nodes: []nodeView{fabFollower(2, fabLog(1, 2, 2))}, applied: fabApplied(2, 3, fabLog(1, 2, 2)...)},
			{nodes: []nodeView{fabNode(3, RoleLeader, 4, fabLog(1, 4), 1)}},
		},
		wantErr: "leader 3 of term 4 lacks entry {index 2 term 2",
	}, {
		name: "a leader that crashed in the step it won",
		views: []clusterView{
			{nodes: []nodeView{fabNode(1, RoleLeader, 2, committed, 1)}, applied: fabApplied(1, 2, committed...)},
			{nodes: []nodeView{{id: 3, log: fabLog(1, 3)}}, won: []nodeView{fabNode(3, RoleLeader, 3, fabLog(1, 3), 0)}},
		},
		wantErr: "leader 3 of term 3 lacks entry {index 2 term 2",
	}})
}

func TestCheckerStateMachineSafety(t *testing.T) {
	runCheckerCases(t, func() simChecker { return newStateMachineSafety() }, []checkerCase{{
		name: "nodes apply the same entries",
		views: []clusterView{
			{applied: fabApplied(1, 2, fabLog(1, 2)...)},
			{applied: fabApplied(2, 2, fabLog(1, 2, 2)...)},
		},
	}, {
		name: "two entries applied at one index",
		views: []clusterView{
			{applied: fabApplied(1, 2, fabLog(1, 2)...)},
			{applied: fabApplied(2, 3, fabLog(1, 3)...)},
		},
		wantErr: "index 2: node 2 applied {index 2 term 3",
	}, {
		name: "same term, different data",
		views: []clusterView{
			{applied: fabApplied(1, 2, fabLog(1, 2)...)},
			{applied: fabApplied(2, 2, withData(fabLog(1, 2), 2, "forged")...)},
		},
		wantErr: "index 2: node 2 applied",
	}, {
		name: "two membership entries applied at one index",
		views: []clusterView{
			{applied: fabApplied(1, 1, fabEnt(1, 1), fabConf(2, 1, Membership{Voters: []NodeID{1, 2, 3}, Learners: []NodeID{4}}))},
			{applied: fabApplied(2, 1, fabEnt(1, 1), fabConf(2, 1, Membership{Voters: []NodeID{1, 2, 3}, Learners: []NodeID{5}}))},
		},
		wantErr: "index 2: node 2 applied {index 2 term 1 type 2",
	}})
}

func TestCheckerQuorumDurability(t *testing.T) {
	committed := fabLog(1, 1)
	runCheckerCases(t, func() simChecker { return newQuorumDurability([]NodeID{1, 2, 3}) }, []checkerCase{{
		name: "committed entries on two of three disks",
		views: []clusterView{{
			nodes:   []nodeView{fabFollower(1, committed), fabFollower(2, committed), fabFollower(3, fabLog(1))},
			applied: fabApplied(1, 1, committed...),
		}},
	}, {
		name: "a committed entry on one of three disks",
		views: []clusterView{{
			nodes:   []nodeView{fabFollower(1, committed), fabFollower(2, fabLog(1)), fabFollower(3, nil)},
			applied: fabApplied(1, 1, committed...),
		}},
		wantErr: "entry {index 2 term 1",
	}, {
		name: "a holder truncates a committed entry",
		views: []clusterView{
			{
				nodes:   []nodeView{fabFollower(1, committed), fabFollower(2, committed), fabFollower(3, fabLog(1))},
				applied: fabApplied(1, 1, committed...),
			},
			{nodes: []nodeView{
				fabNode(1, RoleFollower, 1, committed, 0),
				fabNode(2, RoleFollower, 2, fabLog(1, 2), 2),
				fabNode(3, RoleFollower, 1, fabLog(1), 0),
			}},
		},
		wantErr: "durable on fewer than 2 of the 3 voters",
	}, {
		name: "a crashed node's disk counts",
		views: []clusterView{{
			nodes:   []nodeView{fabFollower(1, committed), {id: 2, log: committed, dirtyFrom: 1}, fabFollower(3, nil)},
			applied: fabApplied(1, 1, committed...),
		}},
	}})
}

func TestCheckerReadLinearizability(t *testing.T) {
	invoke := func(rctx string, node NodeID, floor Index) func(simChecker) {
		return func(c simChecker) { c.(*readLinearizability).invoked([]byte(rctx), node, floor) }
	}
	read := func(node NodeID, rctx string, index Index) clusterView {
		return clusterView{reads: []readEvent{{node: node, rs: ReadState{Index: index, RequestCtx: []byte(rctx)}}}}
	}
	runCheckerCases(t, func() simChecker { return newReadLinearizability() }, []checkerCase{{
		name:  "read at the commit index known when invoked",
		setup: invoke("r1", 2, 5),
		views: []clusterView{read(2, "r1", 5), read(2, "r1", 6)},
	}, {
		name:    "stale read",
		setup:   invoke("r1", 2, 5),
		views:   []clusterView{read(2, "r1", 4)},
		wantErr: `ReadIndex("r1") on node 2 = 4; want >= 5`,
	}, {
		name:    "answer nobody asked for",
		setup:   invoke("r1", 2, 5),
		views:   []clusterView{read(2, "r2", 9)},
		wantErr: "nobody requested",
	}, {
		name:    "answer on the wrong node",
		setup:   invoke("r1", 2, 5),
		views:   []clusterView{read(3, "r1", 9)},
		wantErr: "requested on node 2",
	}})
}

func TestCheckerProposalPromise(t *testing.T) {
	propose := func(c simChecker) { c.(*proposalPromise).proposed(1, 3, 2, []byte("x")) }
	applied := func(node NodeID, e Entry) clusterView {
		return clusterView{applied: []applyEvent{{node: node, term: e.Term, entry: e}}}
	}
	runCheckerCases(t, func() simChecker { return newProposalPromise() }, []checkerCase{{
		name:  "the proposal is applied where promised",
		setup: propose,
		views: []clusterView{applied(1, Entry{Index: 3, Term: 2, Data: []byte("x")})},
	}, {
		name:  "the proposal is lost to a later term",
		setup: propose,
		views: []clusterView{applied(1, Entry{Index: 3, Term: 3, Data: []byte("y")})},
	}, {
		name:    "another entry of the promised term at the promised index",
		setup:   propose,
		views:   []clusterView{applied(1, Entry{Index: 3, Term: 2, Data: []byte("z")})},
		wantErr: `Propose("x") on node 1 = (3, 2)`,
	}})
}

func TestCheckerDurableState(t *testing.T) {
	type step struct {
		hs   HardState
		ents []Entry
	}
	tests := []struct {
		name    string
		steps   []step
		wantErr string // "" when every step is legal; else the last one fails with it
	}{{
		name: "terms grow, votes set once per term, appends and uncommitted rewrites",
		steps: []step{{hs: HardState{Term: 1, Vote: 2}}, {hs: HardState{Term: 2}}, {hs: HardState{Term: 2, Vote: 3}},
			{ents: fabLog(1, 2)}, {hs: HardState{Term: 3, Vote: 3, Commit: 1}, ents: fabLog(1, 3)[1:]}},
	}, {
		name:    "term goes back",
		steps:   []step{{hs: HardState{Term: 3}}, {hs: HardState{Term: 2}}},
		wantErr: "persisted term 2 over term 3",
	}, {
		name:    "second vote in a term",
		steps:   []step{{hs: HardState{Term: 3, Vote: 1}}, {hs: HardState{Term: 3, Vote: 2}}},
		wantErr: "persisted vote 2 in term 3, after voting 1",
	}, {
		name:    "committed entry rewritten",
		steps:   []step{{hs: HardState{Term: 2, Commit: 2}, ents: fabLog(1, 2)}, {ents: fabLog(1, 3)[1:]}},
		wantErr: "rewrote committed entry {index 2 term 2",
	}, {
		name:    "commit index goes back",
		steps:   []step{{hs: HardState{Term: 2, Commit: 2}, ents: fabLog(1, 2)}, {hs: HardState{Term: 2, Commit: 1}}},
		wantErr: "persisted commit index 1 after 2",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSimulator(simConfig{seed: 1, nodes: 3, profile: profileAny})
			n := s.nodes[0]
			for i, st := range tc.steps {
				err := s.persist(n, Ready{HardState: st.hs, Entries: st.ents})
				last := i == len(tc.steps)-1
				switch {
				case !last || tc.wantErr == "":
					if err != nil {
						t.Fatalf("persist(step %d) = %v; want nil", i, err)
					}
				case err == nil || !strings.Contains(err.Error(), tc.wantErr):
					t.Fatalf("persist(step %d) = %v; want an error containing %q", i, err, tc.wantErr)
				}
			}
		})
	}
}

// fabConf is a membership entry at (i, t) holding m.
func fabConf(i Index, t Term, m Membership) Entry {
	return Entry{Index: i, Term: t, Type: EntryConfChange, Data: EncodeMembership(m)}
}

// fabMember returns nodes 1..n with node i+1 holding logs[i] (a shared log,
// cut to lens[i] entries).
func fabMember(log []Entry, lens ...int) []nodeView {
	var out []nodeView
	for i, n := range lens {
		out = append(out, fabFollower(NodeID(i+1), log[:n]))
	}
	return out
}

func TestCheckerQuorumDurabilityMembership(t *testing.T) {
	shrunk := []Entry{fabEnt(1, 1),
		fabConf(2, 1, Membership{Voters: []NodeID{1, 2, 3}, Outgoing: []NodeID{1, 2, 3, 4, 5}}),
		fabConf(3, 1, Membership{Voters: []NodeID{1, 2, 3}}), fabEnt(4, 1)}
	moved := []Entry{fabEnt(1, 1), fabConf(2, 1, Membership{Voters: []NodeID{3, 4, 5}}), fabEnt(3, 1)}
	joint := []Entry{fabEnt(1, 1), fabConf(2, 1, Membership{Voters: []NodeID{1, 4, 5}, Outgoing: []NodeID{1, 2, 3}}), fabEnt(3, 1)}
	five := func() simChecker { return newQuorumDurability([]NodeID{1, 2, 3, 4, 5}) }
	three := func() simChecker { return newQuorumDurability([]NodeID{1, 2, 3}) }
	tests := []struct {
		name       string
		newChecker func() simChecker
		view       clusterView
		wantErr    string
	}{{
		// Two of five nodes, which the count over every node refused.
		name:       "after a shrink to three, two of the three voters are enough",
		newChecker: five,
		view:       clusterView{nodes: fabMember(shrunk, 4, 4, 1, 0, 0), applied: fabApplied(1, 1, shrunk...)},
	}, {
		// Three of five nodes, which the count over every node accepted.
		name:       "three of five nodes, but one of the three voters",
		newChecker: three,
		view:       clusterView{nodes: fabMember(moved, 3, 3, 3, 1, 1), applied: fabApplied(1, 1, moved...)},
		wantErr:    "entry {index 2 term 1 type 2",
	}, {
		name:       "joint: the incoming half holds everything, the outgoing half the joint entry",
		newChecker: three,
		view:       clusterView{nodes: fabMember(joint, 3, 2, 1, 3, 1), applied: fabApplied(1, 1, joint...)},
	}, {
		name:       "joint: the outgoing half lost the joint entry",
		newChecker: three,
		view:       clusterView{nodes: fabMember(joint, 3, 1, 1, 3, 1), applied: fabApplied(1, 1, joint...)},
		wantErr:    "durable on fewer than 2 of the 3 outgoing voters [1 2 3]",
	}, {
		name:       "joint: the incoming half lost an entry after the joint entry",
		newChecker: three,
		view:       clusterView{nodes: fabMember(joint, 3, 3, 3, 2, 2), applied: fabApplied(1, 1, joint...)},
		wantErr:    "entry {index 3 term 1 type 0 data \"3.1\"} is committed but durable on fewer than 2 of the 3 voters [1 4 5]",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.newChecker()
			err := c.check(&tc.view)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("%s.check() = %v; want nil", c.name(), err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("%s.check() = %v; want an error containing %q", c.name(), err, tc.wantErr)
			}
		})
	}
}

func TestCheckerRemovedLeader(t *testing.T) {
	removed := []Entry{fabEnt(1, 1),
		fabConf(2, 1, Membership{Voters: []NodeID{1, 2}, Outgoing: []NodeID{1, 2, 3}}),
		fabConf(3, 1, Membership{Voters: []NodeID{1, 2}})}
	readded := append(append([]Entry(nil), removed...), fabConf(4, 2, Membership{Voters: []NodeID{1, 2}, Learners: []NodeID{3}}))
	won := func(id NodeID, term Term) []nodeView { return []nodeView{fabNode(id, RoleLeader, term, nil, 0)} }
	runCheckerCases(t, func() simChecker { return newRemovedLeader([]NodeID{1, 2, 3}) }, []checkerCase{{
		name: "a voter being removed wins while the joint configuration is the newest committed",
		views: []clusterView{
			{applied: fabApplied(1, 1, removed[:2]...)},
			{won: won(3, 2)},
		},
	}, {
		name: "a removed voter wins after the C_new that removed it committed",
		views: []clusterView{
			{applied: fabApplied(1, 1, removed...)},
			{won: won(3, 2)},
		},
		wantErr: "node 3 won term 2, though the committed membership at 3 (voters=[1 2]) does not list it",
	}, {
		name: "a removed node added back as a learner wins (its promotion is in its log only)",
		views: []clusterView{
			{applied: fabApplied(1, 2, readded...)},
			{won: won(3, 3)},
		},
	}, {
		name: "a node never added wins",
		views: []clusterView{
			{applied: fabApplied(1, 1, fabEnt(1, 1))},
			{won: won(4, 2)},
		},
		wantErr: "node 4 won term 2",
	}, {
		name: "a leader elected before its removal keeps leading: not a win",
		views: []clusterView{
			{nodes: []nodeView{fabNode(3, RoleLeader, 1, nil, 0)}, won: won(3, 1)},
			{nodes: []nodeView{fabNode(3, RoleLeader, 1, nil, 0)}, applied: fabApplied(1, 1, removed...)},
		},
	}})
}
