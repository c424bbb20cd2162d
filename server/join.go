package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/consensus/boltstore"
)

// JoinFileName is the file in the data dir that records how this node
// joined a running cluster: the cluster id and the member directory it was
// given. A node with it starts as a joined member (no initial voters).
const JoinFileName = "join.json"

// joinRecord is the content of JoinFileName.
type joinRecord struct {
	ClusterID string     `json:"cluster_id"`
	Members   []dirEntry `json:"members"`
}

// Join makes the node of cfg a learner of the running cluster at cfg.Join
// when its data dir holds no state yet, and records the result for New;
// with a data dir of a member (a log, a snapshot or a join record) it does
// nothing. Call it before New.
func Join(ctx context.Context, cfg Config, log *zap.Logger) error {
	if len(cfg.Join) == 0 {
		return nil
	}
	if log == nil {
		log = zap.NewNop()
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if _, ok, err := readJoinRecord(cfg.DataDir); err != nil || ok {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, DataDirPerm); err != nil {
		return fmt.Errorf("server: create data dir: %w", err)
	}
	st, err := boltstore.Open(filepath.Join(cfg.DataDir, StoreFileName), boltstore.Options{Logger: log.Named("store")})
	if err != nil {
		return fmt.Errorf("server: data dir %s: %w", cfg.DataDir, err)
	}
	err = join(ctx, cfg, st, log)
	return errors.Join(err, st.Close())
}

func join(ctx context.Context, cfg Config, st *boltstore.Store, log *zap.Logger) error {
	last, err := st.LastIndex()
	if err != nil {
		return fmt.Errorf("server: data dir %s: %w", cfg.DataDir, err)
	}
	if last > 0 {
		log.Info("join skipped: the data dir holds a log", zap.Uint64("last_index", uint64(last)))
		return nil
	}
	// With access control on, adding a member needs admin: every node
	// holds the bootstrap token.
	tlsCfg, err := joinTLS(cfg)
	if err != nil {
		return err
	}
	jc := newJoinCaller(cfg.Join, cfg.BootstrapToken, tlsCfg)
	defer jc.close()
	ctx, cancel := context.WithTimeout(ctx, JoinTimeout)
	defer cancel()
	added, err := jc.addSelf(ctx, cfg)
	if err != nil {
		return fmt.Errorf("server: join %v as %s: %w", cfg.Join, cfg.Name, err)
	}
	// The leader gave this node a fresh raft id (freshNodeID), so nothing
	// it voted under another life counts here. It still starts at the
	// leader's current term having voted for that leader, who already won
	// the term: every older term is closed to it, and its vote changes no
	// outcome.
	hs := consensus.HardState{Term: consensus.Term(added.Term), Vote: consensus.NodeID(added.LeaderID)}
	if err := st.Save(hs, nil); err != nil {
		return fmt.Errorf("server: join: save hard state: %w", err)
	}
	rec := joinRecord{ClusterID: added.ClusterID}
	for _, m := range added.Members {
		rec.Members = append(rec.Members, dirEntry{ID: consensus.NodeID(m.ID), Name: m.Name, PeerURL: m.PeerURL, ClientURL: m.ClientURL})
	}
	if err := writeJoinRecord(cfg.DataDir, rec); err != nil {
		return err
	}
	log.Info("joined as a learner", zap.Uint64("term", added.Term), zap.Int("members", len(added.Members)))
	return nil
}

// writeJoinRecord writes rec to a temp file, fsyncs and renames it.
func writeJoinRecord(dir string, rec joinRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("server: join record: %w", err)
	}
	tmp := filepath.Join(dir, JoinFileName+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("server: join record: %w", err)
	}
	_, werr := f.Write(b)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("server: join record %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, JoinFileName)); err != nil {
		return fmt.Errorf("server: join record: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("server: join record: %w", err)
	}
	return errors.Join(d.Sync(), d.Close())
}

// readJoinRecord reads the join record of data dir dir; ok is false when
// there is none.
func readJoinRecord(dir string) (rec joinRecord, ok bool, err error) {
	path := filepath.Join(dir, JoinFileName)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return rec, false, nil
	}
	if err != nil {
		return rec, false, fmt.Errorf("server: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, JoinFileBytesMax+1))
	if err != nil {
		return rec, false, fmt.Errorf("server: %s: %w", path, err)
	}
	if len(b) > JoinFileBytesMax {
		return rec, false, fmt.Errorf("server: %s is over %d bytes", path, JoinFileBytesMax)
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, false, fmt.Errorf("server: %s: %w", path, err)
	}
	return rec, true, nil
}

// joinedMembers returns the directory of a join record, validated.
func joinedMembers(rec joinRecord, peerScheme string) ([]Member, error) {
	b, err := json.Marshal(dirContext{Members: rec.Members})
	if err != nil {
		return nil, fmt.Errorf("server: join record: %w", err)
	}
	return decodeDirectory(b, peerScheme)
}

// promoteSelf asks the cluster to make this joined learner a voter, again
// until it is one or ctx ends. The leader retries while the learner
// catches up; between two refusals the node waits up to
// SelfPromoteRetryMax.
func (n *Node) promoteSelf(ctx context.Context) {
	// The forwarder's TLS: it reaches the same client URLs, and follows
	// certificate reloads.
	jc := newJoinCaller(n.cfg.Join, n.cfg.BootstrapToken, n.fwdTransport.TLSClientConfig)
	defer jc.close()
	for ctx.Err() == nil {
		if d := n.directory(); !d.isLearner(n.self.ID) && d.membership.IsVoter(n.self.ID) {
			return
		}
		err := jc.promote(ctx, n.self.Name)
		if err == nil {
			n.log.Info("promoted to voter")
			return
		}
		var ae *apiError
		if errors.As(err, &ae) && ae.detail.Code != wire.CodeChangeInProgress {
			n.log.Warn("self promotion refused", zap.Error(err))
		}
		if sleepCtx(ctx, SelfPromoteRetryMax) != nil {
			return
		}
	}
}
