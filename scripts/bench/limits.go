package main

import "time"

// Every bound and fixed setting of the benchmark. Those a run may want to
// change are defaults of flags (main.go); the rest are fixed here so both
// systems see the same numbers.
const (
	// nodeCount is the size of each cluster.
	nodeCount = 3

	// raftlockPortBaseDefault is node 1's client port; node i listens for
	// clients on base+10(i-1) and for peers on the port after it.
	raftlockPortBaseDefault = 21070
	// etcdPortBaseDefault is etcd member 1's client port, same layout.
	etcdPortBaseDefault = 22379
	// portStride separates the nodes' ports.
	portStride = 10

	// heartbeatInterval and electionTimeout are the same for both systems:
	// raftlock's defaults, which etcd's defaults also are (100 ms, 1 s).
	heartbeatInterval = 100 * time.Millisecond
	electionTimeout   = time.Second

	// clusterStartTimeout bounds the wait for a fresh or restarted cluster
	// to elect a leader and answer as ready.
	clusterStartTimeout = 30 * time.Second
	// stopTimeout is how long a node gets after SIGTERM before SIGKILL.
	stopTimeout = 10 * time.Second
	// pollInterval paces the readiness and leader probes (a process start
	// has no event to wait on).
	pollInterval = 50 * time.Millisecond
	// probeTimeout bounds one readiness or leader probe.
	probeTimeout = time.Second

	// opTimeout bounds one measured operation (acquire + release, create +
	// revoke, one keepalive); a longer one counts as an error.
	opTimeout = 30 * time.Second
	// sessionTTL is the lease ttl of every session (both systems): the
	// SDK's default.
	sessionTTL = 15 * time.Second
	// cycleLeaseTTL is the ttl of the leases of the create + revoke workload.
	cycleLeaseTTL = 10 * time.Second

	// contendedClients share one lock in the contended workload.
	contendedClients = 16
	// leaseClients run the create + revoke and the keepalive workloads.
	leaseClients = 16
	// failoverClients run during the leader kills.
	failoverClients = 16
	// setupClients create (and revoke) the keepalive workload's leases.
	setupClients = 64

	// keepaliveLeasesDefault is how many live leases the keepalive
	// workload keeps alive.
	keepaliveLeasesDefault = 10000
	// keepaliveTTLDefault is their ttl: long enough that the other
	// system's run between two of this system's runs cannot expire them.
	keepaliveTTLDefault = 60 * time.Second

	// samplesMax bounds the latencies kept per run and client; later ops
	// are counted but not sampled.
	samplesMax = 1 << 20

	// fsyncSamples is how many write+fdatasync rounds measure the disk.
	fsyncSamples = 200
	// fsyncBlockBytes is the size of each of those writes.
	fsyncBlockBytes = 4096

	// failoverSettle is the steady running time before each leader kill.
	failoverSettle = 2 * time.Second
	// failoverGrantWait bounds the wait for every client's first grant
	// after a kill; a client still without one counts as stalled.
	failoverGrantWait = 30 * time.Second

	// dialTimeout bounds an etcd client's first connection.
	dialTimeout = 5 * time.Second
	// scrapeTimeout bounds one read of a leader's /metrics.
	scrapeTimeout = 5 * time.Second
	// metricsLineBytesMax bounds one line of a /metrics page.
	metricsLineBytesMax = 1 << 20
	// latencySamplesInitial is the initial capacity of a client's samples.
	latencySamplesInitial = 1024

	// profileClients is the client count of the profiled lock workload.
	profileClients = 64

	// dirPerm and filePerm are the modes of the results dir's contents.
	dirPerm  = 0o755
	filePerm = 0o644

	// heldLocksPerLease is how many of the memory workload's locks share a
	// lease: under raftlock's per-lease bound of 4096.
	heldLocksPerLease = 1024
)
