package lockmodel

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// objectKey names a lock or an election: two separate name spaces.
type objectKey struct {
	election bool
	name     string
}

func keyOf(in Input) objectKey {
	return objectKey{election: in.Kind.isElection(), name: in.Name}
}

// String names the object as the visualization shows it: "lock a".
func (k objectKey) String() string {
	if k.election {
		return "election " + k.name
	}
	return "lock " + k.name
}

func compareKeys(a, b objectKey) int {
	if a.election != b.election {
		if a.election {
			return 1
		}
		return -1
	}
	return strings.Compare(a.name, b.name)
}

// holder is the holder of a held object.
type holder struct {
	// lease is the holding lease; 0 while unknown (a lease created by an
	// acquire of unknown outcome).
	lease LeaseID
	// token is the grant's token (the election's term); 0 while unknown.
	// Invariant: token == 0 or tokenLo == tokenHi == 0.
	token Token
	// tokenLo and tokenHi bound an unknown token: the grant came after every
	// index below tokenLo and before every index above tokenHi.
	tokenLo, tokenHi Token
	owner            string
	value            string
	// ownLease marks a lease created by the grant for this object alone:
	// freeing the object revokes it.
	ownLease bool
}

// object is one lock or election in the model.
type object struct {
	key  objectKey
	held bool
	h    holder // zero unless held
	// newestLo and newestHi bound the newest token ever granted for the
	// object, once it is free (for FenceHolderOrNewer); zero when never held.
	newestLo, newestHi Token
}

// leaseState is what the model knows of one lease: present means created
// (or first seen) and, unless dead, alive.
type leaseState struct {
	id   LeaseID
	dead bool
}

// state is one model state of a partition. A *state is never modified once a
// step returned it: steps clone before they change anything.
type state struct {
	objects []object     // sorted by key; Invariant: keys unique.
	leases  []leaseState // sorted by id; Invariant: ids unique and non-zero.
	// last is the greatest log index the partition observed (grant tokens,
	// lease ids, terms), or a lower bound of it after a grant of unknown token.
	last uint64
}

func (s *state) clone() *state {
	return &state{objects: slices.Clone(s.objects), leases: slices.Clone(s.leases), last: s.last}
}

// object returns the object under key and its position, or a free object
// and -1.
func (s *state) object(key objectKey) (object, int) {
	i, found := slices.BinarySearchFunc(s.objects, key, func(o object, k objectKey) int { return compareKeys(o.key, k) })
	if !found {
		return object{key: key}, -1
	}
	return s.objects[i], i
}

// setObject stores o, inserting it in key order when new.
func (s *state) setObject(o object) {
	i, found := slices.BinarySearchFunc(s.objects, o.key, func(x object, k objectKey) int { return compareKeys(x.key, k) })
	if found {
		s.objects[i] = o
		return
	}
	s.objects = slices.Insert(s.objects, i, o)
}

// lease returns what the state knows of lease id.
func (s *state) lease(id LeaseID) (l leaseState, known bool) {
	i, found := slices.BinarySearchFunc(s.leases, id, func(l leaseState, id LeaseID) int { return cmp.Compare(l.id, id) })
	if !found {
		return leaseState{id: id}, false
	}
	return s.leases[i], true
}

// setLease records lease id as alive or dead.
func (s *state) setLease(id LeaseID, dead bool) {
	assertf(id != 0, "lease id 0 stored")
	i, found := slices.BinarySearchFunc(s.leases, id, func(l leaseState, id LeaseID) int { return cmp.Compare(l.id, id) })
	if found {
		s.leases[i].dead = dead
		return
	}
	s.leases = slices.Insert(s.leases, i, leaseState{id: id, dead: dead})
}

// alive reports whether lease id may be used: alive, or never seen (then the
// caller records it as alive).
func (s *state) mayBeAlive(id LeaseID) bool {
	l, known := s.lease(id)
	return !known || !l.dead
}

// kill ends lease id (revoke or expiry) and frees everything it holds, in one
// step as the lock table does.
func (s *state) kill(id LeaseID) {
	s.setLease(id, true)
	for i := range s.objects {
		if s.objects[i].held && s.objects[i].h.lease == id {
			s.free(i)
		}
	}
}

// free releases the object at position i and ends its own lease.
func (s *state) free(i int) {
	o := &s.objects[i]
	assertf(o.held, "free of %s which is not held", o.key)
	if o.h.ownLease && o.h.lease != 0 {
		s.setLease(o.h.lease, true)
	}
	o.held = false
	o.newestLo, o.newestHi = o.h.token, o.h.token
	if o.h.token == 0 {
		o.newestLo, o.newestHi = o.h.tokenLo, o.h.tokenHi
	}
	o.h = holder{}
}

