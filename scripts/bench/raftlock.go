package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/raftlock/raftlock/client"
	"github.com/raftlock/raftlock/client/wire"
)

// raftlockCluster lays out a 3-node raftlock cluster of bin (a `raftlock`
// binary, or this program in node mode when extra starts with "node").
func raftlockCluster(bin string, serveArgs []string, dir string, portBase int, extra func(i int) []string) *cluster {
	var members []string
	for i := range nodeCount {
		members = append(members, fmt.Sprintf("n%d=http://127.0.0.1:%d", i+1, portBase+portStride*i+1))
	}
	c := &cluster{}
	for i := range nodeCount {
		clientAddr := fmt.Sprintf("127.0.0.1:%d", portBase+portStride*i)
		args := append([]string{}, serveArgs...)
		args = append(args,
			"--id", fmt.Sprintf("n%d", i+1),
			"--data-dir", filepath.Join(dir, fmt.Sprintf("n%d", i+1)),
			"--client-addr", clientAddr,
			"--peer-addr", fmt.Sprintf("127.0.0.1:%d", portBase+portStride*i+1),
			"--initial-cluster", strings.Join(members, ","),
			"--heartbeat-interval", heartbeatInterval.String(),
			"--election-timeout", electionTimeout.String(),
			"--log-level", "warn")
		if extra != nil {
			args = append(args, extra(i)...)
		}
		c.procs = append(c.procs, &proc{
			name: fmt.Sprintf("raftlock n%d", i+1), bin: bin, args: args,
			logPath:   filepath.Join(dir, fmt.Sprintf("n%d.log", i+1)),
			clientURL: "http://" + clientAddr,
		})
	}
	probe := &http.Client{Timeout: probeTimeout}
	c.ready = func(ctx context.Context, i int) bool {
		return httpOK(ctx, probe, c.procs[i].clientURL+"/readyz")
	}
	c.leader = func(ctx context.Context) (int, error) {
		for i, p := range c.procs {
			if p.pid() != 0 && httpOK(ctx, probe, p.clientURL+"/v1/health/leader") {
				return i, nil
			}
		}
		return 0, errors.New("bench: no raftlock node answers as leader")
	}
	return c
}

// httpOK reports whether GET url answers 200.
func httpOK(ctx context.Context, hc *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body) // Drained only to reuse the connection.
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// raftlockTarget benchmarks raftlock through its SDK (client/), as its
// users would, and through raw HTTP for the cheapest lock round trip.
type raftlockTarget struct {
	c         *cluster
	endpoints []string
	// shared serves the lease workloads; lockers get a Client each.
	shared *client.Client
	raw    *http.Client
}

func newRaftlockTarget(c *cluster) (*raftlockTarget, error) {
	t := &raftlockTarget{c: c}
	for _, p := range c.procs {
		t.endpoints = append(t.endpoints, p.clientURL)
	}
	var err error
	if t.shared, err = client.New(client.Config{Endpoints: t.endpoints}); err != nil {
		return nil, err
	}
	t.raw = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}}
	return t, nil
}

func (t *raftlockTarget) name() string      { return "raftlock" }
func (t *raftlockTarget) cluster() *cluster { return t.c }

func (t *raftlockTarget) close() error {
	t.raw.CloseIdleConnections()
	return t.shared.Close()
}

// locker is one SDK user: its own Client, a Session and a Mutex.
func (t *raftlockTarget) locker(ctx context.Context, lock string) (worker, error) {
	c, err := client.New(client.Config{Endpoints: t.endpoints})
	if err != nil {
		return worker{}, err
	}
	s, err := client.NewSession(ctx, c, client.WithTTL(sessionTTL))
	if err != nil {
		return worker{}, errors.Join(err, c.Close())
	}
	m := client.NewMutex(s, lock)
	op := func(ctx context.Context) error {
		if _, err := m.Lock(ctx); err != nil {
			return err
		}
		return m.Unlock(ctx)
	}
	return worker{op: op, close: func() error { return errors.Join(s.Close(), c.Close()) }}, nil
}

// rawLocker acquires without a lease id (the server creates a lease for the
// lock alone and revokes it on release) and releases: one round trip each,
// sent to the leader as a client that found it would.
func (t *raftlockTarget) rawLocker(ctx context.Context, lock string) (worker, error) {
	li, err := t.c.leader(ctx)
	if err != nil {
		return worker{}, err
	}
	base := t.c.procs[li].clientURL + "/v1/locks/" + lock
	acq, err := json.Marshal(wire.AcquireRequest{TTL: wire.Duration(sessionTTL)})
	if err != nil {
		return worker{}, err
	}
	op := func(ctx context.Context) error {
		var g wire.Acquired
		if err := t.post(ctx, base+"/acquire", acq, &g); err != nil {
			return err
		}
		rel, err := json.Marshal(wire.ReleaseRequest{Token: g.Token})
		if err != nil {
			return err
		}
		return t.post(ctx, base+"/release", rel, nil)
	}
	return worker{op: op, close: func() error { return nil }}, nil
}

// post sends body to url and decodes a 2xx answer into out (when not nil).
func (t *raftlockTarget) post(ctx context.Context, url string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.raw.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, client.ResponseBytesMax))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("bench: POST %s: %s: %s", url, resp.Status, bytes.TrimSpace(data))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

func (t *raftlockTarget) leaseCycler(ctx context.Context) (worker, error) {
	op := func(ctx context.Context) error {
		l, err := t.shared.CreateLease(ctx, cycleLeaseTTL)
		if err != nil {
			return err
		}
		return t.shared.Revoke(ctx, client.LeaseID(l.LeaseID))
	}
	return worker{op: op, close: func() error { return nil }}, nil
}

func (t *raftlockTarget) createLease(ctx context.Context, ttlSeconds int64) (uint64, error) {
	l, err := t.shared.CreateLease(ctx, time.Duration(ttlSeconds)*time.Second)
	return l.LeaseID, err
}

func (t *raftlockTarget) keepaliver(ctx context.Context) (func(ctx context.Context, id uint64) (bool, error), func() error, error) {
	ka := func(ctx context.Context, id uint64) (bool, error) {
		_, err := t.shared.KeepAlive(ctx, client.LeaseID(id))
		if errors.Is(err, client.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	return ka, func() error { return nil }, nil
}

func (t *raftlockTarget) revokeLease(ctx context.Context, id uint64) error {
	err := t.shared.Revoke(ctx, client.LeaseID(id))
	if errors.Is(err, client.ErrNotFound) {
		return nil
	}
	return err
}

func (t *raftlockTarget) holdLock(ctx context.Context, lease uint64, lock string) error {
	_, err := t.shared.Acquire(ctx, lock, client.AcquireOptions{LeaseID: client.LeaseID(lease)})
	return err
}

// lockName is the name of benchmark lock i of a workload.
func lockName(workload string, i int) string {
	return "bench." + workload + "." + strconv.Itoa(i)
}
