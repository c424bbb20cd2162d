package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/raftlock/raftlock/consensus"
)

// peer is the sending side for one peer: a bounded queue and the goroutine
// that drains it. Batches go out one at a time, each taking everything queued
// while the previous was in flight. Pipelining several requests over the
// HTTP/2 connection would let the receiver's handlers run concurrently and
// hand the node MsgApps out of order, which turns into rejections and
// re-probing; one in-flight batch keeps order, and under load the batch grows
// to whatever queued during one round trip, so throughput scales with load
// instead of paying one round trip per message.
type peer struct {
	t   *Transport
	id  consensus.NodeID
	log *zap.Logger
	// ctx is cancelled by stop; it bounds every request to this peer.
	ctx    context.Context
	cancel context.CancelFunc
	// wake holds a token when the queue may be non-empty.
	wake chan struct{}
	done chan struct{}

	sentMsgs    atomic.Uint64
	sentBatches atomic.Uint64
	sentBytes   atomic.Uint64
	dropped     atomic.Uint64
	failures    atomic.Uint64
	sentSnaps   atomic.Uint64
	// snapWG counts the snapshot stream goroutine (at most one).
	snapWG sync.WaitGroup

	mu       sync.Mutex
	endpoint string
	// Invariant: len(queue) <= QueueMessagesMax.
	queue []consensus.Message
	// failing is true during reconnect backoff: enqueue drops at once.
	failing bool
	// snapBusy is true while a snapshot stream runs; stopped once stop began.
	snapBusy bool
	stopped  bool
}

func newPeer(t *Transport, id consensus.NodeID, endpoint string) *peer {
	ctx, cancel := context.WithCancel(t.ctx)
	return &peer{
		t:        t,
		id:       id,
		log:      t.log.With(zap.Uint64("peer", uint64(id))),
		ctx:      ctx,
		cancel:   cancel,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		endpoint: endpoint,
	}
}

// enqueue queues m and reports whether it did; false means m was dropped.
func (p *peer) enqueue(m consensus.Message) bool {
	p.mu.Lock()
	ok := !p.failing && len(p.queue) < QueueMessagesMax
	if ok {
		p.queue = append(p.queue, m)
	}
	p.mu.Unlock()
	if !ok {
		p.dropped.Add(1)
		return false
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return true
}

// take removes and returns everything queued.
func (p *peer) take() []consensus.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := p.queue
	p.queue = nil
	return q
}

func (p *peer) setEndpoint(endpoint string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endpoint = endpoint
}

// setFailing enters or leaves backoff. Entering drops what is queued: it was
// meant for a connection that failed, and the core is told to probe again.
func (p *peer) setFailing(failing bool) {
	p.mu.Lock()
	p.failing = failing
	var dropped int
	if failing {
		dropped = len(p.queue)
		p.queue = nil
	}
	p.mu.Unlock()
	p.dropped.Add(uint64(dropped))
}

func (p *peer) stats() PeerStats {
	p.mu.Lock()
	depth, failing := len(p.queue), p.failing
	p.mu.Unlock()
	return PeerStats{
		ID:              p.id,
		QueueDepth:      depth,
		SentMessages:    p.sentMsgs.Load(),
		SentBatches:     p.sentBatches.Load(),
		SentBytes:       p.sentBytes.Load(),
		DroppedMessages: p.dropped.Load(),
		Failures:        p.failures.Load(),
		SentSnapshots:   p.sentSnaps.Load(),
		Failing:         failing,
	}
}

// stop cancels the peer's requests and waits for its goroutines.
func (p *peer) stop() {
	p.cancel()
	// No stream starts after this, so Wait below sees every one that did.
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	<-p.done
	p.snapWG.Wait()
}

// run drains the queue until stop. It is the only goroutine that sends to
// this peer, so batches leave in queue order.
func (p *peer) run() {
	defer close(p.done)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(p.id)))
	consecutive := 0
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-p.wake:
		}
		for msgs := p.take(); len(msgs) > 0; msgs = p.take() {
			err := p.sendAll(msgs)
			if err == nil {
				if consecutive > 0 {
					p.log.Info("peer reachable again", zap.Int("failures", consecutive))
				}
				consecutive = 0
				continue
			}
			if p.ctx.Err() != nil {
				return
			}
			consecutive++
			p.fail(err, consecutive)
			if !p.backoff(rng, consecutive) {
				return
			}
			break
		}
	}
}

