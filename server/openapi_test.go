// These tests keep openapi.yaml true: it parses; every route the server
// registers is documented and every documented route is served; the error
// codes of the server's error table, client/wire.Codes and the spec's
// ErrorCode enum are the same set with the same statuses; and (through
// openAPI.check, used by the API tests) each answer's status is documented
// for its route and its JSON body matches the schema: required fields
// present, no undocumented field, types right.
package server_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/server"
)

// openAPI is openapi.yaml, parsed.
type openAPI struct {
	doc   map[string]any
	paths []specPath
}

type specPath struct {
	path string // as written, /v1/locks/{name}
	re   *regexp.Regexp
	ops  map[string]any // by lower-case method
}

func loadSpec(t testing.TB) *openAPI {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "openapi.yaml"))
	if err != nil {
		t.Fatalf("read openapi.yaml: %v", err)
	}
	v, err := parseYAML(string(src))
	if err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	doc, ok := v.(map[string]any)
	if !ok || doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi.yaml: not an OpenAPI 3.1.0 document")
	}
	s := &openAPI{doc: doc}
	for p, ops := range mapAt(t, doc, "paths") {
		// QuoteMeta escapes the braces of {name}; match them escaped.
		re := regexp.MustCompile("^" + regexp.MustCompile(`\\\{[a-z_]+\\\}`).ReplaceAllString(regexp.QuoteMeta(p), `[^/]+`) + "$")
		om, _ := ops.(map[string]any)
		s.paths = append(s.paths, specPath{path: p, re: re, ops: om})
	}
	return s
}

func mapAt(t testing.TB, m map[string]any, keys ...string) map[string]any {
	t.Helper()
	cur := m
	for _, k := range keys {
		next, ok := cur[k].(map[string]any)
		if !ok {
			t.Fatalf("openapi.yaml: no mapping at %s", strings.Join(keys, "."))
		}
		cur = next
	}
	return cur
}

// resolve follows a $ref within the document.
func (s *openAPI) resolve(t testing.TB, v any) map[string]any {
	t.Helper()
	m, _ := v.(map[string]any)
	for m != nil {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		parts := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
		m = mapAt(t, s.doc, parts...)
	}
	return m
}

// check validates one answer to method path (query allowed) against the spec.
func (s *openAPI) check(t testing.TB, method, path string, a answer) {
	t.Helper()
	path, _, _ = strings.Cut(path, "?")
	var op map[string]any
	for _, sp := range s.paths {
		if sp.re.MatchString(path) {
			op, _ = sp.ops[strings.ToLower(method)].(map[string]any)
		}
	}
	if op == nil {
		// An undocumented route: only the router's refusals may answer it.
		if a.Status != http.StatusNotFound && a.Status != http.StatusBadRequest {
			t.Errorf("%s %s: answered %d but the route is not in openapi.yaml", method, path, a.Status)
		}
		s.checkBody(t, method+" "+path, s.resolve(t, map[string]any{"$ref": "#/components/schemas/Error"}), a.Body)
		return
	}
	resp := s.resolve(t, op["responses"].(map[string]any)[itoa(uint64(a.Status))])
	if resp == nil {
		t.Errorf("%s %s: status %d is not documented in openapi.yaml", method, path, a.Status)
		return
	}
	content, _ := resp["content"].(map[string]any)
	if jsonContent, ok := content["application/json"].(map[string]any); ok && a.Body != nil {
		s.checkBody(t, method+" "+path, s.resolve(t, jsonContent["schema"]), a.Body)
	}
}

