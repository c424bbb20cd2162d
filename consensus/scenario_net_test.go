package consensus

// This file holds the scenario commands that move messages and time:
// deliver, drop, send, cuts and partitions, crash and restart, stabilize
// and run, with the message filters they share.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// scenarioRoute is a from->to filter; None stands for any node (*).
type scenarioRoute struct{ from, to NodeID }

// scenarioFilter selects messages by route and by type.
type scenarioFilter struct {
	routes []scenarioRoute
	types  []MessageType
}

// parseRoute parses "1->3", "1->*" or "*->3".
func parseRoute(s string) (scenarioRoute, error) {
	fromText, toText, ok := strings.Cut(s, "->")
	if !ok {
		return scenarioRoute{}, fmt.Errorf("bad route %q, want from->to", s)
	}
	var r scenarioRoute
	var err error
	if fromText != "*" {
		if r.from, err = parseNodeID(fromText); err != nil {
			return r, err
		}
	}
	if toText != "*" {
		if r.to, err = parseNodeID(toText); err != nil {
			return r, err
		}
	}
	return r, nil
}

// parseMessageType parses a type's name, as in MsgVote.
func parseMessageType(s string) (MessageType, error) {
	for t := MsgApp; t.Valid(); t++ {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown message type %q", s)
}

func parseFilter(args []string) (scenarioFilter, error) {
	var f scenarioFilter
	for _, a := range args {
		if strings.Contains(a, "->") {
			r, err := parseRoute(a)
			if err != nil {
				return f, err
			}
			f.routes = append(f.routes, r)
			continue
		}
		t, err := parseMessageType(a)
		if err != nil {
			return f, err
		}
		f.types = append(f.types, t)
	}
	return f, nil
}

// match reports whether m passes the filter.
func (f scenarioFilter) match(m Message) bool {
	routeOK := len(f.routes) == 0
	for _, r := range f.routes {
		if (r.from == None || r.from == m.From) && (r.to == None || r.to == m.To) {
			routeOK = true
		}
	}
	typeOK := len(f.types) == 0
	for _, t := range f.types {
		if t == m.Type {
			typeOK = true
		}
	}
	return routeOK && typeOK
}

func cmdDeliver(c *scenarioCluster, args []string) error {
	f, err := parseFilter(args)
	if err != nil {
		return err
	}
	return c.deliverMatching(f.match)
}

// cmdDrop loses the matching messages in flight, printing them.
func cmdDrop(c *scenarioCluster, args []string) error {
	f, err := parseFilter(args)
	if err != nil {
		return err
	}
	var keep []Message
	for _, m := range c.queue {
		if f.match(m) {
			c.printf("%s (dropped)", formatMessage(m))
			continue
		}
		keep = append(keep, m)
	}
	c.queue = keep
	return nil
}

// cmdSend delivers a message the script writes, as if a peer had sent it,
// and prints the messages the recipient sent in answer (left in flight).
func cmdSend(c *scenarioCluster, args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("send: want from->to, a type and fields, got %q", args)
	}
	r, err := parseRoute(args[0])
	if err != nil || r.from == None || r.to == None {
		return fmt.Errorf("send: bad route %q", args[0])
	}
	m := Message{From: r.from, To: r.to}
	if m.Type, err = parseMessageType(args[1]); err != nil {
		return err
	}
	for _, kv := range args[2:] {
		if err := setMessageField(&m, kv); err != nil {
			return fmt.Errorf("send: %w", err)
		}
	}
	if _, err := c.node(m.To); err != nil {
		return err
	}
	queued := len(c.queue)
	if err := c.deliver(m); err != nil {
		return err
	}
	// The answers stay in flight; they are printed here because the
	// message was the script's, not a node's.
	for _, a := range c.queue[queued:] {
		c.printf("  => %s", formatMessage(a))
	}
	return nil
}

// setMessageField sets one field of m from k=v (or the flag "reject").
func setMessageField(m *Message, kv string) error {
	k, v, _ := strings.Cut(kv, "=")
	if k == "reject" {
		m.Reject = true
		return nil
	}
	if k == "ctx" {
		m.Context = []byte(v)
		return nil
	}
	a, b, pair := strings.Cut(v, "/")
	x, err := strconv.ParseUint(a, 10, 64)
	if err != nil {
		return fmt.Errorf("bad %q: %w", kv, err)
	}
	var y uint64
	if pair {
		if y, err = strconv.ParseUint(b, 10, 64); err != nil {
			return fmt.Errorf("bad %q: %w", kv, err)
		}
	}
	switch k {
	case "term":
		m.Term = Term(x)
	case "index":
		m.Index = Index(x)
	case "commit":
		m.Commit = Index(x)
	case "last", "prev":
		m.Index, m.LogTerm = Index(x), Term(y)
	case "hint":
		m.RejectHint, m.LogTerm = Index(x), Term(y)
	default:
		return fmt.Errorf("unknown field %q", k)
	}
	return nil
}

