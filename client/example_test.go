package client_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/raftlock/raftlock/client"
)

// A Mutex hands out a fencing token with each grant. Whatever the lock
// guards checks the token (here with Client.Fence) before acting, so a
// holder that stalled past its lease cannot overwrite the next holder's work.
func ExampleMutex() {
	endpoint, stop := client.StartExampleServer()
	defer stop()
	ctx := context.Background()

	c, err := client.New(client.Config{Endpoints: []string{endpoint}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	s, err := client.NewSession(ctx, c, client.WithTTL(10*time.Second))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	m := client.NewMutex(s, "reports/daily")
	token, err := m.Lock(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	valid, err := c.Fence(ctx, "reports/daily", token)
	fmt.Println("token valid while held:", valid, err)

	// Someone else cannot take it meanwhile.
	other, err := client.NewSession(ctx, c)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer other.Close()
	_, err = client.NewMutex(other, "reports/daily").TryLock(ctx)
	fmt.Println("second TryLock refused:", errors.Is(err, client.ErrLockHeld))

	if err := m.Unlock(ctx); err != nil {
		fmt.Println(err)
		return
	}
	valid, err = c.Fence(ctx, "reports/daily", token)
	fmt.Println("token valid after unlock:", valid, err)

	next, err := client.NewMutex(other, "reports/daily").Lock(ctx)
	fmt.Println("next holder's token is greater:", next > token, err)
	// Output:
	// token valid while held: true <nil>
	// second TryLock refused: true
	// token valid after unlock: false <nil>
	// next holder's token is greater: true <nil>
}

// runAsLeader runs serve only while this process leads election name. serve's
// ctx ends when the session is lost (the cluster may already have elected
// someone else) or when ctx ends; after a loss it campaigns again with a new
// session. It returns when ctx ends or a call fails.
func runAsLeader(ctx context.Context, c *client.Client, name, value string, serve func(ctx context.Context, s *client.Session) error) error {
	for {
		s, err := client.NewSession(ctx, c, client.WithTTL(time.Second))
		if err != nil {
			return err
		}
		e := client.NewElection(s, name)
		if err := e.Campaign(ctx, value); err != nil {
			return errors.Join(err, s.Close())
		}
		sctx, cancel := context.WithCancel(ctx)
		// Exits when the session ends or serve returns.
		go func() {
			select {
			case <-s.Done():
				cancel()
			case <-sctx.Done():
			}
		}()
		err = serve(sctx, s)
		cancel()
		// Resign at once so a standby takes over without waiting for the ttl;
		// after a loss there is nothing to resign and Close reports nothing.
		rerr := e.Resign(context.WithoutCancel(ctx))
		if errors.Is(rerr, client.ErrNotLeader) || s.Err() != nil {
			rerr = nil
		}
		if err := errors.Join(err, rerr, s.Close()); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// A service that must run on one node at a time campaigns, serves while it
// leads, and steps down the moment its session is lost.
func ExampleElection_leaderOnly() {
	endpoint, stopServer := client.StartExampleServer()
	defer stopServer()
	ctx, shutdown := context.WithCancel(context.Background())
	defer shutdown()

	c, err := client.New(client.Config{Endpoints: []string{endpoint}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	round := 0
	err = runAsLeader(ctx, c, "billing-scheduler", "10.0.0.7:8080", func(ctx context.Context, s *client.Session) error {
		round++
		leader, err := c.Leader(ctx, "billing-scheduler")
		if err != nil {
			return err
		}
		fmt.Printf("round %d: leading as %s\n", round, leader.Leader.Value)
		if round == 1 {
			// Simulate losing the lease (a long pause, a partition): the
			// session notices and serve's ctx ends.
			if err := c.Revoke(ctx, s.Lease()); err != nil {
				return err
			}
		} else {
			shutdown() // the process is asked to stop
		}
		<-ctx.Done()
		fmt.Printf("round %d: stepped down\n", round)
		return nil
	})
	fmt.Println("done:", err)
	// Output:
	// round 1: leading as 10.0.0.7:8080
	// round 1: stepped down
	// round 2: leading as 10.0.0.7:8080
	// round 2: stepped down
	// done: context canceled
}
