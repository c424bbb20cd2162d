package consensus

// FuzzStep proves that no sequence of messages, however malformed or
// adversarial, makes a core panic: Step either handles a message or returns
// an error. Each input drives a follower and an elected leader of a 3-node
// cluster with messages built from the fuzzer's bytes.

import (
	"encoding/binary"
	"testing"
)

func FuzzStep(f *testing.F) {
	f.Add([]byte{byte(MsgApp), 2, 1, 0, 1, 0, 2})
	f.Add([]byte{byte(MsgVote), 3, 5, 9, 1, 0, 0, byte(MsgAppResp), 2, 1, 1, 0, 1, 0})
	f.Add([]byte{byte(MsgHeartbeatResp), 2, 1, 0, 0, 8, 1, byte(MsgReadIndex), 3, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		nw := newCoreNet(t, 3)
		nw.elect(1)
		nw.propose(1, "a")
		for len(data) >= 7 {
			m, rest := fuzzMessage(data)
			data = rest
			for _, to := range []NodeID{1, 2} {
				m.To = to
				_ = nw.nodes[to].Step(m) // an error is a fine answer; a panic is not
				nw.flush()
				nw.queue = nil
			}
			nw.nodes[1].Tick()
			nw.nodes[2].Tick()
			nw.flush()
			nw.queue = nil
		}
	})
}

// fuzzMessage builds one message from the front of data: type, sender, term,
// index, log term, entry count and flags, each from a byte.
func fuzzMessage(data []byte) (Message, []byte) {
	m := Message{
		Type:    MessageType(data[0] % 14),
		From:    NodeID(data[1] % 5),
		Term:    Term(data[2] % 8),
		Index:   Index(data[3] % 16),
		LogTerm: Term(data[4] % 8),
	}
	n := int(data[5] % 4)
	flags := data[6]
	data = data[7:]
	m.Reject = flags&1 != 0
	m.Commit = Index(flags>>1) % 16
	m.RejectHint = Index(flags>>3) % 16
	if flags&0x80 != 0 {
		m.Term = ^Term(0) - Term(flags&3)
	}
	for i := 0; i < n; i++ {
		e := Entry{Index: m.Index + 1 + Index(i), Term: m.LogTerm + Term(i%2)}
		if len(data) > 0 {
			e.Term = Term(data[0] % 8)
			data = data[1:]
		}
		m.Entries = append(m.Entries, e)
	}
	if len(data) >= 8 && flags&0x40 != 0 {
		m.Context = binary.BigEndian.AppendUint64(nil, binary.BigEndian.Uint64(data))
		data = data[8:]
	}
	return m, data
}
