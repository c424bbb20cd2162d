//go:build raftlock_invariants

package consensus

// invariantsEnabled turns on the O(n) re-verification of the log and progress
// after every input (build tag raftlock_invariants: CI and the simulator).
const invariantsEnabled = true
