package consensus

// This file holds the scenario scripts' commands. Node lists are ids
// separated by spaces; xN repeats; filters select messages in flight by
// route (1->3, 1->*, *->3) and by type (MsgVote), a message matching when
// it matches one of the routes given and one of the types given.
//
//	nodes 1 2 3 [election=10 heartbeat=1 seed=1 maxmsg=0 inflight=0]
//	      [knob=skip-current-term-commit] [knob=skip-up-to-date-check]
//	                             fresh cluster on empty MemoryStorage
//	log 2 3: 1/1 2..4/3          replace the stored log of 2 and 3, restart them
//	hardstate 2 term=3 vote=1 commit=0
//	                             set stored hard state fields, restart
//	log [ids] | status [ids] [timer] | messages | counts
//	                             print logs, states, messages in flight,
//	                             deliveries since the last counts
//	tick 1 2 [x10]               tick nodes (no delivery)
//	campaign 1                   tick a follower until it campaigns
//	propose 1 "x" | readindex 2 ctx
//	deliver [filters]            deliver the matching messages in flight now
//	drop [filters]               lose them
//	send 3->2 MsgVote term=5 last=9/4 [prev=i/t index=i commit=i reject hint=i/t ctx=c]
//	                             deliver a crafted message now
//	cut 1->3 | partition 1 [2] | heal
//	                             lose messages on a link, between a group and
//	                             the rest (both ways), or nowhere
//	crash 3 | restart 3          stop a node (its storage stays) | start it again
//	stabilize [quiet]            deliver until nothing is in flight
//	run [ids] x20 [verbose]      20 rounds of: tick the nodes, stabilize;
//	                             state lines start with the round [tN]

import (
	"fmt"
	"strconv"
	"strings"
)

// scenario interprets one script's commands in order.
type scenario struct {
	c *scenarioCluster
}

func newScenario() *scenario { return &scenario{} }

// run runs one command and returns its output lines. An error is a
// mistake in the script (or the harness), not a behaviour of the cores.
func (s *scenario) run(line string) (out []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	args, err := splitArgs(line)
	if err != nil {
		return nil, err
	}
	name, args := args[0], args[1:]
	if name == "nodes" {
		return nil, s.nodes(args)
	}
	if s.c == nil {
		return nil, fmt.Errorf("%s before nodes", name)
	}
	c := s.c
	c.out = nil
	c.prefix = "  "
	c.quiet = false
	cmd := scenarioCommand(name)
	if cmd == nil {
		return nil, fmt.Errorf("unknown command %q", name)
	}
	if err := cmd(c, args); err != nil {
		return nil, err
	}
	return c.out, nil
}

// scenarioCommand returns the implementation of the named command, or nil.
func scenarioCommand(name string) func(c *scenarioCluster, args []string) error {
	switch name {
	case "log":
		return cmdLog
	case "hardstate":
		return cmdHardState
	case "status":
		return cmdStatus
	case "messages":
		return cmdMessages
	case "counts":
		return func(c *scenarioCluster, _ []string) error { c.printf("%s", c.formatCounts()); return nil }
	case "tick":
		return cmdTick
	case "campaign":
		return cmdCampaign
	case "propose":
		return cmdPropose
	case "readindex":
		return cmdReadIndex
	case "deliver":
		return cmdDeliver
	case "drop":
		return cmdDrop
	case "send":
		return cmdSend
	case "cut":
		return cmdCut
	case "partition":
		return cmdPartition
	case "heal":
		return func(c *scenarioCluster, _ []string) error { clear(c.cut); return nil }
	case "crash":
		return cmdCrash
	case "restart":
		return cmdRestart
	case "stabilize":
		return cmdStabilize
	case "run":
		return cmdRun
	}
	return nil
}

// splitArgs splits a command line at spaces, keeping "quoted strings" whole
// (unquoted) and dropping a trailing # comment.
func splitArgs(line string) ([]string, error) {
	var args []string
	for rest := strings.TrimSpace(line); rest != ""; rest = strings.TrimSpace(rest) {
		if rest[0] == '#' {
			break
		}
		if rest[0] == '"' {
			prefix, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, fmt.Errorf("bad quoted string in %q: %w", rest, err)
			}
			arg, err := strconv.Unquote(prefix)
			if err != nil {
				return nil, fmt.Errorf("bad quoted string %s: %w", prefix, err)
			}
			args = append(args, arg)
			rest = rest[len(prefix):]
			continue
		}
		end := strings.IndexAny(rest, " \t")
		if end < 0 {
			end = len(rest)
		}
		args = append(args, rest[:end])
		rest = rest[end:]
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	return args, nil
}

