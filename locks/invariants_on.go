//go:build raftlock_invariants

package locks

// invariantsEnabled turns on the O(n) re-verification of the whole table
// after every Apply (build tag raftlock_invariants).
const invariantsEnabled = true
