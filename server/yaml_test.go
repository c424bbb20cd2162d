package server_test

import (
	"fmt"
	"strconv"
	"strings"
)

// parseYAML reads the block-style subset of YAML that openapi.yaml is
// written in: mappings ("key: value", "key:" and a deeper block),
// sequences ("- item", items that are scalars or mappings), flow sequences
// of scalars ("[a, b]"), double-quoted strings (JSON escapes), plain
// scalars, integers and booleans, and full-line comments. The module has no
// YAML parser dependency (go.mod), and this subset is all the file needs.
func parseYAML(src string) (any, error) {
	var lines []yamlLine
	for i, raw := range strings.Split(src, "\n") {
		trimmed := strings.TrimLeft(raw, " ")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasPrefix(trimmed, "\t") {
			return nil, fmt.Errorf("line %d: tab indentation", i+1)
		}
		lines = append(lines, yamlLine{no: i + 1, indent: len(raw) - len(trimmed), text: strings.TrimRight(trimmed, " ")})
	}
	if len(lines) == 0 {
		return nil, nil
	}
	p := &yamlParser{lines: lines}
	v, err := p.block(lines[0].indent)
	if err != nil {
		return nil, err
	}
	if p.i != len(p.lines) {
		return nil, fmt.Errorf("line %d: unexpected indentation", p.lines[p.i].no)
	}
	return v, nil
}

type yamlLine struct {
	no, indent int
	text       string
}

type yamlParser struct {
	lines []yamlLine
	i     int
}

func (p *yamlParser) block(indent int) (any, error) {
	if strings.HasPrefix(p.lines[p.i].text, "- ") || p.lines[p.i].text == "-" {
		return p.sequence(indent)
	}
	return p.mapping(indent)
}

func (p *yamlParser) mapping(indent int) (map[string]any, error) {
	m := make(map[string]any)
	for p.i < len(p.lines) && p.lines[p.i].indent == indent {
		ln := p.lines[p.i]
		key, rest, err := splitKey(ln.text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", ln.no, err)
		}
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("line %d: key %q twice", ln.no, key)
		}
		p.i++
		if rest != "" {
			if m[key], err = scalar(rest); err != nil {
				return nil, fmt.Errorf("line %d: %w", ln.no, err)
			}
			continue
		}
		if p.i < len(p.lines) && p.lines[p.i].indent > indent {
			if m[key], err = p.block(p.lines[p.i].indent); err != nil {
				return nil, err
			}
			continue
		}
		m[key] = nil
	}
	if p.i < len(p.lines) && p.lines[p.i].indent > indent {
		return nil, fmt.Errorf("line %d: unexpected indentation", p.lines[p.i].no)
	}
	return m, nil
}

func (p *yamlParser) sequence(indent int) ([]any, error) {
	var out []any
	for p.i < len(p.lines) && p.lines[p.i].indent == indent && strings.HasPrefix(p.lines[p.i].text, "-") {
		ln := p.lines[p.i]
		item := strings.TrimLeft(strings.TrimPrefix(ln.text, "-"), " ")
		if _, _, err := splitKey(item); err == nil && !strings.HasPrefix(item, `"`) && !strings.HasPrefix(item, "[") {
			// A mapping item: re-read its first line as a mapping line two
			// columns deeper, with the lines that continue it.
			p.lines[p.i] = yamlLine{no: ln.no, indent: indent + 2, text: item}
			v, err := p.mapping(indent + 2)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			continue
		}
		p.i++
		v, err := scalar(item)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", ln.no, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// splitKey splits "key: value" or "key:"; a key may be double-quoted.
func splitKey(s string) (key, rest string, err error) {
	if strings.HasPrefix(s, `"`) {
		end := strings.Index(s[1:], `"`)
		if end < 0 {
			return "", "", fmt.Errorf("unterminated key in %q", s)
		}
		key = s[1 : end+1]
		s = s[end+2:]
		if !strings.HasPrefix(s, ":") {
			return "", "", fmt.Errorf("no ':' after key %q", key)
		}
		return key, strings.TrimSpace(s[1:]), nil
	}
	if k, r, ok := strings.Cut(s, ": "); ok {
		return k, strings.TrimSpace(r), nil
	}
	if strings.HasSuffix(s, ":") {
		return strings.TrimSuffix(s, ":"), "", nil
	}
	return "", "", fmt.Errorf("%q is not key: value", s)
}

func scalar(s string) (any, error) {
	switch {
	case strings.HasPrefix(s, `"`):
		return strconv.Unquote(s)
	case strings.HasPrefix(s, "["):
		if !strings.HasSuffix(s, "]") {
			return nil, fmt.Errorf("unterminated flow sequence %q", s)
		}
		var out []any
		for _, part := range strings.Split(s[1:len(s)-1], ",") {
			if part = strings.TrimSpace(part); part != "" {
				v, err := scalar(part)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
		}
		return out, nil
	case s == "true":
		return true, nil
	case s == "false":
		return false, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	return s, nil
}
