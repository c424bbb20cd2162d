package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/consensus"
	"github.com/raftlock/raftlock/consensus/transport"
	"github.com/raftlock/raftlock/locks"
)

// metrics are one node's Prometheus metrics, in a registry of its own (no
// package-level registry: several nodes share a test process).
type metrics struct {
	reg   *prometheus.Registry
	serve http.Handler

	proposals       *counterVec
	proposalSeconds *histogramVec
	fsyncSeconds    *histogramVec
	leaderChanges   *counterVec
	forwarded       *counterVec
	keepalives      *counterVec
	expired         *counterVec
	httpRequests    *counterVec
	httpSeconds     *histogramVec
}

// Latency histogram buckets: 100µs doubling to about 6.5s.
const (
	latencyBucketStart  = 0.0001
	latencyBucketFactor = 2
	latencyBuckets      = 17
)

// newMetrics registers the node's metrics; the gauges read the node's state
// when scraped.
func newMetrics(n *Node) *metrics {
	buckets := prometheus.ExponentialBuckets(latencyBucketStart, latencyBucketFactor, latencyBuckets)
	m := &metrics{
		reg:             prometheus.NewRegistry(),
		proposals:       newCounterVec("raftlock_proposals_total", "Commands proposed by this node, by command and outcome (ok, or the error code).", "command", "outcome"),
		proposalSeconds: newHistogramVec("raftlock_proposal_seconds", "Time from proposing a command to its apply here.", buckets, "command"),
		fsyncSeconds:    newHistogramVec("raftlock_log_save_seconds", "Time of one fsynced write of the Raft log (hard state and entries).", buckets),
		leaderChanges:   newCounterVec("raftlock_leader_changes_total", "Changes of leader or role seen by this node."),
		forwarded:       newCounterVec("raftlock_forwarded_requests_total", "Client requests this node forwarded to the leader."),
		keepalives:      newCounterVec("raftlock_lease_keepalives_total", "Lease keepalives answered by this node as leader."),
		expired:         newCounterVec("raftlock_leases_expired_total", "Leases this node expired as leader."),
		httpRequests:    newCounterVec("raftlock_http_requests_total", "Client API requests by method, route and status code.", "method", "route", "code"),
		httpSeconds:     newHistogramVec("raftlock_http_request_seconds", "Client API request latency by method and route.", buckets, "method", "route"),
	}
	status := func(f func(consensus.Status) float64) func() float64 {
		return func() float64 { return f(n.drv.Status()) }
	}
	table := func(f func(locks.Stats) float64) func() float64 {
		return func() float64 {
			if n.fsm == nil {
				return 0
			}
			return f(n.fsm.stats())
		}
	}
	m.reg.MustRegister(
		gaugeFunc("raftlock_raft_term", "Current Raft term.", status(func(s consensus.Status) float64 { return float64(s.Term) })),
		roleFamily(n),
		gaugeFunc("raftlock_raft_commit_index", "Highest log index known committed.", status(func(s consensus.Status) float64 { return float64(s.Commit) })),
		gaugeFunc("raftlock_raft_applied_index", "Highest log index applied to the lock table.", status(func(s consensus.Status) float64 { return float64(s.Applied) })),
		gaugeFunc("raftlock_raft_last_index", "Last index of this node's log.", status(func(s consensus.Status) float64 { return float64(s.LastIndex) })),
		m.leaderChanges.v, m.proposals.v, m.proposalSeconds.v, m.fsyncSeconds.v,
		peerFamily(n, "raftlock_peer_send_queue_depth", "Messages waiting to be sent to a peer.", prometheus.GaugeValue,
			func(p peerStats) float64 { return float64(p.QueueDepth) }),
		peerFamily(n, "raftlock_peer_dropped_messages_total", "Messages to a peer dropped (queue full, peer failing, send failed).", prometheus.CounterValue,
			func(p peerStats) float64 { return float64(p.DroppedMessages) }),
		gaugeFunc("raftlock_leases", "Live leases in the lock table.", table(func(s locks.Stats) float64 { return float64(s.Leases) })),
		gaugeFunc("raftlock_locks_held", "Held locks in the lock table.", table(func(s locks.Stats) float64 { return float64(s.Locks) })),
		gaugeFunc("raftlock_elections_led", "Elections with a leader in the lock table.", table(func(s locks.Stats) float64 { return float64(s.Elections) })),
		gaugeFunc("raftlock_waiters", "Queued acquires and campaigns in the lock table.", table(func(s locks.Stats) float64 { return float64(s.Waiters) })),
		gaugeFunc("raftlock_dedup_records", "Request-id records kept for exactly-once apply.", table(func(s locks.Stats) float64 { return float64(s.DedupRecords) })),
		gaugeFunc("raftlock_waiting_requests", "Requests this node holds open (waits, blocking reads, event streams).", func() float64 {
			return float64(n.hub.waiting())
		}),
		m.keepalives.v, m.expired.v, m.forwarded.v, m.httpRequests.v, m.httpSeconds.v,
	)
	m.reg.MustRegister(membershipCollectors(n)...)
	m.serve = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: zap.NewStdLog(n.log)})
	return m
}

