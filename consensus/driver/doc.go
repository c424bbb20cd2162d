// Package driver runs a Raft core as a live node: one goroutine that ticks the
// core on a wall clock, steps inbound messages, takes proposals and reads, and
// carries out every Ready in the order the core's contract demands: persist (one
// fsynced write through the Store), send (through the Transport), apply (to the
// StateMachine), advance.
//
// It owns proposal futures (resolved at apply time with the state machine's
// result) and linearizable reads (ReadIndex, then wait for the applied index).
// It knows nothing of locks or HTTP: the state machine and the transport are
// interfaces declared here and implemented elsewhere.
package driver
