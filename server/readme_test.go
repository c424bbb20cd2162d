// TestREADMEWalkthrough runs the curl walk-through of README.md against a
// fresh one-node cluster, as a reader of the quick start would: it parses the
// block after the walkthrough marker, turns each curl command into the same
// HTTP request (method, URL with localhost:7070 replaced by the node, body,
// headers), runs commands ending in '&' in the background until a 'wait'
// line, and checks each answer against its '# =>' line: the status, the same
// JSON keys with the same types at every level, and the same error code.
package server_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// walkthroughMarker precedes the README's tested shell block.
const walkthroughMarker = "<!-- walkthrough: run by server/readme_test.go -->"

// walkStep is one curl command of the walk-through and its expected answer.
type walkStep struct {
	line       int
	method     string
	url        string
	body       string
	headers    []string
	background bool
	wait       bool // a 'wait' line: join the background commands
	wantStatus int
	wantBody   any
}

func TestREADMEWalkthrough(t *testing.T) {
	steps := parseWalkthrough(t)
	if len(steps) < 10 {
		t.Fatalf("README walk-through has %d steps; want at least 10", len(steps))
	}
	ctx := testContext(t)
	c, _ := startLocks(t, ctx, 1)
	ac := newAPIClient(t)
	type pending struct {
		step walkStep
		done chan answer
	}
	var bg []pending
	check := func(st walkStep, a answer) {
		t.Helper()
		t.Logf("README line %d: %d %s", st.line, a.Status, strings.TrimSpace(a.Raw))
		if a.Status != st.wantStatus {
			t.Errorf("README line %d: %s %s = %d %s; want %d", st.line, st.method, st.url, a.Status, a.Raw, st.wantStatus)
			return
		}
		var got any
		if err := json.Unmarshal([]byte(a.Raw), &got); err != nil {
			t.Errorf("README line %d: answer %q is not JSON: %v", st.line, a.Raw, err)
			return
		}
		if err := sameShape(got, st.wantBody, ""); err != nil {
			t.Errorf("README line %d: %s %s = %s; shape differs from the README's: %v", st.line, st.method, st.url, a.Raw, err)
		}
	}
	for _, st := range steps {
		if st.wait {
			for _, p := range bg {
				check(p.step, <-p.done)
			}
			bg = nil
			continue
		}
		u := strings.Replace(st.url, "localhost:7070", strings.TrimPrefix(c.URL(0), "http://"), 1)
		if !strings.HasPrefix(u, "http") {
			u = "http://" + u
		}
		var body any
		if st.body != "" {
			body = st.body
		}
		if st.background {
			p := pending{step: st, done: make(chan answer, 1)}
			go func() { p.done <- ac.must(ctx, st.method, u, body, st.headers...) }()
			bg = append(bg, p)
			continue
		}
		check(st, ac.must(ctx, st.method, u, body, st.headers...))
	}
	if len(bg) > 0 {
		t.Errorf("README walk-through leaves %d background commands without a wait", len(bg))
	}
}

// sameShape reports where got differs from want in keys or types; strings
// named "code" must be equal.
func sameShape(got, want any, path string) error {
	if reflect.TypeOf(got) != reflect.TypeOf(want) {
		return fmt.Errorf("%s: %T, want %T", path, got, want)
	}
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		if gk, wk := keys(g), keys(w); !reflect.DeepEqual(gk, wk) {
			return fmt.Errorf("%s: keys %v, want %v", path, gk, wk)
		}
		for k := range w {
			if err := sameShape(g[k], w[k], path+"."+k); err != nil {
				return err
			}
		}
	case string:
		if strings.HasSuffix(path, ".code") && got != want {
			return fmt.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	return nil
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// parseWalkthrough reads the README's walk-through block into steps.
func parseWalkthrough(t *testing.T) []walkStep {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatalf("read README.md: %v", err)
	}
	_, rest, ok := strings.Cut(string(src), walkthroughMarker)
	if !ok {
		t.Fatalf("README.md has no %q", walkthroughMarker)
	}
	first := strings.Count(string(src), "\n") - strings.Count(rest, "\n") + 1
	lines := strings.Split(rest, "\n")
	var steps []walkStep
	inBlock := false
	for i, ln := range lines {
		ln = strings.TrimSpace(ln)
		switch {
		case !inBlock && strings.HasPrefix(ln, "```sh"):
			inBlock = true
		case !inBlock:
		case ln == "```":
			return steps
		case ln == "wait":
			steps = append(steps, walkStep{line: first + i, wait: true})
		case strings.HasPrefix(ln, "curl "):
			st, err := parseCurl(ln)
			if err != nil {
				t.Fatalf("README line %d: %v", first+i, err)
			}
			st.line = first + i
			steps = append(steps, st)
		case strings.HasPrefix(ln, "# => "):
			if len(steps) == 0 {
				t.Fatalf("README line %d: an answer before any command", first+i)
			}
			status, body, _ := strings.Cut(strings.TrimPrefix(ln, "# => "), " ")
			st := &steps[len(steps)-1]
			if st.wantStatus, err = strconv.Atoi(status); err != nil {
				t.Fatalf("README line %d: status %q: %v", first+i, status, err)
			}
			if err := json.Unmarshal([]byte(body), &st.wantBody); err != nil {
				t.Fatalf("README line %d: answer %q is not JSON: %v", first+i, body, err)
			}
		}
	}
	t.Fatalf("README walk-through block is not closed")
	return nil
}

// parseCurl turns one curl command line into a step: -X, -d, -H and a URL;
// -s and -N are accepted; a trailing '&' runs it in the background.
func parseCurl(line string) (walkStep, error) {
	st := walkStep{method: "GET"}
	words, err := shellWords(line)
	if err != nil {
		return st, err
	}
	if words[len(words)-1] == "&" {
		st.background = true
		words = words[:len(words)-1]
	}
	for i := 1; i < len(words); i++ {
		w := words[i]
		next := func() (string, error) {
			if i+1 >= len(words) {
				return "", fmt.Errorf("%s without a value", w)
			}
			i++
			return words[i], nil
		}
		switch {
		case w == "-s" || w == "-N":
		case w == "-X":
			if st.method, err = next(); err != nil {
				return st, err
			}
		case w == "-d":
			if st.body, err = next(); err != nil {
				return st, err
			}
			if st.method == "GET" {
				st.method = "POST"
			}
		case w == "-H":
			h, err := next()
			if err != nil {
				return st, err
			}
			k, v, ok := strings.Cut(h, ":")
			if !ok {
				return st, fmt.Errorf("header %q is not name: value", h)
			}
			st.headers = append(st.headers, strings.TrimSpace(k), strings.TrimSpace(v))
		case strings.HasPrefix(w, "-"):
			return st, fmt.Errorf("curl flag %s is not supported by the walk-through test", w)
		default:
			st.url = w
		}
	}
	if st.url == "" {
		return st, fmt.Errorf("curl without a URL")
	}
	return st, nil
}

// shellWords splits a command line as sh would for plain words and single-
// and double-quoted strings (with \" and \\ inside double quotes).
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case ch == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case ch == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated \" in %q", s)
			}
			inWord = true
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
