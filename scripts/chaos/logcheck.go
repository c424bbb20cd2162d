package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"

	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/consensus/boltstore"
	"github.com/raftlock/raftlock/consensus/snapfile"
	"github.com/raftlock/raftlock/locks"
	"github.com/raftlock/raftlock/server"
)

// nodeLog is what a stopped node's bbolt file holds.
type nodeLog struct {
	name    string
	dataDir string
	// snap is the snapshot the log was compacted to (empty when none).
	snap   consensus.SnapshotMeta
	first  consensus.Index // first entry held (after compaction, > 1)
	commit consensus.Index // the stored commit index
	// entries are first..last.
	entries []consensus.Entry
}

// entry returns the entry at i; false when the log does not hold it.
func (l *nodeLog) entry(i consensus.Index) (consensus.Entry, bool) {
	if i < l.first || i >= l.first+consensus.Index(len(l.entries)) {
		return consensus.Entry{}, false
	}
	return l.entries[i-l.first], true
}

// committed returns the last committed index the log holds.
func (l *nodeLog) committed() consensus.Index {
	return min(l.commit, l.first+consensus.Index(len(l.entries))-1)
}

// readNodeLog reads every entry and the hard state of a node's log; the node
// must have stopped.
func readNodeLog(name, dataDir string) (nodeLog, error) {
	path := filepath.Join(dataDir, server.StoreFileName)
	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		return nodeLog{}, fmt.Errorf("%s: %w", name, err)
	}
	l, err := readStore(name, st)
	l.dataDir = dataDir
	if cerr := st.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("%s: close %s: %w", name, path, cerr)
	}
	return l, err
}

func readStore(name string, st *boltstore.Store) (nodeLog, error) {
	hs, err := st.InitialState()
	if err != nil {
		return nodeLog{}, fmt.Errorf("%s: hard state: %w", name, err)
	}
	first, err := st.FirstIndex()
	if err != nil {
		return nodeLog{}, fmt.Errorf("%s: first index: %w", name, err)
	}
	last, err := st.LastIndex()
	if err != nil {
		return nodeLog{}, fmt.Errorf("%s: last index: %w", name, err)
	}
	snap, err := st.Snapshot()
	if err != nil {
		return nodeLog{}, fmt.Errorf("%s: snapshot: %w", name, err)
	}
	l := nodeLog{name: name, first: first, commit: hs.Commit, snap: snap}
	for lo := first; lo <= last; {
		ents, err := st.Entries(lo, last+1, LogReadBytesMax)
		if err != nil {
			return nodeLog{}, fmt.Errorf("%s: entries [%d, %d]: %w", name, lo, last, err)
		}
		if len(ents) == 0 {
			return nodeLog{}, fmt.Errorf("%s: entries [%d, %d]: none returned", name, lo, last)
		}
		l.entries = append(l.entries, ents...)
		lo += consensus.Index(len(ents))
	}
	return l, nil
}

// checkLogsAgree: every node's committed entries equal every other's at the
// same index, and every node stored a commit index at least the highest any
// node reported while running (no committed entry lost).
func checkLogsAgree(logs []nodeLog, reported consensus.Index) verdict {
	var f finding
	ref := 0
	for i, l := range logs {
		if l.committed() > logs[ref].committed() {
			ref = i
		}
		if l.committed() < reported {
			f.addf("%s: log holds committed entries up to %d (stored commit %d); a node reported commit %d", l.name, l.committed(), l.commit, reported)
		}
	}
	compared := consensus.Index(0)
	for i := range logs {
		if i == ref {
			continue
		}
		n, err := compareCommitted(&logs[ref], &logs[i])
		compared += n
		if err != "" {
			f.addf("%s", err)
		}
	}
	note := ""
	if len(logs) > 0 {
		note = fmt.Sprintf("%d nodes, longest committed prefix %d (%s), %d entries compared", len(logs), logs[ref].committed(), logs[ref].name, compared)
	}
	return f.verdict("logs_agree", note)
}

// compareCommitted compares the committed entries two logs both hold.
func compareCommitted(a, b *nodeLog) (consensus.Index, string) {
	lo, hi := max(a.first, b.first), min(a.committed(), b.committed())
	n := consensus.Index(0)
	for i := lo; i <= hi; i++ {
		ea, _ := a.entry(i)
		eb, _ := b.entry(i)
		n++
		if ea.Term != eb.Term || ea.Type != eb.Type || !bytes.Equal(ea.Data, eb.Data) {
			return n, fmt.Sprintf("committed entry %d differs: %s has term %d type %d (%d bytes), %s has term %d type %d (%d bytes)",
				i, a.name, ea.Term, ea.Type, len(ea.Data), b.name, eb.Term, eb.Type, len(eb.Data))
		}
	}
	return n, ""
}

// replayed is the lock table rebuilt from a committed log, with what each
// entry did.
type replayed struct {
	table *locks.Table
	// from is the first index applied from the log (after the snapshot);
	// fromTime the command time of the first command applied (unix ns).
	from     locks.Index
	fromTime int64
	// byKey is the first entry of each request id and its result.
	byKey map[string]appliedEntry
	// grantsAt[object][token] is the lease a grant at that index went to.
	grantsAt map[string]map[locks.Token]locks.LeaseID
}

