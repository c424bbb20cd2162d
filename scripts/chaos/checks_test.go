// These tests prove the verdicts catch what they are for, without a
// cluster: histories and fenced-resource writes are built by hand. The
// broken client of --bug=unfenced is replayed here step by step (its lease
// expires, another client is granted a newer token and writes, then the
// broken client writes with its old token without fencing), and the
// fenced_resource verdict must reject the run; the same steps with fencing
// pass. A double grant must be rejected by the linearizability check and by
// tokens_increase.
package main

import (
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/raftlock/raftlock/locks/lockmodel"
)

// script builds a history with a logical clock: every call and return takes
// the next tick, and fenced writes are stamped on the same clock.
type script struct {
	now    int64
	ops    []porcupine.Operation
	store  *fencedStore
	writes int
}

func newScript() *script {
	s := &script{}
	s.store = newFencedStore(func() int64 { s.now++; return s.now })
	return s
}

// op records a completed operation.
func (s *script) op(client int, in lockmodel.Input, out lockmodel.Output) {
	s.now++
	call := s.now
	s.now++
	s.ops = append(s.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: s.now})
}

func (s *script) acquire(client int, name string, token lockmodel.Token, lease lockmodel.LeaseID) {
	s.op(client, lockmodel.Input{Kind: lockmodel.KindAcquire, Name: name, TTL: time.Second}, lockmodel.Output{Status: lockmodel.StatusOK, Token: token, Lease: lease})
}

func (s *script) release(client int, name string, token lockmodel.Token) {
	s.op(client, lockmodel.Input{Kind: lockmodel.KindRelease, Name: name, Token: token}, lockmodel.Output{Status: lockmodel.StatusOK})
}

func (s *script) write(client int, name string, token lockmodel.Token, fenced bool) bool {
	return s.store.write(client, name, token, fenced)
}

func TestFencedVerdict(t *testing.T) {
	cases := []struct {
		name string
		run  func(s *script)
		// want is a substring of the violation; "" means the verdict holds.
		want string
	}{
		{"holders in turn", func(s *script) {
			s.acquire(0, "a", 5, 5)
			s.write(0, "a", 5, true)
			s.release(0, "a", 5)
			s.acquire(1, "a", 9, 9)
			s.write(1, "a", 9, true)
		}, ""},
		{"expired holder fenced off", func(s *script) {
			s.acquire(0, "a", 5, 5)
			s.write(0, "a", 5, true)
			// Lease 5 expires; client 0 does not notice.
			s.acquire(1, "a", 9, 9)
			s.write(1, "a", 9, true)
			if s.write(0, "a", 5, true) {
				panic("the store accepted a stale fenced write")
			}
		}, ""},
		{"expired holder writes unfenced", func(s *script) {
			s.acquire(0, "a", 5, 5)
			s.write(0, "a", 5, false)
			s.acquire(1, "a", 9, 9)
			s.write(1, "a", 9, true)
			s.write(0, "a", 5, false)
		}, "accepted at"},
		{"token never granted", func(s *script) {
			s.write(0, "a", 7, true)
		}, "no acknowledged grant"},
		{"token of another client", func(s *script) {
			s.acquire(1, "a", 7, 7)
			s.write(0, "a", 7, true)
		}, "granted to client 1"},
		{"write after own release", func(s *script) {
			s.acquire(0, "a", 7, 7)
			s.release(0, "a", 7)
			s.write(0, "a", 7, true)
		}, "after its release"},
		{"locks are independent", func(s *script) {
			s.acquire(0, "a", 9, 9)
			s.write(0, "a", 9, true)
			s.acquire(1, "b", 5, 5)
			s.write(1, "b", 5, true)
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript()
			tc.run(s)
			writes, _ := s.store.all()
			v := checkFenced(s.ops, writes)
			got := strings.Join(v.Violations, "; ")
			switch {
			case tc.want == "" && !v.OK:
				t.Errorf("checkFenced = %s; want no violation", got)
			case tc.want != "" && (v.OK || !strings.Contains(got, tc.want)):
				t.Errorf("checkFenced = %v %q; want a violation containing %q", v.OK, got, tc.want)
			}
		})
	}
}

func TestTokensVerdict(t *testing.T) {
	cases := []struct {
		name string
		run  func(s *script)
		want string
	}{
		{"increasing", func(s *script) {
			s.acquire(0, "a", 5, 5)
			s.release(0, "a", 5)
			s.acquire(1, "a", 9, 9)
		}, ""},
		{"decreasing", func(s *script) {
			s.acquire(0, "a", 9, 9)
			s.release(0, "a", 9)
			s.acquire(1, "a", 5, 5)
		}, "tokens must increase"},
		{"same token two leases", func(s *script) {
			s.acquire(0, "a", 9, 9)
			s.op(1, lockmodel.Input{Kind: lockmodel.KindAcquire, Name: "a", Lease: 3}, lockmodel.Output{Status: lockmodel.StatusOK, Token: 9, Lease: 3})
		}, "granted to lease"},
		{"other lock lower", func(s *script) {
			s.acquire(0, "a", 9, 9)
			s.acquire(1, "b", 5, 5)
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript()
			tc.run(s)
			v := checkTokens(s.ops)
			got := strings.Join(v.Violations, "; ")
			switch {
			case tc.want == "" && !v.OK:
				t.Errorf("checkTokens = %s; want no violation", got)
			case tc.want != "" && (v.OK || !strings.Contains(got, tc.want)):
				t.Errorf("checkTokens = %v %q; want a violation containing %q", v.OK, got, tc.want)
			}
		})
	}
}

// TestLinearizableVerdictCatchesDoubleGrant feeds the harness's
// linearizability verdict a history where a lock is granted twice while its
// first holder's lease was proven alive in between: it must fail and write
// the visualization.
func TestLinearizableVerdictCatchesDoubleGrant(t *testing.T) {
	s := newScript()
	s.acquire(0, "a", 5, 5)
	s.op(0, lockmodel.Input{Kind: lockmodel.KindKeepAlive, Lease: 5}, lockmodel.Output{Status: lockmodel.StatusOK})
	s.acquire(1, "a", 9, 9)
	s.op(0, lockmodel.Input{Kind: lockmodel.KindKeepAlive, Lease: 5}, lockmodel.Output{Status: lockmodel.StatusOK})
	r := &runState{cfg: config{checkTimeout: 10 * time.Second}, dir: t.TempDir()}
	v, timedOut := r.linearizable(s.ops)
	if v.OK || timedOut {
		t.Fatalf("linearizable(double grant) = %v (timed out %v); want a violation", v.OK, timedOut)
	}
	if !strings.Contains(strings.Join(v.Violations, " "), "history.html") {
		t.Errorf("linearizable(double grant) violations = %q; want the visualization's path", v.Violations)
	}
	ok := newScript()
	ok.acquire(0, "a", 5, 5)
	ok.release(0, "a", 5)
	ok.acquire(1, "a", 9, 9)
	if v, _ := r.linearizable(ok.ops); !v.OK {
		t.Errorf("linearizable(holders in turn) = %q; want ok", v.Violations)
	}
}
