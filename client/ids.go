package client

// LeaseID identifies a lease: the log index of the entry that created it.
type LeaseID uint64

// Token is a fencing token: the log index of the entry that granted a lock.
// Tokens of one lock strictly increase. An election's term is the token of
// its leader's grant.
type Token uint64
