package driver

import (
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

// saveRecorder records every Save.
type saveRecorder struct {
	Store
	saves []consensus.HardState
	ents  []int
}

func (s *saveRecorder) Save(hs consensus.HardState, ents []consensus.Entry) error {
	s.saves = append(s.saves, hs)
	s.ents = append(s.ents, len(ents))
	return nil
}

func TestPersistDefersCommitOnlyHardState(t *testing.T) {
	rec := &saveRecorder{}
	n := &Node{cfg: Config{Store: rec}}
	n.savedHS = consensus.HardState{Term: 1, Vote: 1, Commit: 0}
	n.unsavedHS = n.savedHS
	ent := []consensus.Entry{{Index: 6, Term: 1}}
	steps := []struct {
		name string
		hs   consensus.HardState
		ents []consensus.Entry
		want *consensus.HardState // nil: no Save
	}{
		{"commit only", consensus.HardState{Term: 1, Vote: 1, Commit: 5}, nil, nil},
		{"entries carry the newer commit", consensus.HardState{}, ent, &consensus.HardState{Term: 1, Vote: 1, Commit: 5}},
		{"entries alone", consensus.HardState{}, ent, &consensus.HardState{}},
		{"new term", consensus.HardState{Term: 2, Vote: 0, Commit: 5}, nil, &consensus.HardState{Term: 2, Vote: 0, Commit: 5}},
		{"vote", consensus.HardState{Term: 2, Vote: 3, Commit: 5}, nil, &consensus.HardState{Term: 2, Vote: 3, Commit: 5}},
		{"commit only again", consensus.HardState{Term: 2, Vote: 3, Commit: 6}, nil, nil},
		{"nothing", consensus.HardState{}, nil, nil},
	}
	for _, st := range steps {
		before := len(rec.saves)
		if err := n.persist(st.hs, st.ents); err != nil {
			t.Fatalf("%s: persist = %v", st.name, err)
		}
		switch {
		case st.want == nil && len(rec.saves) != before:
			t.Fatalf("%s: Save(%+v) called; want no Save", st.name, rec.saves[before])
		case st.want != nil && len(rec.saves) != before+1:
			t.Fatalf("%s: %d Saves; want 1", st.name, len(rec.saves)-before)
		case st.want != nil && (rec.saves[before] != *st.want || rec.ents[before] != len(st.ents)):
			t.Fatalf("%s: Save(%+v, %d entries); want Save(%+v, %d entries)", st.name, rec.saves[before], rec.ents[before], *st.want, len(st.ents))
		}
	}
}
