package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/raftlock/raftlock/client/wire"
)

// printer writes command results to stdout: text is one line of key=value
// pairs per result (strings quoted when they hold spaces, quotes or control
// characters), json one JSON object per line.
type printer struct {
	w    io.Writer
	json bool
}

func newPrinter(w io.Writer, output string) printer {
	return printer{w: w, json: output == "json"}
}

// emit writes v as JSON, or text as is, with a newline.
func (p printer) emit(v any, text string) error {
	if p.json {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode output: %w", err)
		}
		text = string(b)
	}
	if _, err := fmt.Fprintln(p.w, text); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// acquired prints a grant: "token=42 lease_id=41".
func (p printer) acquired(a wire.Acquired) error {
	return p.emit(a, fmt.Sprintf("token=%d lease_id=%d", a.Token, a.LeaseID))
}

// released prints a release: nothing in text.
func (p printer) released(r wire.Released) error {
	if !p.json {
		return nil
	}
	return p.emit(r, "")
}

// leader prints an election's leader: "term=7 lease_id=41 value=host:7000",
// or "term=0" when it has none.
func (p printer) leader(info wire.ElectionInfo) error {
	text := "term=0"
	if l := info.Leader; l != nil {
		text = fmt.Sprintf("term=%d lease_id=%d value=%s", l.Term, l.LeaseID, textValue(l.Value))
	}
	return p.emit(info, text)
}

// cluster prints /v1/cluster: the node's view on one line, then a line per
// member.
func (p printer) cluster(c wire.Cluster) error {
	if p.json {
		return p.emit(c, "")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "id=%s role=%s term=%d leader=%s commit_index=%d applied_index=%d",
		textValue(c.ID), textValue(c.Role), c.Term, textValue(c.Leader), c.CommitIndex, c.AppliedIndex)
	for _, m := range c.Members {
		fmt.Fprintf(&b, "\nmember name=%s is_leader=%t peer_url=%s client_url=%s",
			textValue(m.Name), m.IsLeader, textValue(m.PeerURL), textValue(m.ClientURL))
	}
	return p.emit(nil, b.String())
}

// textValue is s as is, or Go-quoted when it is empty or holds a space, a
// quote, a backslash or a control character, so a text line stays one line
// of unambiguous key=value pairs.
func textValue(s string) string {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == '"' || r == '\\' || r == '=' || !unicode.IsPrint(r)
	}) {
		return strconv.Quote(s)
	}
	return s
}
