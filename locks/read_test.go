package locks

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// Tests of the reads: Fence, listings, Lease, ModifyIndex and Changes.

func TestFence(t *testing.T) {
	// Lease 1 holds "a" with token 2; "b" was held with token 3 and freed
	// at 4; "c" never existed.
	setup := func(h *harness) {
		id := h.lease(10 * time.Second)
		h.acquire("a", id)
		tok := h.acquire("b", id)
		h.ok(Command{Kind: KindRelease, Name: "b", Token: tok})
	}
	cases := []struct {
		name  string
		lock  string
		token Token
		code  string
	}{
		{"holder", "a", 2, ""},
		{"older than holder", "a", 1, "stale_token"},
		{"newer than holder", "a", 9, "stale_token"},
		{"released holder", "b", 3, "stale_token"},
		{"free, newer than every grant", "b", 4, ""},
		{"never held, below freed grants", "c", 2, "stale_token"},
		{"never held, newer", "c", 5, ""},
		{"token zero", "a", 0, "invalid_argument"},
	}
	h := newHarness(t)
	setup(h)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := h.tbl.Fence(tc.lock, tc.token)
			if got := Code(err); got != tc.code {
				t.Errorf("Fence(%q, %d) = %v; want code %q", tc.lock, tc.token, err, tc.code)
			}
		})
	}
}

func TestListLocks(t *testing.T) {
	h := newHarness(t)
	id := h.lease(10 * time.Second)
	for _, name := range []string{"app/b", "app/a", "app/c", "other", "app"} {
		h.acquire(name, id)
	}
	h.ok(Command{Kind: KindAcquire, Name: "app/e", LeaseID: id, Election: true})
	cases := []struct {
		name          string
		prefix, after string
		limit         int
		want          []string
		more          bool
	}{
		{"prefix", "app/", "", 0, []string{"app/a", "app/b", "app/c"}, false},
		{"all", "", "", 0, []string{"app", "app/a", "app/b", "app/c", "other"}, false},
		{"limit", "app/", "", 2, []string{"app/a", "app/b"}, true},
		{"after", "app/", "app/b", 2, []string{"app/c"}, false},
		{"none", "zzz", "", 0, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			infos, more := h.tbl.ListLocks(tc.prefix, tc.after, tc.limit)
			var got []string
			for _, li := range infos {
				got = append(got, li.Name)
			}
			if len(got) != len(tc.want) || more != tc.more {
				t.Fatalf("ListLocks(%q, %q, %d) = %v, %t; want %v, %t", tc.prefix, tc.after, tc.limit, got, more, tc.want, tc.more)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("ListLocks(%q, %q, %d) = %v; want %v", tc.prefix, tc.after, tc.limit, got, tc.want)
				}
			}
		})
	}
	if es, _ := h.tbl.ListElections("", "", 0); len(es) != 1 || es[0].Name != "app/e" || es[0].Kind != ObjectElection {
		t.Errorf("ListElections() = %+v; want app/e", es)
	}
}

func TestLeaseInfoAndModifyIndex(t *testing.T) {
	h := newHarness(t)
	id := h.lease(10 * time.Second) // 1
	at := h.now
	other := h.lease(time.Minute) // 2
	h.acquire("b", id)            // 3
	h.acquire("a", other)         // 4
	h.wait("a", id)               // 5
	h.ok(Command{Kind: KindAcquire, Name: "e", LeaseID: id, Election: true})
	ls, ok := h.tbl.Lease(id)
	want := LeaseInfo{ID: 1, TTL: dur(10 * time.Second), GrantedAt: at, Locks: []string{"b"}, Elections: []string{"e"}, Waits: []ObjectRef{{ObjectLock, "a"}}, ModifyIndex: 6}
	if !ok || !sameLease(ls, want) || ls.Waits[0] != want.Waits[0] {
		t.Errorf("Lease(1) = %+v; want %+v", ls, want)
	}
	if li := h.tbl.Lock("a"); li.ModifyIndex != 5 {
		t.Errorf("Lock(%q).ModifyIndex = %d; want 5", "a", li.ModifyIndex)
	}
	want2 := []Change{{Kind: ObjectElection, Name: "e"}, {Kind: ObjectLease, LeaseID: 1}}
	if got := h.tbl.Changes(); !equalChanges(got, want2) {
		t.Errorf("Changes() = %v; want %v", got, want2)
	}
	h.ok(Command{Kind: KindRevokeLease, LeaseID: other}) // 7: "a" goes to lease 1
	if li := h.tbl.Lock("a"); li.ModifyIndex != 7 || li.Holder.LeaseID != id {
		t.Errorf("Lock(%q) = %+v; want held by lease 1, index 7", "a", li)
	}
	h.ok(Command{Kind: KindRevokeLease, LeaseID: id}) // 8: everything freed
	if li := h.tbl.Lock("b"); li.Held || li.ModifyIndex != 8 {
		t.Errorf("Lock(%q) = %+v; want free, index 8 (its removal)", "b", li)
	}
	if st := h.tbl.Stats(); st != (Stats{}) {
		t.Errorf("Stats() = %+v; want empty", st)
	}
}

// TestListLocksMatchesSort: the bounded-heap listing equals sorting every
// matching name and cutting, for many prefixes, cursors and limits.
func TestListLocksMatchesSort(t *testing.T) {
	h := newHarness(t)
	id := h.lease(time.Minute)
	var names []string
	for i := 0; i < 300; i++ {
		name := fmt.Sprintf("%c/%03d", 'a'+i*7%3, (i*37)%1000)
		names = append(names, name)
		h.acquire(name, id)
	}
	sort.Strings(names)
	for _, prefix := range []string{"", "a/", "b/0", "z"} {
		for _, after := range []string{"", "a/500", "b/"} {
			for _, limit := range []int{1, 2, 7, 100, 0} {
				var want []string
				for _, n := range names {
					if strings.HasPrefix(n, prefix) && n > after {
						want = append(want, n)
					}
				}
				lim := limit
				if lim == 0 {
					lim = ListMax
				}
				wantMore := len(want) > lim
				if wantMore {
					want = want[:lim]
				}
				infos, more := h.tbl.ListLocks(prefix, after, limit)
				got := make([]string, len(infos))
				for i, li := range infos {
					got[i] = li.Name
				}
				if strings.Join(got, ",") != strings.Join(want, ",") || more != wantMore {
					t.Fatalf("ListLocks(%q, %q, %d) = %v, %t; want %v, %t", prefix, after, limit, got, more, want, wantMore)
				}
			}
		}
	}
}
