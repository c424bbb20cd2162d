package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/consensus"
)

// Paths of the membership and leadership transfer API (issue 8).
const (
	PathClusterMembers       = "/v1/cluster/members"
	PathClusterMember        = "/v1/cluster/members/:member"
	PathClusterMemberPromote = "/v1/cluster/members/:member/promote"
	PathTransferLeadership   = "/v1/cluster/transfer-leadership"
)

// ErrLearnerBehind is returned by a promotion whose learner did not catch up
// with the leader's log within the request's wait. Its code is
// change_in_progress: the learner is still being brought in; retry later.
var ErrLearnerBehind = errors.New("learner is still catching up")

// registerMembers mounts the membership endpoints. Every one goes to the
// leader (forwarded from a follower), which decides a change against the
// membership it has applied.
func (n *Node) registerMembers(e *echo.Echo) {
	lead := n.leaderRoute
	// Access control: acl.go's route table requires the admin capability
	// for every change here, and read for the list.
	change := []echo.MiddlewareFunc{limitBody, lead}
	e.GET(PathClusterMembers, n.listMembers, lead)
	e.POST(PathClusterMembers, n.addMember, change...)
	e.DELETE(PathClusterMember, n.removeMember, change...)
	e.POST(PathClusterMemberPromote, n.promoteMember, change...)
	e.POST(PathTransferLeadership, n.transferLeadership, change...)
}

// currentDir is the directory of the membership the driver has applied,
// read now (the worker's copy may be one change behind).
func (n *Node) currentDir() (*memberDir, error) {
	am := n.drv.Membership()
	return directoryOf(am.Membership, am.Index, n.initial, n.cfg.peerScheme())
}

// memberEntries lists d's members as the API shows them; prog (the
// leader's view, nil elsewhere) adds their match index.
func (n *Node) memberEntries(d *memberDir, lead consensus.NodeID, prog map[consensus.NodeID]consensus.PeerProgress) []wire.MemberEntry {
	out := make([]wire.MemberEntry, 0, len(d.members))
	for _, m := range d.members {
		out = append(out, n.memberEntry(d, m, lead, prog))
	}
	return out
}

func (n *Node) memberEntry(d *memberDir, m Member, lead consensus.NodeID, prog map[consensus.NodeID]consensus.PeerProgress) wire.MemberEntry {
	e := wire.MemberEntry{ID: uint64(m.ID), Name: m.Name, PeerURL: m.PeerURL, ClientURL: m.ClientURL, Role: wire.RoleVoter, Leader: m.ID == lead}
	if m.ID == n.self.ID {
		e.ClientURL = n.cfg.AdvertiseClientURL
	}
	if d.isLearner(m.ID) {
		e.Role = wire.RoleLearner
	}
	if p, ok := prog[m.ID]; ok {
		match := uint64(p.Match)
		e.Match = &match
	}
	return e
}

// fillClientURLs completes the client URLs the directory lacks (the
// members of --initial-cluster) with those the members tell on their peer
// listeners, as GET /v1/cluster does.
func (n *Node) fillClientURLs(ctx context.Context, d *memberDir, entries []wire.MemberEntry) {
	var unknown []Member
	for _, e := range entries {
		if e.ClientURL == "" {
			if m, ok := findMember(d.members, e.Name); ok {
				unknown = append(unknown, m)
			}
		}
	}
	if len(unknown) == 0 {
		return
	}
	urls := n.memberURLs.lookup(ctx, unknown, n.self.Name)
	for i := range entries {
		if entries[i].ClientURL == "" {
			entries[i].ClientURL = urls[entries[i].Name]
		}
	}
}

