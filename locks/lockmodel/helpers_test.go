package lockmodel

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// This file holds a small language for hand-built histories: op(client,
// call, return, input, output) with constructors for every input and answer.

const checkTimeout = 30 * time.Second

const never = math.MaxInt64

func op(client int, call, ret int64, in Input, out Output) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Call: call, Return: ret, Input: in, Output: out}
}

func createLease() Input         { return Input{Kind: KindCreateLease, TTL: 10 * time.Second} }
func keepAlive(id LeaseID) Input { return Input{Kind: KindKeepAlive, Lease: id} }
func revoke(id LeaseID) Input    { return Input{Kind: KindRevoke, Lease: id} }
func acquire(name string, id LeaseID, owner string) Input {
	return Input{Kind: KindAcquire, Name: name, Lease: id, Owner: owner}
}
func acquireWait(name string, id LeaseID, owner string) Input {
	in := acquire(name, id, owner)
	in.Wait = true
	return in
}
func release(name string, t Token) Input { return Input{Kind: KindRelease, Name: name, Token: t} }
func read(name string) Input             { return Input{Kind: KindRead, Name: name} }
func fence(name string, t Token) Input   { return Input{Kind: KindFence, Name: name, Token: t} }
func campaign(name, value string, id LeaseID) Input {
	return Input{Kind: KindCampaign, Name: name, Value: value, Lease: id, Wait: true}
}
func proclaim(name string, term Token, value string) Input {
	return Input{Kind: KindProclaim, Name: name, Token: term, Value: value}
}
func resign(name string, term Token) Input { return Input{Kind: KindResign, Name: name, Token: term} }
func leader(name string) Input             { return Input{Kind: KindLeader, Name: name} }

func ok() Output                { return Output{Status: StatusOK} }
func created(id LeaseID) Output { return Output{Status: StatusOK, Lease: id} }
func granted(t Token, id LeaseID) Output {
	return Output{Status: StatusOK, Token: t, Lease: id}
}
func lockHeld(t Token) Output { return Output{Status: StatusLockHeld, Token: t} }
func held(t Token, id LeaseID, owner string) Output {
	return Output{Status: StatusOK, Held: true, Token: t, Lease: id, Owner: owner}
}
func leading(t Token, id LeaseID, value string) Output {
	return Output{Status: StatusOK, Held: true, Token: t, Lease: id, Value: value}
}
func free() Output      { return Output{Status: StatusOK} }
func notFound() Output  { return Output{Status: StatusNotFound} }
func notHolder() Output { return Output{Status: StatusNotHolder} }
func stale() Output     { return Output{Status: StatusStaleToken} }
func notLeader() Output { return Output{Status: StatusNotLeader} }
func unknown() Output   { return Output{Status: StatusUnknown} }

// check runs Check and, on an unexpected verdict, writes the visualization
// into the test's temporary directory and names it.
func check(t *testing.T, h []porcupine.Operation, wantOK bool) Result {
	t.Helper()
	return checkWith(t, Options{}, h, wantOK)
}

// checkWith is check under opts.
func checkWith(t *testing.T, opts Options, h []porcupine.Operation, wantOK bool) Result {
	t.Helper()
	res, vis := opts.Check(h, checkTimeout)
	if res.Linearizable == porcupine.Unknown {
		t.Fatalf("Check(%d operations) timed out after %v", len(h), checkTimeout)
	}
	if res.OK() != wantOK {
		path := filepath.Join(t.TempDir(), "history.html")
		werr := vis.WriteFile(path)
		t.Errorf("Check(%d operations).OK() = %t (%v); want %t; visualization %s (write error %v)",
			len(h), res.OK(), res.Err(), wantOK, path, werr)
	}
	return res
}
