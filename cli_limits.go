package main

import (
	"time"

	"github.com/raftlock/raftlock/client"
)

// Every bound and default of the client subcommands.
//
// # Stopping CMD before anyone else can hold the lock
//
// A Session counts its lease's ttl from the send time S of the last
// acknowledged keepalive: no server can expire the lease before S + ttl,
// because the leader received that keepalive after S and a new leader starts
// every lease over at its own now + ttl. Session.Done closes at
// S + ttl - margin, margin = ttl / client.LossMarginDivisor. From that moment
// `lock` and `elect` send CMD's process group SIGTERM, give it grace, then
// SIGKILL:
//
//	Done closes                  S + ttl - margin
//	SIGTERM to the group         S + ttl - margin + (scheduling, part of killSlack)
//	SIGKILL to the group         S + ttl - margin + grace + (the same)
//	group gone                   S + ttl - margin + grace + killSlack
//	                           = S + ttl          when grace = margin - killSlack
//
// so grace is margin - killSlack, capped at killGraceMax, and a ttl whose
// grace would fall under killGraceMin is refused (lockTTLMin). With the
// default ttl of 15s: margin 1.5s, grace 1.3s.
//
// The arithmetic covers a lease lost because keepalives failed. A lease
// revoked by someone else (DELETE /v1/leases/{id}) frees the lock at once;
// CMD stops when the next keepalive (every ttl / client.KeepAliveDivisor)
// learns of it.
const (
	// killSlack is the time budgeted between Session.Done closing and a
	// SIGKILL taking effect: a late timer, Go scheduling, signal delivery.
	killSlack = 200 * time.Millisecond

	// killGraceMin is the least time CMD gets between SIGTERM and SIGKILL.
	killGraceMin = 100 * time.Millisecond

	// killGraceMax caps the time between SIGTERM and SIGKILL however long
	// the ttl.
	killGraceMax = 10 * time.Second

	// lockTTLMin is the shortest --ttl of `lock` and `elect` with a
	// command: the loss margin must hold killGraceMin and killSlack (3s).
	lockTTLMin = (killGraceMin + killSlack) * client.LossMarginDivisor

	// childWaitDelay bounds how long CMD's output pipes are drained after it
	// exited when they are not files (tests), so a straggler holding them
	// open cannot keep the lock's release waiting.
	childWaitDelay = time.Second

	// groupPollInterval is how often a process group that outlived CMD is
	// checked for being gone during the grace period; no signal announces
	// the end of processes that are not our children.
	groupPollInterval = 10 * time.Millisecond

	// signalBuffer is the capacity of the channel that receives SIGINT,
	// SIGTERM and SIGHUP; signal.Notify drops what does not fit.
	signalBuffer = 4

	// watchRetryMin is the first delay before `leader --watch` reconnects a
	// failed event stream; each failure in a row doubles it up to
	// watchRetryMax.
	watchRetryMin = 100 * time.Millisecond

	// watchRetryMax caps the reconnect delay of `leader --watch`.
	watchRetryMax = 5 * time.Second

	// endpointDefault is the cluster's client URL without --endpoints or
	// RAFTLOCK_ENDPOINTS: the embedded default of `raftlock serve`.
	endpointDefault = "http://127.0.0.1:7070"
)