// appliedEntry is one applied command.
type appliedEntry struct {
	index locks.Index
	kind  locks.Kind
	code  string // the result's error code, "" for success
	res   locks.Result
}

// replay rebuilds the lock table as a node does at start: from its snapshot
// (when the log was compacted), then the committed entries after it up to
// upTo.
func replay(l *nodeLog, upTo consensus.Index) (*replayed, error) {
	r := &replayed{table: locks.NewTable(), byKey: make(map[string]appliedEntry), grantsAt: make(map[string]map[locks.Token]locks.LeaseID)}
	start := consensus.Index(1)
	if !l.snap.IsEmpty() {
		if upTo < l.snap.Index {
			return nil, fmt.Errorf("%s: snapshot at %d is past index %d", l.name, l.snap.Index, upTo)
		}
		if err := restoreSnapshot(r.table, l); err != nil {
			return nil, err
		}
		start = l.snap.Index + 1
	}
	if start < l.first {
		return nil, fmt.Errorf("%s: log starts at %d, snapshot at %d: entries missing", l.name, l.first, l.snap.Index)
	}
	r.from = locks.Index(start)
	for i := start; i <= min(upTo, l.committed()); i++ {
		e, _ := l.entry(i)
		if e.Type != consensus.EntryNormal {
			continue
		}
		res := r.table.Apply(locks.Index(i), e.Data)
		r.note(locks.Index(i), e.Data, res)
	}
	return r, nil
}

// restoreSnapshot loads l's snapshot into t.
func restoreSnapshot(t *locks.Table, l *nodeLog) error {
	dir, err := snapfile.Open(filepath.Join(l.dataDir, server.SnapshotDirName), nil)
	if err != nil {
		return fmt.Errorf("%s: %w", l.name, err)
	}
	p, err := dir.Load(l.snap)
	if err != nil {
		return fmt.Errorf("%s: snapshot at %d: %w", l.name, l.snap.Index, err)
	}
	rerr := t.Restore(p)
	if err := p.Close(); err != nil {
		return fmt.Errorf("%s: snapshot at %d: %w", l.name, l.snap.Index, err)
	}
	if rerr != nil {
		return fmt.Errorf("%s: restore snapshot at %d: %w", l.name, l.snap.Index, rerr)
	}
	return nil
}

// note records what the entry at index did.
func (r *replayed) note(index locks.Index, data []byte, res locks.Result) {
	for _, ch := range r.table.Changes() {
		var info locks.LockInfo
		var obj string
		switch ch.Kind {
		case locks.ObjectLock:
			info, obj = r.table.Lock(ch.Name), "lock "+ch.Name
		case locks.ObjectElection:
			info, obj = r.table.Election(ch.Name), "election "+ch.Name
		default:
			continue
		}
		if info.Held && info.Holder.Token == locks.Token(index) {
			if r.grantsAt[obj] == nil {
				r.grantsAt[obj] = make(map[locks.Token]locks.LeaseID)
			}
			r.grantsAt[obj][locks.Token(index)] = info.Holder.LeaseID
		}
	}
	cmd, err := locks.DecodeCommand(data)
	if err != nil {
		return
	}
	if r.fromTime == 0 {
		r.fromTime = cmd.Time
	}
	if cmd.RequestID == "" {
		return
	}
	if _, ok := r.byKey[cmd.RequestID]; ok {
		return
	}
	code := ""
	if res.Err != nil {
		code = locks.Code(res.Err)
	}
	r.byKey[cmd.RequestID] = appliedEntry{index: index, kind: cmd.Kind, code: code, res: res}
}

// stateHash is the SHA-256 of the table's snapshot.
func stateHash(t *locks.Table) (string, error) {
	var b bytes.Buffer
	if err := t.Snapshot(&b); err != nil {
		return "", fmt.Errorf("snapshot: %w", err)
	}
	sum := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(sum[:8]), nil
}

// checkAppliedState replays every node's log up to the lowest commit of all
// and compares the lock tables' snapshots: the applied state of every node
// is identical at the same index.
func checkAppliedState(logs []nodeLog) verdict {
	var f finding
	if len(logs) == 0 {
		return f.verdict("applied_state", "no logs")
	}
	upTo := logs[0].committed()
	for _, l := range logs {
		upTo = min(upTo, l.committed())
	}
	ref, refName, replayed, skipped := "", "", 0, 0
	for i := range logs {
		if logs[i].snap.Index > upTo {
			skipped++ // its snapshot is past the common index: no way back
			continue
		}
		r, err := replay(&logs[i], upTo)
		if err != nil {
			f.addf("%v", err)
			continue
		}
		h, err := stateHash(r.table)
		if err != nil {
			f.addf("%s: %v", logs[i].name, err)
			continue
		}
		replayed++
		if ref == "" {
			ref, refName = h, logs[i].name
		}
		if h != ref {
			f.addf("lock table of %s at index %d has hash %s; %s has %s", logs[i].name, upTo, h, refName, ref)
		}
	}
	if replayed < 2 && len(logs) > 1 {
		f.addf("only %d of %d lock tables could be rebuilt at index %d", replayed, len(logs), upTo)
	}
	return f.verdict("applied_state", fmt.Sprintf("%d tables replayed to index %d (%d skipped: snapshot past it), hash %s", replayed, upTo, skipped, ref))
}