// listMembers answers GET /v1/cluster/members.
func (n *Node) listMembers(c echo.Context) error {
	d, err := n.currentDir()
	if err != nil {
		return err
	}
	st := n.drv.Status()
	var prog map[consensus.NodeID]consensus.PeerProgress
	if st.Role == consensus.RoleLeader {
		if prog, err = n.drv.Progress(c.Request().Context()); err != nil {
			return err
		}
	}
	entries := n.memberEntries(d, st.Lead, prog)
	n.fillClientURLs(c.Request().Context(), d, entries)
	return c.JSON(http.StatusOK, wire.MemberList{
		Members:          entries,
		Index:            uint64(d.index),
		ChangeInProgress: st.ConfPending || d.membership.Joint(),
	})
}

// memberParam returns the member name of the path.
func memberParam(c echo.Context) (string, error) {
	raw := c.Param("member")
	name, err := url.PathUnescape(raw)
	if err != nil {
		return "", invalidArgf("member %q: %v", raw, err)
	}
	if err := validateName("member", name); err != nil {
		return "", invalidArgf("%v", err)
	}
	return name, nil
}

// knownMember returns member name of d, or not_found.
func knownMember(d *memberDir, name string) (Member, error) {
	m, ok := findMember(d.members, name)
	if !ok {
		return Member{}, notFoundf("member %s is not in the cluster", name)
	}
	return m, nil
}

// newMember validates the body of POST /v1/cluster/members.
func (n *Node) newMember(req wire.MemberRequest) (Member, error) {
	if err := validateName("name", req.Name); err != nil {
		return Member{}, invalidArgf("%v", err)
	}
	if err := validateURL("peer_url", req.PeerURL, n.cfg.peerScheme()); err != nil {
		return Member{}, invalidArgf("%v", err)
	}
	if req.ClientURL != "" {
		if err := validateURL("client_url", req.ClientURL, ""); err != nil {
			return Member{}, invalidArgf("%v", err)
		}
	}
	return Member{Name: req.Name, PeerURL: req.PeerURL, ClientURL: req.ClientURL}, nil
}

// freshNodeID draws the raft id of a member being added: random, so a name
// removed and added again (a node that lost its data dir) comes back as
// another Raft node. Under its old id it would be unsafe even empty: a node
// that lags behind still uses a membership that lists the old id as a
// voter, and the empty node, having forgotten its votes and log, could give
// that stale node the majority it needs (two leaders in one term; the
// simulator's -sim.bug=reuseid finds it). NodeIDOf(name) stays the id of
// the members of --initial-cluster.
func freshNodeID(d *memberDir) consensus.NodeID {
	for {
		id := consensus.NodeID(randomUint64())
		if id == consensus.None || d.membership.IsMember(id) || slices.ContainsFunc(d.members, func(m Member) bool { return m.ID == id }) {
			continue
		}
		return id
	}
}

// addMember answers POST /v1/cluster/members: the node joins as a learner.
// Adding a member that is already there with the same peer URL answers as
// the first add did (a retried join).
func (n *Node) addMember(c echo.Context) error {
	var req wire.MemberRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	m, err := n.newMember(req)
	if err != nil {
		return err
	}
	d, err := n.currentDir()
	if err != nil {
		return err
	}
	for _, x := range d.members {
		switch {
		case x.Name == m.Name && x.PeerURL == m.PeerURL:
			return n.answerAdded(c, d, x)
		case x.Name == m.Name:
			return invalidArgf("member %s is already in the cluster with peer url %s", x.Name, x.PeerURL)
		}
	}
	if len(d.members) >= MembersMax {
		return invalidArgf("the cluster has %d members, max %d", len(d.members), MembersMax)
	}
	m.ID = freshNodeID(d)
	dirCtx, err := encodeDirectory(d.withMember(m))
	if err != nil {
		return err
	}
	if _, err := n.drv.ProposeConfChange(c.Request().Context(), consensus.ConfChange{Op: consensus.ConfAddLearner, Node: m.ID, Context: dirCtx}); err != nil {
		return err
	}
	if d, err = n.currentDir(); err != nil {
		return err
	}
	return n.answerAdded(c, d, m)
}