func cmdCut(c *scenarioCluster, args []string) error {
	for _, a := range args {
		r, err := parseRoute(a)
		if err != nil || r.from == None || r.to == None {
			return fmt.Errorf("cut: bad link %q", a)
		}
		c.cut[[2]NodeID{r.from, r.to}] = true
	}
	return nil
}

// cmdPartition cuts every link between the given nodes and the others.
func cmdPartition(c *scenarioCluster, args []string) error {
	ids, _, rest, err := nodeArgs(args)
	if err != nil || len(rest) > 0 || len(ids) == 0 {
		return fmt.Errorf("partition: want node ids, got %q", args)
	}
	in := make(map[NodeID]bool, len(ids))
	for _, id := range ids {
		in[id] = true
	}
	for _, a := range c.ids {
		for _, b := range c.ids {
			if in[a] != in[b] {
				c.cut[[2]NodeID{a, b}] = true
			}
		}
	}
	return nil
}

func cmdCrash(c *scenarioCluster, args []string) error {
	id, _, err := c.oneNode(args)
	if err != nil {
		return err
	}
	c.nodes[id] = nil
	return nil
}

// cmdRestart starts a crashed node again from its storage.
func cmdRestart(c *scenarioCluster, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("restart: want one node id, got %q", args)
	}
	id, err := parseNodeID(args[0])
	if err != nil {
		return err
	}
	if r, ok := c.nodes[id]; !ok || r != nil {
		return fmt.Errorf("restart: node %d is not a crashed member", id)
	}
	if err := c.start(id); err != nil {
		return err
	}
	c.note(id, "%s", c.shown[id])
	return nil
}

func cmdStabilize(c *scenarioCluster, args []string) error {
	switch {
	case len(args) == 1 && args[0] == "quiet":
		c.quiet = true
	case len(args) > 0:
		return fmt.Errorf("stabilize: unknown options %q", args)
	}
	return c.stabilize()
}

// cmdRun runs rounds of ticking the nodes (the live ones by default) and
// stabilizing, printing state changes after the round number.
func cmdRun(c *scenarioCluster, args []string) error {
	ids, repeat, rest, err := nodeArgs(args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) == 1 && rest[0] == "verbose":
	case len(rest) > 0:
		return fmt.Errorf("run: unknown options %q", rest)
	default:
		c.quiet = true
	}
	for round := 1; round <= repeat; round++ {
		c.prefix = fmt.Sprintf("[t%d] ", round)
		for _, id := range c.orAll(ids) {
			if c.nodes[id] == nil && len(ids) == 0 {
				continue
			}
			if err := c.tick(id); err != nil {
				return err
			}
		}
		if err := c.stabilize(); err != nil {
			return err
		}
	}
	return nil
}

func TestScenarioArgsAndFilters(t *testing.T) {
	args, err := splitArgs(`propose 1 "a b" x3 # comment`)
	if want := []string{"propose", "1", "a b", "x3"}; err != nil || !slices.Equal(args, want) {
		t.Fatalf("splitArgs = %q, %v; want %q, nil", args, err, want)
	}
	vote := Message{Type: MsgVote, From: 1, To: 3}
	cases := []struct {
		name   string
		filter []string
		want   bool
	}{
		{"everything", nil, true},
		{"route", []string{"1->3"}, true},
		{"other route", []string{"3->1"}, false},
		{"any sender", []string{"*->3"}, true},
		{"any recipient", []string{"1->*"}, true},
		{"one of two routes", []string{"2->3", "1->3"}, true},
		{"type", []string{"MsgVote"}, true},
		{"other type", []string{"MsgApp"}, false},
		{"route and other type", []string{"1->3", "MsgApp"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parseFilter(tc.filter)
			if err != nil {
				t.Fatalf("parseFilter(%q) = %v; want nil", tc.filter, err)
			}
			if got := f.match(vote); got != tc.want {
				t.Fatalf("parseFilter(%q).match(1->3 MsgVote) = %v; want %v", tc.filter, got, tc.want)
			}
		})
	}
	for _, bad := range []string{"1-3", "0->1", "MsgNope"} {
		if _, err := parseFilter([]string{bad}); err == nil {
			t.Errorf("parseFilter(%q) = nil error; want one", bad)
		}
	}
}
