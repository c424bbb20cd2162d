// These tests prove the member directory's encoding: a directory survives
// encode -> decode; decoding refuses bytes a peer or a disk could hand over
// (not JSON, a name that is not a member name, an id that is not the name's,
// a peer URL of the wrong scheme, too many members) with an error, never a
// panic (FuzzDecodeDirectory); and directoryOf keeps only the members the
// membership names, taking the addresses of a membership without context
// from the previous directory.
package server

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

func testMembers(names ...string) []Member {
	var out []Member
	for i, n := range names {
		out = append(out, Member{Name: n, ID: NodeIDOf(n), PeerURL: fmt.Sprintf("http://127.0.0.1:%d", 7071+10*i), ClientURL: fmt.Sprintf("http://127.0.0.1:%d", 7070+10*i)})
	}
	return out
}

func TestDirectoryRoundTrip(t *testing.T) {
	want := testMembers("n1", "n2", "n3")
	b, err := encodeDirectory(want)
	if err != nil {
		t.Fatalf("encodeDirectory = %v; want nil", err)
	}
	got, err := decodeDirectory(b, "http")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeDirectory(encodeDirectory(%v)) = %v, %v; want the same, nil", want, got, err)
	}
}

func TestDecodeDirectoryRefuses(t *testing.T) {
	many := `{"members":[` + strings.Repeat(`{"id":1,"name":"x","peer_url":"http://a:1"},`, MembersMax) + `{"id":1,"name":"x","peer_url":"http://a:1"}]}`
	cases := []struct {
		name string
		in   string
		want string
	}{
		{"not json", `{`, "member directory"},
		{"bad name", fmt.Sprintf(`{"members":[{"id":%d,"name":"a b","peer_url":"http://a:1"}]}`, uint64(NodeIDOf("a b"))), "member"},
		{"no id", `{"members":[{"id":0,"name":"n1","peer_url":"http://a:1"}]}`, "has no raft id"},
		{"one id twice", `{"members":[{"id":7,"name":"n1","peer_url":"http://a:1"},{"id":7,"name":"n2","peer_url":"http://a:2"}]}`, "same raft id"},
		{"wrong scheme", fmt.Sprintf(`{"members":[{"id":%d,"name":"n1","peer_url":"https://a:1"}]}`, uint64(NodeIDOf("n1"))), "scheme"},
		{"no port", fmt.Sprintf(`{"members":[{"id":%d,"name":"n1","peer_url":"http://a"}]}`, uint64(NodeIDOf("n1"))), "host:port"},
		{"too many", many, fmt.Sprintf("max %d", MembersMax)},
		{"twice", fmt.Sprintf(`{"members":[{"id":%[1]d,"name":"n1","peer_url":"http://a:1"},{"id":%[1]d,"name":"n1","peer_url":"http://a:2"}]}`, uint64(NodeIDOf("n1"))), "twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeDirectory([]byte(tc.in), "http")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("decodeDirectory(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestDirectoryOf(t *testing.T) {
	all := testMembers("n1", "n2", "n3", "n4")
	ctx, err := encodeDirectory(all)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(ms []Member) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Name)
		}
		return out
	}
	cases := []struct {
		name string
		m    consensus.Membership
		prev []Member
		want []string
	}{
		{"context wins", consensus.Membership{Voters: []consensus.NodeID{all[0].ID, all[1].ID}, Learners: []consensus.NodeID{all[3].ID}, Context: ctx}, nil, []string{"n1", "n2", "n4"}},
		{"no context: previous addresses", consensus.Membership{Voters: []consensus.NodeID{all[0].ID, all[2].ID}}, all, []string{"n1", "n3"}},
		{"joint: both halves", consensus.Membership{Voters: []consensus.NodeID{all[0].ID}, Outgoing: []consensus.NodeID{all[0].ID, all[1].ID}, Context: ctx}, nil, []string{"n1", "n2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := directoryOf(tc.m, 5, tc.prev, "http")
			if err != nil || !reflect.DeepEqual(ids(d.members), tc.want) {
				t.Fatalf("directoryOf(%v) = %v, %v; want %v", tc.m, ids(d.members), err, tc.want)
			}
		})
	}
}

// FuzzDecodeDirectory: any bytes decode into a valid directory or are
// refused; a directory that decodes encodes and decodes to itself.
func FuzzDecodeDirectory(f *testing.F) {
	b, err := encodeDirectory(testMembers("n1", "n2"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"members":[]}`))
	f.Add([]byte(`{"members":[{"id":1}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := decodeDirectory(in, "http")
		if err != nil {
			return
		}
		enc, err := encodeDirectory(got)
		if err != nil {
			t.Fatalf("encodeDirectory(%v) = %v", got, err)
		}
		again, err := decodeDirectory(enc, "http")
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("round trip of %v = %v, %v", got, again, err)
		}
	})
}

func TestFreshNodeIDAvoidsMembers(t *testing.T) {
	d := &memberDir{
		members:    []Member{{Name: "n1", ID: NodeIDOf("n1")}, {Name: "n2", ID: NodeIDOf("n2")}},
		membership: consensus.Membership{Voters: []consensus.NodeID{NodeIDOf("n1"), NodeIDOf("n2")}},
	}
	seen := map[consensus.NodeID]bool{}
	for range 1000 {
		id := freshNodeID(d)
		if id == consensus.None || d.membership.IsMember(id) || seen[id] {
			t.Fatalf("freshNodeID = %x; want a new id that no member has", uint64(id))
		}
		seen[id] = true
	}
}

func TestLocalAddressesWin(t *testing.T) {
	n := &Node{cfg: Config{InitialCluster: "n1=http://127.0.0.1:1,n2=http://127.0.0.1:2"}}
	dir := []Member{
		{Name: "n1", ID: NodeIDOf("n1"), PeerURL: "http://10.0.0.1:7071"},
		{Name: "n2", ID: 12345, PeerURL: "http://10.0.0.2:7071"}, // re-added: a fresh id
		{Name: "n3", ID: NodeIDOf("n3"), PeerURL: "http://10.0.0.3:7071"},
	}
	got := n.localAddresses(dir)
	want := []string{"http://127.0.0.1:1", "http://10.0.0.2:7071", "http://10.0.0.3:7071"}
	for i, m := range got {
		if m.PeerURL != want[i] {
			t.Errorf("localAddresses: %s at %s; want %s", m.Name, m.PeerURL, want[i])
		}
	}
	if dir[0].PeerURL != "http://10.0.0.1:7071" {
		t.Errorf("localAddresses changed its argument")
	}
}
