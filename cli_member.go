package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/raftlock/raftlock/client"
	"github.com/raftlock/raftlock/client/wire"
)

const memberAbout = `Changes the cluster's membership (needs an admin token when access control
is on). One change at a time: a second is refused (change_in_progress).

  raftlock member list
  raftlock member add NAME PEER_URL [CLIENT_URL]
      adds a learner; start it with 'raftlock serve --join', or promote it
  raftlock member promote NAME [--wait D]
      makes a caught-up learner a voter; the server retries for --wait
  raftlock member remove NAME
  raftlock member transfer-leadership [NAME]
      hands the leadership to NAME, or to the most up-to-date voter`

// cmdMember is `raftlock member list|add|remove|promote|transfer-leadership`.
func cmdMember(ctx context.Context, cio cliIO, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(cio.stderr, "usage: raftlock member list|add|remove|promote|transfer-leadership [flags] [args]\n\n%s\n", memberAbout)
		if len(args) == 1 {
			return flag.ErrHelp
		}
		return &shownError{usagef("member takes: list, add, remove, promote or transfer-leadership")}
	}
	sub, rest := args[0], args[1:]
	fs := newFlagSet("member "+sub, "member "+sub+" [flags] [args]", memberAbout, cio)
	cf := addCommonFlags(fs, cio.getenv, true)
	wait := fs.Duration("wait", 0, "promote: how long the server retries while the learner catches up (0: its default)")
	pos, err := parseNoCommand(fs, rest)
	if err != nil {
		return err
	}
	var run func(context.Context, *client.Client, printer) error
	switch {
	case sub == "list" && len(pos) == 0:
		run = func(ctx context.Context, c *client.Client, p printer) error { return memberList(ctx, c, p) }
	case sub == "add" && (len(pos) == 2 || len(pos) == 3):
		clientURL := ""
		if len(pos) == 3 {
			clientURL = pos[2]
		}
		run = func(ctx context.Context, c *client.Client, p printer) error {
			added, err := c.AddMember(ctx, pos[0], pos[1], clientURL)
			if err != nil {
				return err
			}
			return p.emit(added, fmt.Sprintf("added %s as a learner (term %d)", added.Member.Name, added.Term))
		}
	case sub == "remove" && len(pos) == 1:
		run = func(ctx context.Context, c *client.Client, p printer) error {
			ch, err := c.RemoveMember(ctx, pos[0])
			if err != nil {
				return err
			}
			return p.emit(ch, fmt.Sprintf("removed %s at index %d", ch.Name, ch.Index))
		}
	case sub == "promote" && len(pos) == 1:
		if *wait < 0 {
			return usagef("--wait %v is negative", *wait)
		}
		run = func(ctx context.Context, c *client.Client, p printer) error {
			ch, err := c.PromoteMember(ctx, pos[0], *wait)
			if err != nil {
				return err
			}
			return p.emit(ch, fmt.Sprintf("promoted %s at index %d", ch.Name, ch.Index))
		}
	case sub == "transfer-leadership" && len(pos) <= 1:
		to := ""
		if len(pos) == 1 {
			to = pos[0]
		}
		run = func(ctx context.Context, c *client.Client, p printer) error {
			lead, err := c.TransferLeadership(ctx, to)
			if err != nil {
				return err
			}
			return p.emit(wire.TransferResult{Leader: lead}, "leader="+lead)
		}
	default:
		return usagef("member %s %s: see 'raftlock member -h'", sub, strings.Join(pos, " "))
	}
	return withAdminClient(ctx, cio, cf, func(ctx context.Context, c *client.Client) error {
		return run(ctx, c, newPrinter(cio.stdout, cf.output))
	})
}

// memberList prints one line per member: name, role, leader mark, URLs and
// match index.
func memberList(ctx context.Context, c *client.Client, p printer) error {
	list, err := c.Members(ctx)
	if err != nil {
		return err
	}
	if p.json {
		return p.emit(list, "")
	}
	for _, m := range list.Members {
		line := fmt.Sprintf("%s role=%s leader=%t peer_url=%s client_url=%s", m.Name, m.Role, m.Leader, m.PeerURL, m.ClientURL)
		if m.Match != nil {
			line += fmt.Sprintf(" match=%d", *m.Match)
		}
		if err := p.emit(nil, line); err != nil {
			return err
		}
	}
	if list.ChangeInProgress {
		return p.emit(nil, "a membership change is in progress")
	}
	return nil
}