// answerAdded writes the 201 of an add: the member and what a joining node
// needs (the leader, its term, the cluster id, the directory).
func (n *Node) answerAdded(c echo.Context, d *memberDir, m Member) error {
	st := n.drv.Status()
	return c.JSON(http.StatusCreated, wire.MemberAdded{
		Member:    n.memberEntry(d, m, st.Lead, nil),
		LeaderID:  uint64(st.Lead),
		Term:      uint64(st.Term),
		ClusterID: n.clusterID,
		Members:   n.memberEntries(d, st.Lead, nil),
	})
}

// removeMember answers DELETE /v1/cluster/members/{name}.
func (n *Node) removeMember(c echo.Context) error {
	name, err := memberParam(c)
	if err != nil {
		return err
	}
	d, err := n.currentDir()
	if err != nil {
		return err
	}
	m, err := knownMember(d, name)
	if err != nil {
		return err
	}
	dirCtx, err := encodeDirectory(d.without(name))
	if err != nil {
		return err
	}
	index, err := n.drv.ProposeConfChange(c.Request().Context(), consensus.ConfChange{Op: consensus.ConfRemove, Node: m.ID, Context: dirCtx})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.MemberChanged{Name: name, Index: uint64(index)})
}

// promoteWait parses ?wait= of a promotion.
func promoteWait(c echo.Context) (time.Duration, error) {
	s := c.QueryParam("wait")
	if s == "" {
		return PromoteWaitDefault, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, invalidArgf("wait %q is not a duration like \"30s\"", s)
	}
	if d < 0 || d > PromoteWaitMax {
		return 0, invalidArgf("wait is %s, want 0s to %s", d, PromoteWaitMax)
	}
	return d, nil
}

// promoteMember answers POST /v1/cluster/members/{name}/promote. While the
// learner is too far behind, the core refuses the promotion; the handler
// retries every heartbeat until the wait runs out, then answers
// change_in_progress. Promoting a voter answers as its promotion did.
func (n *Node) promoteMember(c echo.Context) error {
	name, err := memberParam(c)
	if err != nil {
		return err
	}
	wait, err := promoteWait(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	deadline := time.Now().Add(wait)
	for {
		d, err := n.currentDir()
		if err != nil {
			return err
		}
		m, err := knownMember(d, name)
		if err != nil {
			return err
		}
		if !d.isLearner(m.ID) {
			return c.JSON(http.StatusOK, wire.MemberChanged{Name: name, Index: uint64(d.index)})
		}
		index, err := n.drv.ProposeConfChange(ctx, consensus.ConfChange{Op: consensus.ConfPromote, Node: m.ID, Context: d.membership.Context})
		if err == nil {
			return c.JSON(http.StatusOK, wire.MemberChanged{Name: name, Index: uint64(index)})
		}
		if !errors.Is(err, consensus.ErrInvalidConfChange) {
			return err
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("%w: %s after %s: %v", ErrLearnerBehind, name, wait, err)
		}
		if err := sleepCtx(ctx, n.cfg.HeartbeatInterval); err != nil {
			return err
		}
	}
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// transferLeadership answers POST /v1/cluster/transfer-leadership.
func (n *Node) transferLeadership(c echo.Context) error {
	var req wire.TransferRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	to := consensus.None
	if req.To != "" {
		d, err := n.currentDir()
		if err != nil {
			return err
		}
		m, err := knownMember(d, req.To)
		if err != nil {
			return err
		}
		to = m.ID
	}
	if to == n.self.ID {
		// This node leads (leaderRoute brought the request here): the
		// leadership already is where it was asked to go.
		return c.JSON(http.StatusOK, wire.TransferResult{Leader: n.self.Name})
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), TransferElectionTimeouts*n.cfg.ElectionTimeout)
	defer cancel()
	lead, err := n.drv.TransferLeadership(ctx, to)
	if err != nil {
		return err
	}
	d, err := n.currentDir()
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%x", uint64(lead))
	if m, ok := findMemberID(d.members, lead); ok {
		name = m.Name
	}
	return c.JSON(http.StatusOK, wire.TransferResult{Leader: name})
}
