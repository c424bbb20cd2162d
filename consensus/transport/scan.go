package transport

import (
	"encoding/binary"
	"fmt"
)

// scanBatch walks a body's msgpack bytes without allocating and checks the
// shape a batch must have before the codec decodes it: one array of 1 to
// BatchMessagesMax maps (the messages), at most BatchEntriesMax elements in
// all the arrays directly inside those maps (the entries; no other message
// field is an array), nesting at most DecodeDepthMax deep, every declared
// length within the bytes present, and nothing after the array. Counting every
// array of a message, whatever its key, keeps the bound true however the keys
// are spelled.
func scanBatch(b []byte) error {
	s := scanner{b: b}
	isMap, n, err := s.container()
	if err != nil {
		return err
	}
	if isMap {
		return fmt.Errorf("%w: batch is a map, want an array", ErrMalformed)
	}
	if n == 0 {
		return fmt.Errorf("%w: empty batch", ErrMalformed)
	}
	if n > BatchMessagesMax {
		return fmt.Errorf("%w: batch has %d messages, max %d", ErrMalformed, n, BatchMessagesMax)
	}
	entries := 0
	for i := 0; i < n; i++ {
		got, err := s.message(i)
		if err != nil {
			return err
		}
		entries += got
		if entries > BatchEntriesMax {
			return fmt.Errorf("%w: batch has at least %d entries, max %d", ErrMalformed, entries, BatchEntriesMax)
		}
	}
	if s.off != len(b) {
		return fmt.Errorf("%w: %d bytes after the batch", ErrMalformed, len(b)-s.off)
	}
	return nil
}

// scanMessage checks the bytes of one message (the MsgSnap that opens a
// snapshot stream) as scanBatch checks a batch: one map, nesting at most
// DecodeDepthMax deep, every declared length within the bytes present, and
// nothing after it. Without it a few bytes declaring a map of a billion
// pairs under an unknown key make the decoder provision that map at once.
func scanMessage(b []byte) error {
	s := scanner{b: b}
	if _, err := s.message(0); err != nil {
		return err
	}
	if s.off != len(b) {
		return fmt.Errorf("%w: %d bytes after the message", ErrMalformed, len(b)-s.off)
	}
	return nil
}

// scanner reads msgpack headers from b.
type scanner struct {
	b []byte
	// Invariant: off <= len(b).
	off int
}

// message scans message i, a map, and returns the elements of the arrays
// directly inside it.
func (s *scanner) message(i int) (entries int, err error) {
	isMap, pairs, err := s.container()
	if err != nil {
		return 0, err
	}
	if !isMap {
		return 0, fmt.Errorf("%w: message %d is not a map", ErrMalformed, i)
	}
	for p := 0; p < pairs; p++ {
		if err := s.skip(2); err != nil { // the key
			return 0, err
		}
		if s.off < len(s.b) && isArrayHead(s.b[s.off]) {
			_, n, err := s.peekContainer()
			if err != nil {
				return 0, err
			}
			entries += n
		}
		if err := s.skip(2); err != nil { // the value
			return 0, err
		}
	}
	return entries, nil
}

func isArrayHead(c byte) bool { return c&0xf0 == 0x90 || c == 0xdc || c == 0xdd }

// peekContainer is container without consuming anything.
func (s *scanner) peekContainer() (isMap bool, n int, err error) {
	off := s.off
	isMap, n, err = s.container()
	s.off = off
	return isMap, n, err
}

// container reads an array or map header and returns its element count (pairs
// for a map). The count is checked against the bytes left: every element takes
// at least one byte.
func (s *scanner) container() (isMap bool, n int, err error) {
	c, err := s.byte()
	if err != nil {
		return false, 0, err
	}
	switch {
	case c&0xf0 == 0x90:
		n = int(c & 0x0f)
	case c&0xf0 == 0x80:
		isMap, n = true, int(c&0x0f)
	case c == 0xdc || c == 0xde:
		isMap = c == 0xde
		n, err = s.uint(2)
	case c == 0xdd || c == 0xdf:
		isMap = c == 0xdf
		n, err = s.uint(4)
	default:
		return false, 0, fmt.Errorf("%w: byte %d: want an array or map, got type 0x%02x", ErrMalformed, s.off-1, c)
	}
	if err != nil {
		return false, 0, err
	}
	per := 1
	if isMap {
		per = 2
	}
	if left := len(s.b) - s.off; n > left/per {
		return false, 0, fmt.Errorf("%w: byte %d: %d elements declared, %d bytes left", ErrMalformed, s.off, n, left)
	}
	return isMap, n, nil
}

