package transport

import (
	"errors"
	"fmt"

	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/raftlock/raftlock/consensus"
)

// ErrMalformed is wrapped by every refusal of a body's bytes: not msgpack, not
// the shape of a batch, or past a bound. The handler answers it with 400.
var ErrMalformed = errors.New("transport: malformed batch")

// newHandle returns the msgpack handle of the wire format. A handle is safe for
// concurrent use once configured; each Transport owns one.
func newHandle() *codec.MsgpackHandle {
	h := &codec.MsgpackHandle{}
	// Byte slices travel as msgpack bin, not as raw strings.
	h.WriteExt = true
	h.MaxDepth = DecodeDepthMax
	// The decoder provisions a container's declared length up to MaxInitLen
	// at once, then grows it chunk by chunk, copying it every time (quadratic
	// for a large bin). scanBatch has already checked every declared length
	// against the bytes present and the entry and message counts against
	// their bounds, so provisioning up to the body size costs at most what
	// those bounds allow.
	h.MaxInitLen = BodyBytesMax
	return h
}

// encodeBatch appends the msgpack encoding of msgs to buf.
func encodeBatch(h *codec.MsgpackHandle, buf []byte, msgs []consensus.Message) ([]byte, error) {
	if err := codec.NewEncoderBytes(&buf, h).Encode(msgs); err != nil {
		return nil, fmt.Errorf("transport: encode %d messages: %w", len(msgs), err)
	}
	return buf, nil
}

// decodeBatch decodes a request body. It first scans the bytes (scanBatch) so
// that no count the sender declares can make the decoder allocate beyond what
// the bounds allow, then decodes. It never panics; every error wraps
// ErrMalformed. It does not check addressing (see validateBatch).
func decodeBatch(h *codec.MsgpackHandle, body []byte) ([]consensus.Message, error) {
	if err := scanBatch(body); err != nil {
		return nil, err
	}
	var msgs []consensus.Message
	if err := codec.NewDecoderBytes(body, h).Decode(&msgs); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("%w: empty batch", ErrMalformed)
	}
	return msgs, nil
}

// messageSizeBytes estimates m's encoded size for batching.
func messageSizeBytes(m *consensus.Message) uint64 {
	n := uint64(messageOverheadBytes + len(m.Context))
	for i := range m.Entries {
		n += m.Entries[i].Size()
	}
	return n
}
