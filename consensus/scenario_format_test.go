package consensus

// This file holds the canonical text forms the scenario scripts print and
// parse: messages, entry runs and node state lines. They are the scripts'
// vocabulary, so they stay short and stable:
//
//	1->2 MsgApp term=8 prev=10/6 commit=3 ents=[11/8 12/8:"x"]
//	2->1 MsgAppResp term=8 index=4 reject hint=4/4
//	1->2 MsgPreVote term=9 last=11/8
//	2->1 MsgPreVoteResp term=9 grant
//	2: follower term=8 vote=1 lead=1 commit=3 last=12/8
//
// An entry is index/term, with :"data" when it carries data; a run of
// data-less entries of one term is lo..hi/term.

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// formatMessage is m's one-line canonical form.
func formatMessage(m Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d->%d %s term=%d", m.From, m.To, m.Type, m.Term)
	switch m.Type {
	case MsgApp:
		fmt.Fprintf(&b, " prev=%d/%d commit=%d ents=[%s]", m.Index, m.LogTerm, m.Commit, formatEntries(m.Entries))
	case MsgAppResp:
		fmt.Fprintf(&b, " index=%d", m.Index)
		if m.Reject {
			fmt.Fprintf(&b, " reject hint=%d/%d", m.RejectHint, m.LogTerm)
		}
	case MsgVote, MsgPreVote:
		fmt.Fprintf(&b, " last=%d/%d", m.Index, m.LogTerm)
	case MsgVoteResp, MsgPreVoteResp:
		if m.Reject {
			b.WriteString(" reject")
		} else {
			b.WriteString(" grant")
		}
	case MsgHeartbeat:
		fmt.Fprintf(&b, " commit=%d", m.Commit)
	case MsgReadIndexResp:
		fmt.Fprintf(&b, " index=%d", m.Index)
	default:
		formatOtherFields(&b, m)
	}
	if len(m.Context) > 0 {
		fmt.Fprintf(&b, " ctx=%s", formatContext(m.Context))
	}
	return b.String()
}

// formatOtherFields prints the non-zero fields of a message type the
// scripts have no special form for.
func formatOtherFields(b *strings.Builder, m Message) {
	if m.Index != 0 || m.LogTerm != 0 {
		fmt.Fprintf(b, " index=%d/%d", m.Index, m.LogTerm)
	}
	if m.Commit != 0 {
		fmt.Fprintf(b, " commit=%d", m.Commit)
	}
	if m.Reject {
		fmt.Fprintf(b, " reject hint=%d", m.RejectHint)
	}
	if len(m.Entries) > 0 {
		fmt.Fprintf(b, " ents=[%s]", formatEntries(m.Entries))
	}
}

// formatContext prints a read context: as text when it is printable (the
// scripts' own contexts), else as the leader's big-endian round number.
func formatContext(ctx []byte) string {
	printable := true
	for _, c := range ctx {
		if c < '!' || c > '~' {
			printable = false
		}
	}
	switch {
	case printable:
		return string(ctx)
	case len(ctx) == readContextBytes:
		var seq uint64
		for _, c := range ctx {
			seq = seq<<8 | uint64(c)
		}
		return fmt.Sprintf("#%d", seq)
	}
	return fmt.Sprintf("%x", ctx)
}

// formatEntries prints ents as space-separated entries and runs.
func formatEntries(ents []Entry) string {
	var parts []string
	for i := 0; i < len(ents); {
		e := ents[i]
		if len(e.Data) > 0 {
			parts = append(parts, fmt.Sprintf("%d/%d:%q", e.Index, e.Term, e.Data))
			i++
			continue
		}
		j := i + 1
		for j < len(ents) && len(ents[j].Data) == 0 && ents[j].Term == e.Term && ents[j].Index == ents[j-1].Index+1 {
			j++
		}
		if j-i == 1 {
			parts = append(parts, fmt.Sprintf("%d/%d", e.Index, e.Term))
		} else {
			parts = append(parts, fmt.Sprintf("%d..%d/%d", e.Index, ents[j-1].Index, e.Term))
		}
		i = j
	}
	return strings.Join(parts, " ")
}

