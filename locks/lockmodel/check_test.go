package lockmodel

// These tests prove Check's plumbing: the visualization is written when, and
// only when, a history is rejected, and it names the violation; errors wrap
// their sentinels; API error codes map to the statuses the model expects;
// descriptions read well.

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
)

func TestCheckFile(t *testing.T) {
	good := []porcupine.Operation{
		op(0, 1, 2, createLease(), created(1)),
		op(0, 3, 4, acquire("a", 1, "x"), granted(2, 1)),
	}
	bad := []porcupine.Operation{
		op(0, 1, 2, createLease(), created(1)),
		op(0, 3, 4, acquire("a", 1, "x"), granted(5, 1)),
		op(1, 3, 4, createLease(), created(5)),
		op(1, 7, 8, read("a"), free()),
		op(0, 9, 10, release("a", 5), ok()),
	}
	cases := []struct {
		name      string
		h         []porcupine.Operation
		wantFile  bool
		wantInDoc []string
	}{
		{"accepted writes nothing", good, false, nil},
		{"rejected writes the page", bad, true, []string{"<html", "index 5 is a lease id"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "history.html")
			res, err := CheckFile(c.h, checkTimeout, path)
			if err != nil {
				t.Fatalf("CheckFile() error = %v; want nil", err)
			}
			if res.OK() == c.wantFile {
				t.Errorf("CheckFile().OK() = %t; want %t", res.OK(), !c.wantFile)
			}
			data, err := os.ReadFile(path)
			if exists := err == nil; exists != c.wantFile {
				t.Fatalf("visualization written = %t (%v); want %t", exists, err, c.wantFile)
			}
			for _, s := range c.wantInDoc {
				if !strings.Contains(string(data), s) {
					t.Errorf("visualization lacks %q", s)
				}
			}
		})
	}
}

func TestResultErr(t *testing.T) {
	cases := []struct {
		name string
		r    Result
		want error
	}{
		{"ok", Result{Linearizable: porcupine.Ok}, nil},
		{"illegal", Result{Linearizable: porcupine.Illegal}, ErrNotLinearizable},
		{"violation", Result{Linearizable: porcupine.Ok, Violations: []Violation{{Message: "m"}}}, ErrNotLinearizable},
		{"timeout", Result{Linearizable: porcupine.Unknown}, ErrCheckTimeout},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.r.Err()
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("Result.Err() = %v; want %v", err, c.want)
			}
		})
	}
}

func TestStatusFromCode(t *testing.T) {
	cases := []struct {
		code string
		want Status
	}{
		{"", StatusOK},
		{"not_found", StatusNotFound},
		{"lock_held", StatusLockHeld},
		{"not_holder", StatusNotHolder},
		{"stale_token", StatusStaleToken},
		{"not_leader", StatusNotLeader},
		{"invalid_argument", StatusRejected},
		{"too_large", StatusRejected},
		{"too_many_requests", StatusRejected},
		{"timeout", StatusUnknown},
		{"no_leader", StatusUnknown},
		{"internal", StatusUnknown},
		{"something_new", StatusUnknown},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			if got := StatusFromCode(c.code); got != c.want {
				t.Errorf("StatusFromCode(%q) = %v; want %v", c.code, got, c.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	cases := []struct {
		name string
		got  string
		want string
	}{
		{"acquire", acquire("a", 1, "x").String(), `acquire("a", lease=1, owner="x", wait=false)`},
		{"granted", granted(5, 1).String(), "ok token=5 lease=1"},
		{"held", held(5, 1, "x").String(), `held token=5 lease=1 owner="x"`},
		{"proclaim", proclaim("e", 3, "v").String(), `proclaim("e", term=3, value="v")`},
		{"unknown kind", Kind(99).String(), "kind(99)"},
		{"state", (&state{last: 3, objects: []object{{key: objectKey{name: "a"}, held: true, h: holder{lease: 1, tokenLo: 3, tokenHi: unknownTokenHi, owner: "x"}}}, leases: []leaseState{{id: 1}}}).String(),
			`last=3; lock a: token=?[3,inf] lease=1 owner="x"; lease 1 alive`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("String() = %q; want %q", c.got, c.want)
			}
		})
	}
}

func TestCheckEmpty(t *testing.T) {
	res, vis := Check(nil, checkTimeout)
	if !res.OK() {
		t.Errorf("Check(nil).OK() = false (%v); want true", res.Err())
	}
	path := filepath.Join(t.TempDir(), "empty.html")
	if err := vis.WriteFile(path); err != nil {
		t.Errorf("WriteFile(%q) = %v; want nil", path, err)
	}
}

// TestCheckNamesIllegalPart: a rejected history names the partition that is
// illegal and the operation where it goes wrong, not the legal ones, and the
// narrowing does not blame a read for showing a write called after it but
// concurrent with it.
func TestCheckNamesIllegalPart(t *testing.T) {
	h := []porcupine.Operation{
		op(0, 1, 2, createLease(), created(1)),
		op(0, 3, 4, acquire("a", 1, "x"), granted(2, 1)),
		op(0, 5, 6, release("a", 2), ok()),
		op(2, 4, 9, read("b"), held(4, 1, "y")), // called before the acquire it shows
		op(1, 5, 9, acquire("b", 1, "y"), granted(4, 1)),
		op(1, 10, 11, release("b", 4), ok()),
		op(2, 12, 13, read("b"), held(4, 1, "y")), // after the release: illegal
		op(0, 14, 15, read("a"), free()),
	}
	res := check(t, h, false)
	want := []IllegalPart{{Object: "lock b", Operations: 5, Op: 6}}
	if !slices.Equal(res.Illegal, want) {
		t.Fatalf("Check().Illegal = %+v; want %+v", res.Illegal, want)
	}
	if msg := res.Err().Error(); !strings.Contains(msg, "lock b (5 operations) illegal by operation 6") {
		t.Errorf("Check().Err() = %q; want it to name lock b and operation 6", msg)
	}
	// The visualization shows lock b's narrowed prefix, not lock a.
	if _, vis := Check(h, checkTimeout); !slices.Equal(vis.ops, []porcupine.Operation{h[0], h[3], h[4], h[5], h[6]}) {
		t.Errorf("visualized operations = %v; want lock b's five", vis.ops)
	} else if _, err := vis.WriteTo(io.Discard); err != nil {
		t.Errorf("visualization: %v", err)
	}
	// The prefix ending at the early read takes the acquire it shows.
	b := []porcupine.Operation{h[0], h[3], h[4], h[5], h[6]}
	for n, want := range map[int]int{1: 1, 2: 3, 3: 3, 4: 4, 5: 5} {
		if got := closePrefix(b, n); got != want {
			t.Errorf("closePrefix(lock b's operations, %d) = %d; want %d", n, got, want)
		}
	}
	// Without the bad read, nothing is named.
	if res := check(t, slices.Delete(slices.Clone(h), 6, 7), true); res.Illegal != nil {
		t.Errorf("Check() of the legal history: Illegal = %+v; want none", res.Illegal)
	}
}
