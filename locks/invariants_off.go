//go:build !raftlock_invariants

package locks

// invariantsEnabled is off without the raftlock_invariants build tag.
const invariantsEnabled = false