// checkBody checks v against schema; where says which answer.
func (s *openAPI) checkBody(t testing.TB, where string, schema map[string]any, v any) {
	t.Helper()
	typ, _ := schema["type"].(string)
	switch typ {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s: %v is not an object", where, v)
			return
		}
		req, _ := schema["required"].([]any)
		for _, r := range req {
			if _, ok := m[r.(string)]; !ok {
				t.Errorf("%s: required field %q missing in %v", where, r, m)
			}
		}
		props, _ := schema["properties"].(map[string]any)
		for k, fv := range m {
			ps, ok := props[k]
			if !ok {
				t.Errorf("%s: field %q is not in the schema", where, k)
				continue
			}
			s.checkBody(t, where+"."+k, s.resolve(t, ps), fv)
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			t.Errorf("%s: %v is not an array", where, v)
			return
		}
		for _, e := range arr {
			s.checkBody(t, where+"[]", s.resolve(t, schema["items"]), e)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			t.Errorf("%s: %v is not a string", where, v)
		}
		if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, any(str)) {
			t.Errorf("%s: %q is not one of %v", where, str, enum)
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != float64(uint64(f)) {
			t.Errorf("%s: %v is not an integer", where, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			t.Errorf("%s: %v is not a boolean", where, v)
		}
	default:
		t.Errorf("%s: schema without a type: %v", where, schema)
	}
}

func TestOpenAPIRoutes(t *testing.T) {
	spec := loadSpec(t)
	ctx := testContext(t)
	c, leader := startLocks(t, ctx, 1)
	var served []string
	for _, r := range c.Node(leader).Routes() {
		served = append(served, strings.ToLower(r.Method)+" "+regexp.MustCompile(`:([a-z_]+)`).ReplaceAllString(r.Path, "{$1}"))
	}
	var documented []string
	for _, sp := range spec.paths {
		for m := range sp.ops {
			documented = append(documented, m+" "+sp.path)
		}
	}
	sort.Strings(served)
	sort.Strings(documented)
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is served but not in openapi.yaml", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("route %s is in openapi.yaml but not served", r)
		}
	}
}

func TestOpenAPIErrorCodes(t *testing.T) {
	spec := loadSpec(t)
	table := map[string]int{}
	for _, c := range server.ErrorCodes() {
		table[c.Code] = c.Status
	}
	wireCodes := map[string]int{}
	for _, c := range wire.Codes {
		wireCodes[c.Code] = c.Status
	}
	enum, _ := mapAt(t, spec.doc, "components", "schemas", "ErrorCode")["enum"].([]any)
	specCodes := map[string]bool{}
	for _, e := range enum {
		specCodes[e.(string)] = true
	}
	for code, status := range wireCodes {
		if got, ok := table[code]; !ok || got != status {
			t.Errorf("error table: %q = %d, %t; want %d as in client/wire", code, got, ok, status)
		}
		if !specCodes[code] {
			t.Errorf("openapi.yaml ErrorCode lacks %q", code)
		}
	}
	for code := range table {
		if _, ok := wireCodes[code]; !ok {
			t.Errorf("error table code %q is not in client/wire.Codes", code)
		}
	}
	for code := range specCodes {
		if _, ok := wireCodes[code]; !ok {
			t.Errorf("openapi.yaml code %q is not in client/wire.Codes", code)
		}
	}
}

func TestParseYAML(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"mapping", "a: 1\nb:\n  c: \"x: y\"\n", `{"a":1,"b":{"c":"x: y"}}`},
		{"sequence of mappings", "l:\n  - k: v\n    n: 2\n  - s\n", `{"l":[{"k":"v","n":2},"s"]}`},
		{"flow and quoted keys", "\"200\": [a, b]\n# comment\nt: true\n", `{"200":["a","b"],"t":true}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := parseYAML(tc.src)
			if err != nil {
				t.Fatalf("parseYAML(%q) = %v", tc.src, err)
			}
			b, _ := json.Marshal(v)
			if string(b) != tc.want {
				t.Errorf("parseYAML(%q) = %s; want %s", tc.src, b, tc.want)
			}
		})
	}
	if _, err := parseYAML("a: 1\n   b: 2\n"); err == nil {
		t.Errorf("parseYAML with a stray indent = nil error; want one")
	}
}
