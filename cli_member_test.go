// These tests prove `raftlock member` against a 3-node in-process cluster:
// list shows three voters and one leader, add makes a learner that the
// list shows, promote of a learner that cannot catch up exits 1 with
// change_in_progress, remove takes it out, transfer-leadership to a named
// member prints it as leader, an unknown member exits 1 with not_found,
// and wrong arguments are usage errors (exit 2).
package main

import (
	"strings"
	"testing"
)

func TestMemberCommands(t *testing.T) {
	lc := startLockCluster(t, 3)
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"list", []string{"member", "list"}, exitOK, "role=voter leader=true", ""},
		{"add", []string{"member", "add", "ghost", "http://127.0.0.1:1"}, exitOK, "added ghost as a learner", ""},
		{"list shows the learner", []string{"member", "list"}, exitOK, "ghost role=learner", ""},
		{"promote behind", []string{"member", "promote", "ghost", "--wait", "100ms"}, exitError, "", "change_in_progress"},
		{"remove", []string{"member", "remove", "ghost"}, exitOK, "removed ghost", ""},
		{"transfer", []string{"member", "transfer-leadership", "n2"}, exitOK, "leader=n2", ""},
		{"unknown", []string{"member", "remove", "nobody"}, exitError, "", "not_found"},
		{"no subcommand", []string{"member"}, exitUsage, "", "usage: raftlock member"},
		{"bad arity", []string{"member", "add", "x"}, exitUsage, "", "raftlock member -h"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := lc.runCLI(tc.args...)
			if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("raftlock %s = %d, stdout %q, stderr %q; want %d, %q, %q",
					strings.Join(tc.args, " "), code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
			}
		})
	}
}