// parseEntries parses entries and runs (index/term, lo..hi/term) into a
// contiguous log starting at index 1; the entries carry no data.
func parseEntries(fields []string) ([]Entry, error) {
	var ents []Entry
	for _, f := range fields {
		span, termText, ok := strings.Cut(f, "/")
		if !ok {
			return nil, fmt.Errorf("entry %q: want index/term or lo..hi/term", f)
		}
		term, err := strconv.ParseUint(termText, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("entry %q: term: %w", f, err)
		}
		loText, hiText, isRun := strings.Cut(span, "..")
		if !isRun {
			hiText = loText
		}
		lo, err := strconv.ParseUint(loText, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("entry %q: index: %w", f, err)
		}
		hi, err := strconv.ParseUint(hiText, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("entry %q: index: %w", f, err)
		}
		for i := lo; i <= hi; i++ {
			if want := Index(len(ents) + 1); Index(i) != want {
				return nil, fmt.Errorf("entry %q: index %d, want %d (logs start at 1 and have no gaps)", f, i, want)
			}
			ents = append(ents, Entry{Index: Index(i), Term: Term(term)})
		}
	}
	return ents, nil
}

// scenarioState is what a state line shows of a node.
type scenarioState struct {
	role     Role
	term     Term
	vote     NodeID
	lead     NodeID
	commit   Index
	last     Index
	lastTerm Term
}

// stateOf reads r's state line.
func stateOf(r *Raft) (scenarioState, error) {
	st := r.Status()
	lastTerm, err := r.log.lastTerm()
	if err != nil {
		return scenarioState{}, fmt.Errorf("node %d: last term: %w", st.ID, err)
	}
	return scenarioState{role: st.Role, term: st.Term, vote: st.Vote, lead: st.Lead,
		commit: st.Commit, last: st.LastIndex, lastTerm: lastTerm}, nil
}

// String is the state's canonical form, without the node id.
func (s scenarioState) String() string {
	return fmt.Sprintf("%s term=%d vote=%d lead=%d commit=%d last=%d/%d",
		s.role, s.term, s.vote, s.lead, s.commit, s.last, s.lastTerm)
}

func TestScenarioFormat(t *testing.T) {
	cases := []struct {
		name string
		m    Message
		want string
	}{
		{"append", Message{Type: MsgApp, From: 1, To: 2, Term: 8, Index: 10, LogTerm: 6, Commit: 3,
			Entries: []Entry{{Index: 11, Term: 8}, {Index: 12, Term: 8}, {Index: 13, Term: 8, Data: []byte("x")}}},
			`1->2 MsgApp term=8 prev=10/6 commit=3 ents=[11..12/8 13/8:"x"]`},
		{"rejection", Message{Type: MsgAppResp, From: 2, To: 1, Term: 8, Index: 10, Reject: true, RejectHint: 4, LogTerm: 4},
			"2->1 MsgAppResp term=8 index=10 reject hint=4/4"},
		{"pre-vote", Message{Type: MsgPreVote, From: 1, To: 3, Term: 9, Index: 11, LogTerm: 8}, "1->3 MsgPreVote term=9 last=11/8"},
		{"grant", Message{Type: MsgVoteResp, From: 3, To: 1, Term: 9}, "3->1 MsgVoteResp term=9 grant"},
		{"heartbeat round", Message{Type: MsgHeartbeat, From: 1, To: 2, Term: 2, Commit: 5, Context: encodeReadSeq(3)},
			"1->2 MsgHeartbeat term=2 commit=5 ctx=#3"},
		{"read", Message{Type: MsgReadIndex, From: 2, To: 1, Term: 2, Context: []byte("r1")}, "2->1 MsgReadIndex term=2 ctx=r1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatMessage(tc.m); got != tc.want {
				t.Fatalf("formatMessage(%s) = %q; want %q", tc.m.Type, got, tc.want)
			}
		})
	}
	ents, err := parseEntries([]string{"1/1", "2..4/3", "5/4"})
	if err != nil {
		t.Fatalf("parseEntries = %v; want nil", err)
	}
	if got, want := formatEntries(ents), "1/1 2..4/3 5/4"; got != want {
		t.Fatalf("formatEntries(parseEntries(%q)) = %q; want %q", want, got, want)
	}
	for _, bad := range []string{"2/1", "1", "1/x", "1..x/2"} {
		if _, err := parseEntries([]string{bad}); err == nil {
			t.Errorf("parseEntries(%q) = nil error; want one", bad)
		}
	}
}