// sendAll splits msgs into batches within the bounds and POSTs them in order.
// On the first failed request it drops the rest and returns the error.
func (p *peer) sendAll(msgs []consensus.Message) error {
	for len(msgs) > 0 {
		n, size := batchLen(msgs)
		batch := msgs[:n]
		msgs = msgs[n:]
		// Sized up front: growing a multi-megabyte buffer by appends costs
		// more than the encoding.
		body, err := encodeBatch(p.t.handle, make([]byte, 0, int(size+size/8)), batch)
		if err == nil && len(body) > BodyBytesMax {
			err = fmt.Errorf("transport: batch of %d messages is %d bytes, max %d", n, len(body), BodyBytesMax)
		}
		if err != nil {
			// The core made a message past the bounds: a bug, not a fault of the peer.
			p.dropped.Add(uint64(n))
			p.log.Error("batch dropped", zap.Int("messages", n), zap.Error(err))
			continue
		}
		if err := p.post(body, n); err != nil {
			p.dropped.Add(uint64(n + len(msgs)))
			return err
		}
		p.sentMsgs.Add(uint64(n))
		p.sentBatches.Add(1)
		p.sentBytes.Add(uint64(len(body)))
		p.log.Debug("batch sent", zap.Int("messages", n), zap.Int("bytes", len(body)))
	}
	return nil
}

// batchLen returns how many messages from the front of msgs make one batch,
// and their estimated size: at least one message, then as many as keep the
// estimated bytes within BatchBytesMax, the messages within BatchMessagesMax
// and the entries within BatchEntriesMax.
func batchLen(msgs []consensus.Message) (n int, sizeBytes uint64) {
	sizeBytes = messageSizeBytes(&msgs[0])
	entries := len(msgs[0].Entries)
	for n = 1; n < len(msgs) && n < BatchMessagesMax; n++ {
		size := messageSizeBytes(&msgs[n])
		entries += len(msgs[n].Entries)
		if sizeBytes+size > BatchBytesMax || entries > BatchEntriesMax {
			break
		}
		sizeBytes += size
	}
	return n, sizeBytes
}

// post sends one encoded batch of n messages and waits for the peer's answer.
func (p *peer) post(body []byte, n int) error {
	ctx, cancel := context.WithTimeout(p.ctx, RequestTimeout)
	defer cancel()
	p.mu.Lock()
	endpoint := p.endpoint
	p.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("transport: request to %s: %w", endpoint, err)
	}
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set(HeaderClusterID, p.t.opts.ClusterID)
	req.Header.Set(HeaderFrom, strconv.FormatUint(uint64(p.t.opts.ID), 10))
	req.Header.Set(HeaderTo, strconv.FormatUint(uint64(p.id), 10))
	resp, err := p.t.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(io.LimitReader(resp.Body, ErrorBodyBytesMax))
	if err != nil {
		return fmt.Errorf("transport: read answer to %d messages: %w", n, err)
	}
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("%w: status %d: %s", ErrRejected, resp.StatusCode, bytes.TrimSpace(text))
	}
	return nil
}

// fail records a failed request: counters, the hooks, and a warning on the
// first failure and every FailureLogEvery after it.
func (p *peer) fail(err error, consecutive int) {
	p.failures.Add(1)
	p.setFailing(true)
	if p.t.opts.ReportUnreachable != nil {
		p.t.opts.ReportUnreachable(p.id)
	}
	down := connectionDown(err)
	if down && p.t.opts.PeerDown != nil {
		p.t.opts.PeerDown(p.id)
	}
	if consecutive == 1 || consecutive%FailureLogEvery == 0 {
		p.log.Warn("peer unreachable", zap.Int("failures", consecutive), zap.Bool("connection_down", down), zap.Error(err))
	}
}

// connectionDown reports whether err says the peer's process is gone rather
// than slow: the connection was refused or reset. The HTTP/2 client reports a
// connection that ended under an open request without a GOAWAY (which a peer
// shutting down gracefully sends) as io.ErrUnexpectedEOF; that is how the
// socket of a killed process usually ends (FIN from its kernel), so it counts
// as reset too.
func connectionDown(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}

// backoff waits out the pause after the consecutive-th failure and leaves the
// failing state. It returns false when the peer was stopped meanwhile.
func (p *peer) backoff(rng *rand.Rand, consecutive int) bool {
	d := backoffDelay(rng, consecutive)
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-p.ctx.Done():
		return false
	case <-timer.C:
	}
	p.setFailing(false)
	return true
}

// backoffDelay is BackoffMin doubled per consecutive failure after the first,
// capped at BackoffMax, with jitter drawing the pause from [d/2, d).
func backoffDelay(rng *rand.Rand, consecutive int) time.Duration {
	assertf(consecutive >= 1, "backoff after %d failures", consecutive)
	d := BackoffMax
	if shift := consecutive - 1; shift < 32 && BackoffMin<<shift < BackoffMax {
		d = BackoffMin << shift
	}
	half := d / 2
	return half + time.Duration(rng.Int64N(int64(d-half)))
}