// roleFamily is raftlock_raft_role{role}: 1 for this node's role, 0 for the others.
func roleFamily(n *Node) *funcFamily {
	return newFuncFamily("raftlock_raft_role", "1 for the role this node is in, 0 for the others.", prometheus.GaugeValue,
		[]string{"role"}, func() []promSample {
			role := n.drv.Status().Role
			var out []promSample
			for _, r := range []consensus.Role{consensus.RoleFollower, consensus.RolePreCandidate, consensus.RoleCandidate, consensus.RoleLeader} {
				out = append(out, promSample{labels: []string{r.String()}, value: b2f(r == role)})
			}
			return out
		})
}

// peerFamily reports one transport counter per peer, labelled by name.
func peerFamily(n *Node, name, help string, typ prometheus.ValueType, f func(peerStats) float64) *funcFamily {
	return newFuncFamily(name, help, typ, []string{"peer"}, func() []promSample {
		var out []promSample
		for _, p := range n.trans.Stats().Peers {
			peer := strconv.FormatUint(uint64(p.ID), 16)
			if m, ok := findMemberID(n.memberList(), p.ID); ok {
				peer = m.Name
			}
			out = append(out, promSample{labels: []string{peer}, value: f(p)})
		}
		return out
	})
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// proposal records one proposal's outcome and latency.
func (m *metrics) proposal(kind locks.Kind, d time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		_, outcome = errorStatus(err)
	}
	m.proposals.inc(kind.String(), outcome)
	if err == nil {
		m.proposalSeconds.observe(d.Seconds(), kind.String())
	}
}

// handler serves GET /metrics in the Prometheus text format.
func (m *metrics) handler(c echo.Context) error {
	m.serve.ServeHTTP(c.Response(), c.Request())
	return nil
}

// observe is the middleware that counts requests by route and code, times
// them, and writes the access log line (route, code, duration, request id):
// at debug level, and at info for 5xx answers.
func (m *metrics) observe(log *zap.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				// Render the error here, so the code below is the one sent.
				c.Error(err)
			}
			d := time.Since(start)
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			r := c.Request()
			code := c.Response().Status
			m.httpRequests.inc(r.Method, route, strconv.Itoa(code))
			m.httpSeconds.observe(d.Seconds(), r.Method, route)
			ce := log.Check(zap.DebugLevel, "request")
			if ce == nil && code >= http.StatusInternalServerError {
				ce = log.Check(zap.InfoLevel, "request")
			}
			if ce == nil {
				return nil
			}
			by, _ := forwardedBy(r.Context())
			ce.Write(zap.String("method", r.Method), zap.String("route", route), zap.Int("code", code),
				zap.Duration("duration", d), zap.String("request_id", requestIDForLog(r.Header)),
				zap.String("remote", r.RemoteAddr), zap.String("forwarded_by", by))
			return nil
		}
	}
}

// requestIDForLog is the request's Idempotency-Key, else its X-Request-Id.
func requestIDForLog(h http.Header) string {
	if id := h.Get(wire.HeaderIdempotencyKey); id != "" {
		return id
	}
	return h.Get(echo.HeaderXRequestID)
}

// peerStats is the transport's per-peer counters.
type peerStats = transport.PeerStats
