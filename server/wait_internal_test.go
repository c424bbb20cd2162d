package server

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/locks"
)

// startSingle runs a one-node cluster with the lock table and returns it
// once it leads and has applied its commit.
func startSingle(t *testing.T) *Node {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Name = "n1"
	cfg.DataDir = t.TempDir()
	cfg.ClientAddr, cfg.PeerAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.HeartbeatInterval, cfg.ElectionTimeout = 50*time.Millisecond, 500*time.Millisecond
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	n, err := New(cfg, Options{ClientListener: listen(), PeerListener: listen()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// Exits when the cleanup cancels ctx.
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v; want nil", err)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := n.drv.Status()
		if st.Role == consensus.RoleLeader && st.Applied >= st.Commit && st.Commit > 0 {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("single node never led: %+v", st)
		}
		select {
		case <-n.drv.LeaderChanged():
		case <-time.After(10 * time.Millisecond): // applied has no channel; poll
		}
	}
}

// TestAwaitGrantAnswersGrantLostSince: a waiter whose lease was granted the
// lock and then revoked, before its request looked again, is answered the
// grant (the acquire took effect; the lock table's record of the request
// says so), not the not_found of cancelling a wait that is gone.
func TestAwaitGrantAnswersGrantLostSince(t *testing.T) {
	n := startSingle(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	do := func(cmd locks.Command) locks.Result {
		t.Helper()
		res, err := n.propose(ctx, cmd)
		if err != nil || res.Err != nil {
			t.Fatalf("%s = %+v, %v; want success", cmd.Kind, res, err)
		}
		return res
	}
	holder := do(locks.Command{Kind: locks.KindCreateLease, TTL: locks.Duration(time.Minute)}).LeaseID
	waiter := do(locks.Command{Kind: locks.KindCreateLease, TTL: locks.Duration(time.Minute)}).LeaseID
	do(locks.Command{Kind: locks.KindAcquire, Name: "w", LeaseID: holder})
	for _, keyed := range []bool{true, false} {
		id := "client-key"
		if !keyed {
			id = internalRequestID()
		}
		acq := locks.Command{Kind: locks.KindAcquire, Name: "w", LeaseID: waiter, Wait: true, RequestID: id}
		if r := do(acq); !r.Queued {
			t.Fatalf("acquire of the held lock = %+v; want queued", r)
		}
		// Revoking the holder's lease grants the waiter; revoking the
		// waiter's frees the lock again, all before the request looks.
		grant := do(locks.Command{Kind: locks.KindRevokeLease, LeaseID: holder})
		var token locks.Token
		n.fsm.read(func(t *locks.Table) { token = t.Lock("w").Holder.Token })
		do(locks.Command{Kind: locks.KindRevokeLease, LeaseID: waiter})
		h, err := n.awaitGrant(ctx, &acquireCall{cmd: acq, keyed: keyed}, waiter, time.Minute)
		if err != nil || h.LeaseID != waiter || h.Token != token || token == 0 {
			t.Errorf("keyed %t: awaitGrant after the grant and the revoke = %+v, %v; want the grant (token %d, revoke result %+v)", keyed, h, err, token, grant)
		}
		// The next round: new leases, the lock held again.
		holder = do(locks.Command{Kind: locks.KindCreateLease, TTL: locks.Duration(time.Minute)}).LeaseID
		waiter = do(locks.Command{Kind: locks.KindCreateLease, TTL: locks.Duration(time.Minute)}).LeaseID
		do(locks.Command{Kind: locks.KindAcquire, Name: "w", LeaseID: holder})
	}
}
