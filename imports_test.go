// This test keeps the package boundaries of STYLE.md §1: it parses every
// non-test Go file of the module and fails on an import edge the table forbids.
package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/raftlock/raftlock"

// allowed maps a package (by directory, relative to the root) to the module
// packages it may import. A directory not listed may import nothing of the
// module unless a prefix rule below matches it.
func allowedImports(dir string) (allow func(string) bool) {
	switch {
	case dir == "consensus":
		return func(string) bool { return false }
	case strings.HasPrefix(dir, "consensus/"):
		return func(p string) bool { return p == "consensus" || strings.HasPrefix(p, "consensus/") }
	case dir == "locks" || strings.HasPrefix(dir, "locks/"):
		return func(p string) bool { return p == "locks" || strings.HasPrefix(p, "locks/") }
	case dir == "client/wire":
		return func(string) bool { return false }
	case dir == "client" || strings.HasPrefix(dir, "client/"):
		return func(p string) bool { return p == "client/wire" || strings.HasPrefix(p, "client/") }
	case dir == "server" || strings.HasPrefix(dir, "server/"):
		return func(string) bool { return true }
	case dir == ".":
		return func(p string) bool {
			return p == "server" || p == "client" || strings.HasPrefix(p, "server/") || strings.HasPrefix(p, "client/")
		}
	case strings.HasPrefix(dir, "scripts/"):
		return func(string) bool { return true }
	}
	return func(string) bool { return false }
}

// forbiddenStd lists standard and third-party imports a package must never use.
func forbiddenExternal(dir string) []string {
	switch dir {
	case "consensus":
		return []string{"time", "net", "net/http", "os", "go.etcd.io/bbolt", "math/rand"}
	case "locks":
		return []string{"time", "net", "net/http", "os", "go.uber.org/zap", "math/rand", "math/rand/v2", "go.etcd.io/bbolt"}
	case "client/wire":
		return []string{"github.com/labstack/echo/v4", "go.etcd.io/bbolt", "go.uber.org/zap"}
	case "client":
		return []string{"github.com/labstack/echo/v4", "go.etcd.io/bbolt"}
	}
	return nil
}

func TestImportBoundaries(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		allow := allowedImports(dir)
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			for _, bad := range forbiddenExternal(dir) {
				if p == bad {
					t.Errorf("%s imports %q; %s must never import it (STYLE.md §1)", path, p, dir)
				}
			}
			if p != module && !strings.HasPrefix(p, module+"/") {
				continue
			}
			rel := strings.TrimPrefix(strings.TrimPrefix(p, module), "/")
			if rel == dir {
				continue
			}
			if !allow(rel) {
				t.Errorf("%s imports %q; the edge %s -> %s is forbidden (STYLE.md §1)", path, p, dir, rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestImportRulesBite proves the rules above reject what STYLE.md forbids.
func TestImportRulesBite(t *testing.T) {
	cases := []struct{ from, to string }{
		{"consensus", "locks"},
		{"consensus/boltstore", "server"},
		{"locks", "consensus"},
		{"client", "server"},
		{"client/wire", "locks"},
		{".", "consensus"},
	}
	for _, c := range cases {
		if allowedImports(c.from)(c.to) {
			t.Errorf("edge %s -> %s allowed; want forbidden", c.from, c.to)
		}
	}
}
