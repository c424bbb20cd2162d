package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"
)

// etcdCluster lays out a 3-member etcd cluster of bin with the same
// heartbeat and election timeout as raftlock's, and fsync on (etcd's
// default; --unsafe-no-fsync stays off).
func etcdCluster(bin, dir string, portBase int) *cluster {
	var members []string
	for i := range nodeCount {
		members = append(members, fmt.Sprintf("e%d=http://127.0.0.1:%d", i+1, portBase+portStride*i+1))
	}
	c := &cluster{}
	for i := range nodeCount {
		clientURL := fmt.Sprintf("http://127.0.0.1:%d", portBase+portStride*i)
		peerURL := fmt.Sprintf("http://127.0.0.1:%d", portBase+portStride*i+1)
		args := []string{
			"--name", fmt.Sprintf("e%d", i+1),
			"--data-dir", filepath.Join(dir, fmt.Sprintf("e%d", i+1)),
			"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
			"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
			"--initial-cluster", strings.Join(members, ","),
			"--initial-cluster-state", "new", "--initial-cluster-token", "raftlock-bench",
			"--heartbeat-interval", fmt.Sprint(heartbeatInterval.Milliseconds()),
			"--election-timeout", fmt.Sprint(electionTimeout.Milliseconds()),
			"--logger", "zap", "--log-level", "info",
		}
		c.procs = append(c.procs, &proc{
			name: fmt.Sprintf("etcd e%d", i+1), bin: bin, args: args,
			logPath:   filepath.Join(dir, fmt.Sprintf("e%d.log", i+1)),
			clientURL: clientURL,
		})
	}
	probe := &http.Client{Timeout: probeTimeout}
	c.ready = func(ctx context.Context, i int) bool {
		return httpOK(ctx, probe, c.procs[i].clientURL+"/health")
	}
	return c
}

// etcdTarget benchmarks etcd through its Go client's concurrency package
// (Session, Mutex) and lease API, as its users would.
type etcdTarget struct {
	c         *cluster
	endpoints []string
	shared    *clientv3.Client
	leaseKA   pb.LeaseClient
}

func newEtcdTarget(c *cluster) (*etcdTarget, error) {
	t := &etcdTarget{c: c}
	for _, p := range c.procs {
		t.endpoints = append(t.endpoints, p.clientURL)
	}
	var err error
	if t.shared, err = t.newClient(); err != nil {
		return nil, err
	}
	t.leaseKA = pb.NewLeaseClient(t.shared.ActiveConnection())
	c.leader = t.leader
	return t, nil
}

func (t *etcdTarget) newClient() (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: t.endpoints, DialTimeout: dialTimeout, Logger: zap.NewNop()})
}

// leader asks each running member for its status and returns the one that
// names itself leader.
func (t *etcdTarget) leader(ctx context.Context) (int, error) {
	for i, p := range t.c.procs {
		if p.pid() == 0 {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, probeTimeout)
		st, err := t.shared.Status(sctx, p.clientURL)
		cancel()
		if err == nil && st.Header != nil && st.Leader != 0 && st.Header.MemberId == st.Leader {
			return i, nil
		}
	}
	return 0, errors.New("bench: no etcd member answers as leader")
}

func (t *etcdTarget) name() string      { return "etcd" }
func (t *etcdTarget) cluster() *cluster { return t.c }
func (t *etcdTarget) close() error      { return t.shared.Close() }

// locker is one etcd user: its own client, a concurrency.Session and Mutex.
func (t *etcdTarget) locker(ctx context.Context, lock string) (worker, error) {
	cli, err := t.newClient()
	if err != nil {
		return worker{}, err
	}
	s, err := concurrency.NewSession(cli, concurrency.WithTTL(int(sessionTTL.Seconds())), concurrency.WithContext(context.Background()))
	if err != nil {
		return worker{}, errors.Join(err, cli.Close())
	}
	m := concurrency.NewMutex(s, "/"+lock)
	op := func(ctx context.Context) error {
		if err := m.Lock(ctx); err != nil {
			return err
		}
		return m.Unlock(ctx)
	}
	return worker{op: op, close: func() error { return errors.Join(s.Close(), cli.Close()) }}, nil
}

func (t *etcdTarget) rawLocker(context.Context, string) (worker, error) {
	return worker{}, errUnsupported
}

func (t *etcdTarget) leaseCycler(ctx context.Context) (worker, error) {
	op := func(ctx context.Context) error {
		l, err := t.shared.Grant(ctx, int64(cycleLeaseTTL.Seconds()))
		if err != nil {
			return err
		}
		_, err = t.shared.Revoke(ctx, l.ID)
		return err
	}
	return worker{op: op, close: func() error { return nil }}, nil
}

func (t *etcdTarget) createLease(ctx context.Context, ttlSeconds int64) (uint64, error) {
	l, err := t.shared.Grant(ctx, ttlSeconds)
	if err != nil {
		return 0, err
	}
	return uint64(l.ID), nil
}

// keepaliver renews over one LeaseKeepAlive stream of its own, the wire
// exchange clientv3's KeepAlive performs, one request and its answer at a
// time; a TTL <= 0 in the answer means the lease is gone.
func (t *etcdTarget) keepaliver(ctx context.Context) (func(ctx context.Context, id uint64) (bool, error), func() error, error) {
	sctx, cancel := context.WithCancel(context.Background())
	stream, err := t.leaseKA.LeaseKeepAlive(sctx)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	ka := func(ctx context.Context, id uint64) (bool, error) {
		if err := stream.Send(&pb.LeaseKeepAliveRequest{ID: int64(id)}); err != nil {
			return false, err
		}
		resp, err := stream.Recv()
		if err != nil {
			return false, err
		}
		return resp.TTL > 0, nil
	}
	closeFn := func() error {
		err := stream.CloseSend()
		cancel()
		return err
	}
	return ka, closeFn, nil
}

func (t *etcdTarget) revokeLease(ctx context.Context, id uint64) error {
	_, err := t.shared.Revoke(ctx, clientv3.LeaseID(id))
	if err != nil && strings.Contains(err.Error(), "requested lease not found") {
		return nil
	}
	return err
}

// holdLock stores the lock's key under lease, which is what holding a
// concurrency.Mutex amounts to on the server.
func (t *etcdTarget) holdLock(ctx context.Context, lease uint64, lock string) error {
	_, err := t.shared.Put(ctx, "/"+lock+"/"+fmt.Sprintf("%x", lease), "", clientv3.WithLease(clientv3.LeaseID(lease)))
	return err
}