// observe records a new log index v (a lease id, a token, a term) produced
// by the operation being linearized. Indices grow with the log, so v must
// exceed every index observed before.
func (s *state) observe(v uint64) bool {
	if v <= s.last {
		return false
	}
	for i := range s.objects {
		h := &s.objects[i].h
		if s.objects[i].held && h.token == 0 && Token(v-1) < h.tokenHi {
			h.tokenHi = Token(v - 1)
		}
	}
	s.last = v
	return true
}

// observeUnknown records that the operation being linearized produced an
// index the client never learned, and returns its lower bound.
func (s *state) observeUnknown() Token {
	s.last++
	return Token(s.last)
}

// pinToken checks the holder's token of the object at i against t, fixing an
// unknown token to t when t fits its bounds.
func (s *state) pinToken(i int, t Token) bool {
	h := &s.objects[i].h
	if h.token != 0 {
		return h.token == t
	}
	if t < h.tokenLo || t > h.tokenHi {
		return false
	}
	h.token, h.tokenLo, h.tokenHi = t, 0, 0
	return true
}

// mayMatchToken reports whether the holder's token of o may be t.
func (o object) mayMatchToken(t Token) bool {
	if !o.held {
		return false
	}
	if o.h.token != 0 {
		return o.h.token == t
	}
	return t >= o.h.tokenLo && t <= o.h.tokenHi
}

// surelyMatchesToken reports whether the holder's token of o is known to be t.
func (o object) surelyMatchesToken(t Token) bool {
	return o.held && o.h.token != 0 && o.h.token == t
}

// pinLease checks the holder's lease of the object at i against id, fixing
// an unknown own lease to id.
func (s *state) pinLease(i int, id LeaseID) bool {
	h := &s.objects[i].h
	if h.lease != 0 {
		return h.lease == id
	}
	if !s.mayBeAlive(id) {
		return false
	}
	h.lease = id
	s.setLease(id, false)
	return true
}

// unknownTokenHi is the upper bound of a token nothing observed yet bounds.
const unknownTokenHi = Token(math.MaxUint64)

func (s *state) equal(t *state) bool {
	return s.last == t.last && slices.Equal(s.objects, t.objects) && slices.Equal(s.leases, t.leases)
}

// hash is FNV-1a over the state's fields, written out by hand: the checker
// calls it for every state it caches.
func (s *state) hash() uint64 {
	h := fnvOffset
	h = fnvUint(h, s.last)
	for _, o := range s.objects {
		h = fnvBool(h, o.key.election)
		h = fnvString(h, o.key.name)
		h = fnvBool(h, o.held)
		h = fnvUint(h, uint64(o.h.lease))
		h = fnvUint(h, uint64(o.h.token))
		h = fnvUint(h, uint64(o.h.tokenLo))
		h = fnvUint(h, uint64(o.h.tokenHi))
		h = fnvString(h, o.h.owner)
		h = fnvString(h, o.h.value)
		h = fnvBool(h, o.h.ownLease)
		h = fnvUint(h, uint64(o.newestLo))
		h = fnvUint(h, uint64(o.newestHi))
	}
	for _, l := range s.leases {
		h = fnvUint(h, uint64(l.id))
		h = fnvBool(h, l.dead)
	}
	return h
}

const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

func fnvUint(h, v uint64) uint64 {
	for range 8 {
		h ^= v & 0xff
		h *= fnvPrime
		v >>= 8
	}
	return h
}

func fnvBool(h uint64, b bool) uint64 {
	if b {
		return fnvUint(h, 1)
	}
	return fnvUint(h, 0)
}

func fnvString(h uint64, s string) uint64 {
	h = fnvUint(h, uint64(len(s)))
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// String describes the state for the visualization.
func (s *state) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "last=%d", s.last)
	for _, o := range s.objects {
		fmt.Fprintf(&b, "; %s: ", o.key)
		if !o.held {
			b.WriteString("free")
			continue
		}
		if o.h.token != 0 {
			fmt.Fprintf(&b, "token=%d", o.h.token)
		} else {
			fmt.Fprintf(&b, "token=?[%d,%s]", o.h.tokenLo, tokenBound(o.h.tokenHi))
		}
		fmt.Fprintf(&b, " lease=%s", leaseName(o.h.lease))
		if o.h.ownLease {
			b.WriteString("(own)")
		}
		if o.h.owner != "" {
			fmt.Fprintf(&b, " owner=%q", o.h.owner)
		}
		if o.h.value != "" {
			fmt.Fprintf(&b, " value=%q", o.h.value)
		}
	}
	for _, l := range s.leases {
		if l.dead {
			fmt.Fprintf(&b, "; lease %d gone", l.id)
		} else {
			fmt.Fprintf(&b, "; lease %d alive", l.id)
		}
	}
	return b.String()
}

func tokenBound(t Token) string {
	if t == unknownTokenHi {
		return "inf"
	}
	return fmt.Sprint(uint64(t))
}

func leaseName(id LeaseID) string {
	if id == 0 {
		return "?"
	}
	return fmt.Sprint(uint64(id))
}