// skip consumes one value of any type, nested at most DecodeDepthMax-depth
// levels below the current one.
func (s *scanner) skip(depth int) error {
	if depth > DecodeDepthMax {
		return fmt.Errorf("%w: byte %d: nested deeper than %d, max %d", ErrMalformed, s.off, depth-1, DecodeDepthMax)
	}
	if s.off >= len(s.b) {
		return fmt.Errorf("%w: truncated at byte %d", ErrMalformed, s.off)
	}
	c := s.b[s.off]
	if c&0xf0 == 0x80 || c&0xf0 == 0x90 || (c >= 0xdc && c <= 0xdf) {
		isMap, n, err := s.container()
		if err != nil {
			return err
		}
		if isMap {
			n *= 2
		}
		for i := 0; i < n; i++ {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
		}
		return nil
	}
	s.off++
	n, err := s.scalarBytes(c)
	if err != nil {
		return err
	}
	return s.advance(n)
}

// scalarBytes returns how many bytes follow the type byte c of a scalar,
// reading its length field when it has one.
func (s *scanner) scalarBytes(c byte) (int, error) {
	switch {
	case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		return 0, nil // fixint, nil, bool
	case c&0xe0 == 0xa0:
		return int(c & 0x1f), nil // fixstr
	}
	switch c {
	case 0xcc, 0xd0:
		return 1, nil
	case 0xcd, 0xd1, 0xd4:
		return 2, nil // fixext1 is type + 1 byte
	case 0xd5:
		return 3, nil
	case 0xca, 0xce, 0xd2:
		return 4, nil
	case 0xd6:
		return 5, nil
	case 0xcb, 0xcf, 0xd3:
		return 8, nil
	case 0xd7:
		return 9, nil
	case 0xd8:
		return 17, nil
	case 0xc4, 0xd9: // bin8, str8
		return s.uint(1)
	case 0xc5, 0xda:
		return s.uint(2)
	case 0xc6, 0xdb:
		return s.uint(4)
	case 0xc7, 0xc8, 0xc9: // ext: length, then a type byte
		n, err := s.uint(1 << (c - 0xc7))
		return n + 1, err
	}
	return 0, fmt.Errorf("%w: byte %d: unknown type 0x%02x", ErrMalformed, s.off-1, c)
}

func (s *scanner) byte() (byte, error) {
	if s.off >= len(s.b) {
		return 0, fmt.Errorf("%w: truncated at byte %d", ErrMalformed, s.off)
	}
	c := s.b[s.off]
	s.off++
	return c, nil
}

// uint reads a big-endian unsigned length of size 1, 2 or 4 bytes.
func (s *scanner) uint(size int) (int, error) {
	if len(s.b)-s.off < size {
		return 0, fmt.Errorf("%w: truncated at byte %d", ErrMalformed, s.off)
	}
	var v uint64
	switch size {
	case 1:
		v = uint64(s.b[s.off])
	case 2:
		v = uint64(binary.BigEndian.Uint16(s.b[s.off:]))
	default:
		assertf(size == 4, "length field of %d bytes", size)
		v = uint64(binary.BigEndian.Uint32(s.b[s.off:]))
	}
	s.off += size
	// A length past the bytes present is refused by advance or container;
	// clamp here so int stays meaningful on 32-bit platforms.
	if v > uint64(len(s.b)) {
		v = uint64(len(s.b)) + 1
	}
	return int(v), nil
}

func (s *scanner) advance(n int) error {
	if n > len(s.b)-s.off {
		return fmt.Errorf("%w: byte %d: %d bytes declared, %d left", ErrMalformed, s.off, n, len(s.b)-s.off)
	}
	s.off += n
	return nil
}
