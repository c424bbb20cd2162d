package server

import "bytes"

// TableSnapshot returns the lock table's snapshot bytes on node n (nil when n
// runs another state machine). The encoding is deterministic, so two nodes
// with equal tables give equal bytes.
func TableSnapshot(n *Node) []byte {
	if n.fsm == nil {
		return nil
	}
	var buf bytes.Buffer
	n.fsm.mu.Lock()
	defer n.fsm.mu.Unlock()
	if err := n.fsm.table.Snapshot(&buf); err != nil {
		return nil
	}
	return buf.Bytes()
}