func parseNodeID(s string) (NodeID, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return None, fmt.Errorf("bad node id %q", s)
	}
	return NodeID(n), nil
}

// nodeArgs splits args into node ids, a repeat count (xN, 1 if absent) and
// the remaining words.
func nodeArgs(args []string) (ids []NodeID, repeat int, rest []string, err error) {
	repeat = 1
	for _, a := range args {
		switch {
		case a != "" && a[0] >= '0' && a[0] <= '9':
			id, err := parseNodeID(a)
			if err != nil {
				return nil, 0, nil, err
			}
			ids = append(ids, id)
		case len(a) > 1 && a[0] == 'x' && a[1] >= '0' && a[1] <= '9':
			if repeat, err = strconv.Atoi(a[1:]); err != nil || repeat < 1 {
				return nil, 0, nil, fmt.Errorf("bad repeat %q", a)
			}
		default:
			rest = append(rest, a)
		}
	}
	return ids, repeat, rest, nil
}

// oneNode parses args that must be exactly one node id.
func (c *scenarioCluster) oneNode(args []string) (NodeID, *Raft, error) {
	if len(args) != 1 {
		return None, nil, fmt.Errorf("want one node id, got %q", args)
	}
	id, err := parseNodeID(args[0])
	if err != nil {
		return None, nil, err
	}
	r, err := c.node(id)
	return id, r, err
}

// orAll returns ids, or every node of the cluster when ids is empty.
func (c *scenarioCluster) orAll(ids []NodeID) []NodeID {
	if len(ids) == 0 {
		return c.ids
	}
	return ids
}

func (s *scenario) nodes(args []string) error {
	ids, _, rest, err := nodeArgs(args)
	if err != nil {
		return err
	}
	cfg := scenarioConfig{electionTicks: scenarioElectionTicks, heartbeatTicks: scenarioHeartbeatTicks, seed: 1}
	for _, kv := range rest {
		k, v, _ := strings.Cut(kv, "=")
		var n uint64
		if k != "knob" {
			if n, err = strconv.ParseUint(v, 10, 32); err != nil {
				return fmt.Errorf("nodes: bad %q: %w", kv, err)
			}
		}
		switch k {
		case "election":
			cfg.electionTicks = int(n)
		case "heartbeat":
			cfg.heartbeatTicks = int(n)
		case "seed":
			cfg.seed = n
		case "maxmsg":
			cfg.maxMsgBytes = n
		case "inflight":
			cfg.maxInflight = int(n)
		case "knob":
			switch v {
			case "skip-current-term-commit":
				cfg.skipCurrentTermCommit = true
			case "skip-up-to-date-check":
				cfg.skipUpToDateCheck = true
			default:
				return fmt.Errorf("nodes: unknown knob %q", v)
			}
		default:
			return fmt.Errorf("nodes: unknown option %q", kv)
		}
	}
	s.c, err = newScenarioCluster(ids, cfg)
	return err
}

// cmdLog prints logs, or with "ids: entries" replaces the stored logs first.
func cmdLog(c *scenarioCluster, args []string) error {
	before, after, preload := strings.Cut(strings.Join(args, " "), ":")
	ids, _, rest, err := nodeArgs(strings.Fields(before))
	if err != nil || len(rest) > 0 {
		return fmt.Errorf("log: bad node list %q", before)
	}
	if preload {
		ents, err := parseEntries(strings.Fields(after))
		if err != nil {
			return fmt.Errorf("log: %w", err)
		}
		for _, id := range ids {
			if _, err := c.node(id); err != nil {
				return err
			}
			hs, err := c.stores[id].InitialState()
			if err != nil {
				return fmt.Errorf("log: node %d: %w", id, err)
			}
			st := NewMemoryStorage()
			if err := st.Append(ents); err != nil {
				return fmt.Errorf("log: node %d: %w", id, err)
			}
			st.SetHardState(hs)
			c.stores[id] = st
			if err := c.start(id); err != nil {
				return err
			}
		}
	}
	for _, id := range c.orAll(ids) {
		l, err := c.logLine(id)
		if err != nil {
			return err
		}
		c.printf("%s", l)
	}
	return nil
}

