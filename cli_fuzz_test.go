package main

// FuzzCLIInputs feeds the command line's own parsers arbitrary text: a
// --rule value and the contents of a --token-file. It proves that they never
// panic, that a rule they accept prints back (prefix=P,allow=C,...) to a rule
// that parses to the same value, and that a secret read from a file is
// non-empty, bounded and free of the whitespace around it. Seeds:
// testdata/fuzz/FuzzCLIInputs.

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"
)

func FuzzCLIInputs(f *testing.F) {
	for _, s := range []string{
		"prefix=jobs/,allow=lock,read",
		"prefix=,allow=admin",
		"prefix=a,allow=",
		"prefix=a,allow=,,",
		"prefix=x,allow=read,allow=lock",
		"s3cr3t\n",
		"  \t\n",
		"",
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, s string) {
		checkRule(t, s)
		checkSecretFile(t, dir, s)
	})
}

func checkRule(t *testing.T, s string) {
	var rules ruleFlags
	if err := rules.Set(s); err != nil {
		if len(rules) != 0 {
			t.Fatalf("Set(%q) = %v but kept %d rules; want none", s, err, len(rules))
		}
		return
	}
	if len(rules) != 1 {
		t.Fatalf("Set(%q) kept %d rules; want 1", s, len(rules))
	}
	r := rules[0]
	if strings.Contains(r.Prefix, ",allow=") || len(r.Allow) == 0 {
		t.Fatalf("Set(%q) = prefix %q allow %q; want a prefix without ,allow= and a capability", s, r.Prefix, r.Allow)
	}
	printed := "prefix=" + r.Prefix + ",allow=" + strings.Join(r.Allow, ",")
	if printed != s {
		t.Fatalf("Set(%q) = %+v, which prints as %q; want the input back", s, r, printed)
	}
	var again ruleFlags
	if err := again.Set(printed); err != nil || !reflect.DeepEqual(again, rules) {
		t.Fatalf("Set(printed %q) = %+v, %v; want %+v", printed, again, err, rules)
	}
}

func checkSecretFile(t *testing.T, dir, s string) {
	path := filepath.Join(dir, "token")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	secret, err := readSecretFile(path)
	if err != nil {
		if trimmed := strings.TrimSpace(s); trimmed != "" && len(s) <= secretFileBytesMax {
			t.Fatalf("readSecretFile(%q) = %v; want %q", s, err, trimmed)
		}
		return
	}
	switch {
	case len(s) > secretFileBytesMax:
		t.Fatalf("readSecretFile of %d bytes = %q; want an error above %d", len(s), secret, secretFileBytesMax)
	case secret == "" || strings.TrimFunc(secret, unicode.IsSpace) != secret:
		t.Fatalf("readSecretFile(%q) = %q; want a non-empty secret without surrounding whitespace", s, secret)
	case !strings.Contains(s, secret):
		t.Fatalf("readSecretFile(%q) = %q; want a part of the file", s, secret)
	}
}
