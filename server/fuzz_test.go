// FuzzRequestBodies proves that no request body makes the server's decoding
// panic or accept what it must refuse: any bytes either decode into the
// request type (only known fields, one JSON object, within the size limit,
// durations as strings) and then build a command that locks.ValidateCommand
// judges without panicking, or are refused with invalid_argument or
// too_large. Seeds cover every body of the API.
package server

import (
	"errors"
	"testing"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/locks"
)

func FuzzRequestBodies(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `{"ttl":"10s"}`, `{"ttl":10}`, `{"lease_id":3,"owner":"me","wait":"1s"}`,
		`{"ttl":"5s","colour":"red"}`, `{"token":7}`, `{"term":1,"value":"a:1"}`, `{"value":"x","wait":"-1s"}`,
		`{} {}`, `[1]`, `null`, `{"ttl":"1h1ns"}`, `{"lease_id":18446744073709551615}`, `{"token":-1}`,
	} {
		f.Add([]byte(s), "db")
	}
	f.Fuzz(func(t *testing.T, body []byte, name string) {
		refusal := func(what string, err error) {
			if err != nil && !errors.Is(err, ErrInvalidArgument) && !errors.Is(err, ErrTooLarge) &&
				!errors.Is(err, locks.ErrInvalidArgument) && !errors.Is(err, locks.ErrTooLarge) {
				t.Fatalf("%s(%q) = %v; want nil or invalid_argument/too_large", what, body, err)
			}
		}
		var lr wire.LeaseRequest
		if err := decodeJSON(body, &lr); err == nil {
			refusal("create lease", locks.ValidateCommand(locks.Command{Kind: locks.KindCreateLease, TTL: locks.Duration(lr.TTL)}))
		} else {
			refusal("decode lease", err)
		}
		var ar wire.AcquireRequest
		if err := decodeJSON(body, &ar); err == nil {
			cmd := locks.Command{Kind: locks.KindAcquire, Name: name, LeaseID: locks.LeaseID(ar.LeaseID), TTL: locks.Duration(ar.TTL), Owner: ar.Owner, Wait: ar.Wait > 0}
			err := checkAcquire(cmd, ar.Wait)
			refusal("acquire", err)
			if err == nil {
				if _, err := locks.EncodeCommand(cmd); err != nil {
					t.Fatalf("EncodeCommand of a checked acquire %+v = %v", cmd, err)
				}
				if ar.Wait.D() < 0 || ar.Wait.D() > WaitMax {
					t.Fatalf("acquire with wait %v passed the check", ar.Wait.D())
				}
			}
		} else {
			refusal("decode acquire", err)
		}
		var cr wire.CampaignRequest
		if err := decodeJSON(body, &cr); err == nil {
			refusal("campaign", checkAcquire(locks.Command{Kind: locks.KindAcquire, Election: true, Name: name, LeaseID: locks.LeaseID(cr.LeaseID),
				TTL: locks.Duration(cr.TTL), Value: cr.Value, Wait: cr.Wait > 0}, cr.Wait))
		} else {
			refusal("decode campaign", err)
		}
		var rr wire.ReleaseRequest
		if err := decodeJSON(body, &rr); err == nil {
			refusal("release", locks.ValidateCommand(locks.Command{Kind: locks.KindRelease, Name: name, Token: locks.Token(rr.Token)}))
		} else {
			refusal("decode release", err)
		}
		var pr wire.ProclaimRequest
		if err := decodeJSON(body, &pr); err == nil {
			refusal("proclaim", locks.ValidateCommand(locks.Command{Kind: locks.KindProclaim, Name: name, Token: locks.Token(pr.Term), Value: pr.Value}))
		} else {
			refusal("decode proclaim", err)
		}
		var sr wire.ResignRequest
		if err := decodeJSON(body, &sr); err != nil {
			refusal("decode resign", err)
		}
		refusal("request id", validateRequestID(name))
	})
}
