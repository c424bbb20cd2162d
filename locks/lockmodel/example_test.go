package lockmodel_test

import (
	"fmt"
	"time"

	"github.com/raftlock/raftlock/locks/lockmodel"
)

// Clients record each request around the call; Check judges the history.
// The second client's answer is lost: its release may or may not have
// happened, and both readings are checked.
func Example() {
	rec := lockmodel.NewRecorder()

	c := rec.Invoke(0, lockmodel.Input{Kind: lockmodel.KindAcquire, Name: "db", TTL: 10 * time.Second, Owner: "a"})
	rec.Return(c, lockmodel.Output{Status: lockmodel.StatusOK, Token: 7, Lease: 7})

	lost := rec.Invoke(0, lockmodel.Input{Kind: lockmodel.KindRelease, Name: "db", Token: 7})
	rec.Return(lost, lockmodel.Output{Status: lockmodel.StatusFromCode("timeout")})

	c = rec.Invoke(1, lockmodel.Input{Kind: lockmodel.KindRead, Name: "db"})
	rec.Return(c, lockmodel.Output{Status: lockmodel.StatusOK}) // free: the release happened

	c = rec.Invoke(1, lockmodel.Input{Kind: lockmodel.KindFence, Name: "db", Token: 7})
	rec.Return(c, lockmodel.Output{Status: lockmodel.StatusFromCode("stale_token")})

	h, err := rec.History()
	if err != nil {
		fmt.Println(err)
		return
	}
	res, _ := lockmodel.Check(h, 10*time.Second)
	fmt.Println(res.OK(), res.Operations)
	// Output: true 4
}