// cmdHardState sets fields of the stored hard state and restarts the nodes.
func cmdHardState(c *scenarioCluster, args []string) error {
	ids, _, rest, err := nodeArgs(args)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := c.node(id); err != nil {
			return err
		}
		hs, err := c.stores[id].InitialState()
		if err != nil {
			return fmt.Errorf("hardstate: node %d: %w", id, err)
		}
		for _, kv := range rest {
			k, v, _ := strings.Cut(kv, "=")
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return fmt.Errorf("hardstate: bad %q: %w", kv, err)
			}
			switch k {
			case "term":
				hs.Term = Term(n)
			case "vote":
				hs.Vote = NodeID(n)
			case "commit":
				hs.Commit = Index(n)
			default:
				return fmt.Errorf("hardstate: unknown field %q", k)
			}
		}
		c.stores[id].SetHardState(hs)
		if err := c.start(id); err != nil {
			return err
		}
		c.note(id, "%s", c.shown[id])
	}
	return nil
}

// cmdStatus prints the state of nodes (all by default), with "timer" their
// election timer too.
func cmdStatus(c *scenarioCluster, args []string) error {
	ids, _, rest, err := nodeArgs(args)
	if err != nil {
		return err
	}
	timer := len(rest) == 1 && rest[0] == "timer"
	if len(rest) > 0 && !timer {
		return fmt.Errorf("status: unknown options %q", rest)
	}
	for _, id := range c.orAll(ids) {
		r, ok := c.nodes[id]
		if !ok {
			return fmt.Errorf("node %d is not in the cluster %v", id, c.ids)
		}
		if r == nil {
			c.printf("%d: crashed", id)
			continue
		}
		st := r.Status()
		now, err := stateOf(r)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%d: %s applied=%d", id, now, st.Applied)
		if st.Role == RoleLeader {
			line += fmt.Sprintf(" quorum-active=%v", st.QuorumActive)
		}
		if timer {
			line += fmt.Sprintf(" elapsed=%d timeout=%d", r.electionElapsed, r.randomizedElectionTimeout)
		}
		c.printf("%s", line)
	}
	return nil
}

func cmdMessages(c *scenarioCluster, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("messages takes no arguments")
	}
	for _, m := range c.queue {
		c.printf("%s", formatMessage(m))
	}
	return nil
}

func cmdTick(c *scenarioCluster, args []string) error {
	ids, repeat, rest, err := nodeArgs(args)
	if err != nil || len(rest) > 0 || len(ids) == 0 {
		return fmt.Errorf("tick: want node ids and an optional xN, got %q", args)
	}
	for range repeat {
		for _, id := range ids {
			if err := c.tick(id); err != nil {
				return err
			}
		}
	}
	return nil
}

// cmdCampaign ticks a follower until its election timer fires.
func cmdCampaign(c *scenarioCluster, args []string) error {
	id, r, err := c.oneNode(args)
	if err != nil {
		return err
	}
	if role := r.Status().Role; role != RoleFollower {
		return fmt.Errorf("campaign: node %d is %s; want follower", id, role)
	}
	for i := 0; i < 2*c.cfg.electionTicks; i++ {
		if err := c.tick(id); err != nil {
			return err
		}
		if r.Status().Role != RoleFollower {
			c.note(id, "election timer fired after %d ticks", i+1)
			return nil
		}
	}
	return fmt.Errorf("campaign: node %d still a follower after %d ticks", id, 2*c.cfg.electionTicks)
}

func cmdPropose(c *scenarioCluster, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("propose: want a node id and data, got %q", args)
	}
	id, r, err := c.oneNode(args[:1])
	if err != nil {
		return err
	}
	i, t, err := r.Propose([]byte(args[1]))
	if err != nil {
		c.note(id, "propose error: %v", err)
		return nil
	}
	c.note(id, "proposed %d/%d", i, t)
	return c.settle(id)
}

func cmdReadIndex(c *scenarioCluster, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("readindex: want a node id and a context, got %q", args)
	}
	id, r, err := c.oneNode(args[:1])
	if err != nil {
		return err
	}
	if err := r.ReadIndex([]byte(args[1])); err != nil {
		c.note(id, "readindex error: %v", err)
		return nil
	}
	return c.settle(id)
}
