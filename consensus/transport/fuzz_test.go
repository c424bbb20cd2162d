// FuzzDecodeMessages feeds the batch decoder arbitrary bytes (seeds in
// testdata/fuzz/FuzzDecodeMessages) and proves that it never panics, never
// returns more messages or entries than the bounds allow, and that whatever it
// accepts survives an encode/decode round trip unchanged.
package transport

import (
	"errors"
	"reflect"
	"testing"

	"github.com/raftlock/raftlock/consensus"
)

func FuzzDecodeMessages(f *testing.F) {
	h := newHandle()
	for _, msgs := range [][]consensus.Message{
		{app(2, 1, 5, 2, 10)},
		{{Type: consensus.MsgHeartbeat, From: 2, To: 1, Term: 9, Commit: 4, Context: []byte("ctx")}},
		{{Type: consensus.MsgVote, From: 3, To: 1, Term: 2, LogTerm: 1, Index: 8}, {Type: consensus.MsgAppResp, From: 3, To: 1, Reject: true, RejectHint: 3}},
	} {
		b, err := encodeBatch(h, nil, msgs)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msgs, err := decodeBatch(h, body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("decodeBatch(%x) = %v; want an error wrapping ErrMalformed", body, err)
			}
			return
		}
		entries := 0
		for i := range msgs {
			entries += len(msgs[i].Entries)
		}
		if len(msgs) == 0 || len(msgs) > BatchMessagesMax || entries > BatchEntriesMax {
			t.Fatalf("decodeBatch(%x) = %d messages, %d entries; want 1..%d, at most %d", body, len(msgs), entries, BatchMessagesMax, BatchEntriesMax)
		}
		again, err := encodeBatch(h, nil, msgs)
		if err != nil {
			t.Fatalf("encodeBatch(decoded %x) = %v; want nil", body, err)
		}
		back, err := decodeBatch(h, again)
		if err != nil {
			t.Fatalf("decodeBatch(re-encoded %x) = %v; want nil", body, err)
		}
		if !reflect.DeepEqual(normalize(back), normalize(msgs)) {
			t.Fatalf("round trip of %x changed %+v into %+v", body, msgs, back)
		}
	})
}

// normalize makes empty and nil slices equal: msgpack does not tell them apart.
func normalize(msgs []consensus.Message) []consensus.Message {
	out := make([]consensus.Message, len(msgs))
	for i, m := range msgs {
		if len(m.Context) == 0 {
			m.Context = nil
		}
		if len(m.Entries) == 0 {
			m.Entries = nil
		}
		ents := make([]consensus.Entry, len(m.Entries))
		for j, e := range m.Entries {
			if len(e.Data) == 0 {
				e.Data = nil
			}
			ents[j] = e
		}
		if m.Entries != nil {
			m.Entries = ents
		}
		out[i] = m
	}
	return out
}
