package server

import "time"

// The bounds of access control on the server side; the table's own (tokens,
// rules, names) are in locks/limits.go. They live beside acl.go rather than
// in limits.go so access control stays one room.
const (
	// ACLSecretBytesMax is the longest secret the server hashes from an
	// Authorization header; a longer one is refused unread.
	ACLSecretBytesMax = 256

	// BootstrapTokenBytesMin is the shortest bootstrap secret a node
	// accepts: 16 bytes, so a guessable one is refused at start.
	BootstrapTokenBytesMin = 16

	// ACLSecretRandomBytes is how many random bytes a generated secret
	// carries (256 bits); it travels hex-encoded.
	ACLSecretRandomBytes = 32

	// ACLRecheckInterval is how often an event stream or a blocking read
	// checks that its token still exists and has not expired; it ends
	// within this much of the token's deletion or expiry.
	ACLRecheckInterval = time.Second
)
