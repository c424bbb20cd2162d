package consensus

// This file runs the scenario scripts in testdata/*.txt (STYLE.md §10): each
// script drives a small cluster of cores command by command and compares
// what every command printed (messages delivered, state changes, status and
// log lines) with the expected block written under it. A mismatch fails with
// a diff; `go test ./consensus -run TestScenario -update` rewrites every
// expected block from what the cores do now, to be reviewed as a diff.
//
// A script is a sequence of cases separated by blank lines:
//
//	# comment lines, kept as they are
//	command args...
//	----
//	expected output lines (no blank lines; "ok" when a command prints nothing)
//
// The commands and the canonical text forms are documented in
// scenario_cmds_test.go and scenario_format_test.go.

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var flagScenarioUpdate = flag.Bool("update", false, "scenario scripts: rewrite the expected output in testdata/*.txt")

// scenarioSeparator separates a command from its expected output.
const scenarioSeparator = "----"

// scenarioCase is one command of a script with its expected output.
type scenarioCase struct {
	// line is the 1-based line of the command in its file.
	line int
	cmd  string
	want []string
	// wantFrom and wantTo delimit the expected lines in the file, [from, to)
	// as 0-based line numbers, so -update can replace them.
	wantFrom, wantTo int
}

// parseScenario splits a script into its cases. It returns the file's lines too.
func parseScenario(text string) ([]scenarioCase, []string, error) {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	var cases []scenarioCase
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if l == scenarioSeparator {
			return nil, nil, fmt.Errorf("line %d: %s without a command", i+1, scenarioSeparator)
		}
		c := scenarioCase{line: i + 1, cmd: l}
		if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != scenarioSeparator {
			return nil, nil, fmt.Errorf("line %d: command %q not followed by %s", i+1, l, scenarioSeparator)
		}
		i += 2
		c.wantFrom = i
		for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
			c.want = append(c.want, lines[i])
			i++
		}
		c.wantTo = i
		cases = append(cases, c)
	}
	return cases, lines, nil
}

// rewriteScenario returns the file's lines with every case's expected block
// replaced by got[i].
func rewriteScenario(lines []string, cases []scenarioCase, got [][]string) string {
	var b strings.Builder
	next := 0
	for i, c := range cases {
		for _, l := range lines[next:c.wantFrom] {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		for _, l := range got[i] {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		next = c.wantTo
	}
	for _, l := range lines[next:] {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

func TestScenario(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil {
		t.Fatalf("Glob(testdata/*.txt) = %v; want nil", err)
	}
	if len(files) == 0 {
		t.Fatalf("Glob(testdata/*.txt) found no scripts; want some")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runScenarioFile(t, file)
		})
	}
}

// runScenarioFile runs one script, failing at the first case whose output
// differs, or rewriting the expected blocks under -update.
func runScenarioFile(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("ReadFile(%q) = %v; want nil", file, err)
	}
	cases, lines, err := parseScenario(string(data))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	sc := newScenario()
	got := make([][]string, len(cases))
	for i, c := range cases {
		out, err := sc.run(c.cmd)
		if err != nil {
			t.Fatalf("%s:%d: %s: %v", file, c.line, c.cmd, err)
		}
		if len(out) == 0 {
			out = []string{"ok"}
		}
		got[i] = out
		if !*flagScenarioUpdate && !slices.Equal(out, c.want) {
			t.Fatalf("%s:%d: %s: output differs (-want +got):\n%s\n(rerun with -update to accept)",
				file, c.line, c.cmd, lineDiff(c.want, out))
		}
	}
	if *flagScenarioUpdate {
		if err := os.WriteFile(file, []byte(rewriteScenario(lines, cases, got)), 0o644); err != nil {
			t.Fatalf("WriteFile(%q) = %v; want nil", file, err)
		}
	}
}

// lineDiff returns a line diff of want and got: unchanged lines indented,
// removed ones marked "-", added ones "+" (longest common subsequence).
func lineDiff(want, got []string) string {
	n, m := len(want), len(got)
	// lcs[i][j] is the LCS length of want[i:] and got[j:].
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if want[i] == got[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	w := bufio.NewWriter(&b)
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && want[i] == got[j]:
			fmt.Fprintf(w, "  %s\n", want[i])
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			fmt.Fprintf(w, "+ %s\n", got[j])
			j++
		default:
			fmt.Fprintf(w, "- %s\n", want[i])
			i++
		}
	}
	if err := w.Flush(); err != nil {
		return err.Error()
	}
	return b.String()
}

func TestScenarioParseAndRewrite(t *testing.T) {
	script := "# a comment\nstatus 1\n----\nold\nlines\n\n# second\nlog 1\n----\nok\n"
	cases, lines, err := parseScenario(script)
	if err != nil {
		t.Fatalf("parseScenario = %v; want nil", err)
	}
	if len(cases) != 2 || cases[0].cmd != "status 1" || cases[1].line != 8 {
		t.Fatalf("parseScenario cases = %+v; want status 1 and log 1 at line 8", cases)
	}
	if !slices.Equal(cases[0].want, []string{"old", "lines"}) {
		t.Fatalf("parseScenario want[0] = %q; want [old lines]", cases[0].want)
	}
	got := rewriteScenario(lines, cases, [][]string{{"new"}, {"a", "b"}})
	want := "# a comment\nstatus 1\n----\nnew\n\n# second\nlog 1\n----\na\nb\n"
	if got != want {
		t.Fatalf("rewriteScenario = %q; want %q", got, want)
	}
	for _, bad := range []string{"status 1\nlog 1\n", "----\nok\n", "status 1"} {
		if _, _, err := parseScenario(bad); err == nil {
			t.Errorf("parseScenario(%q) = nil error; want one", bad)
		}
	}
	if d := lineDiff([]string{"a", "b"}, []string{"a", "c"}); d != "  a\n+ c\n- b\n" && d != "  a\n- b\n+ c\n" {
		t.Errorf("lineDiff = %q; want a kept, b removed, c added", d)
	}
}
