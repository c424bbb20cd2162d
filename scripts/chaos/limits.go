package main

import "time"

// Shape of a run: the flags are checked against these.
const (
	// NodesMin and NodesMax bound --nodes; the count must be odd.
	NodesMin = 3
	NodesMax = 7
	// ClientsMin and ClientsMax bound --clients.
	ClientsMin = 1
	ClientsMax = 256
	// DurationMin and DurationMax bound --duration.
	DurationMin = 5 * time.Second
	DurationMax = 24 * time.Hour
	// LocksMax and ElectionsMax bound the names the clients share.
	LocksMax     = 64
	ElectionsMax = 64
	// NameEpochDefault is how long the clients use one set of lock and
	// election names (--name-epoch) before they move to fresh ones.
	// Porcupine checks each name's operations as one partition, and its
	// cost grows much faster than a partition's length: a 30-minute run on
	// four names gave partitions of 70,000 operations that no memory
	// budget could check, while fresh names every two minutes keep them to
	// a few thousand, so the check grows linearly with the duration.
	NameEpochDefault = 2 * time.Minute
	// NameEpochMin bounds --name-epoch from below.
	NameEpochMin = 10 * time.Second
)

// Timing of the nodes the harness starts.
const (
	// HeartbeatInterval is every node's --heartbeat-interval.
	HeartbeatInterval = 50 * time.Millisecond
	// ElectionTimeout is every node's --election-timeout.
	ElectionTimeout = 500 * time.Millisecond
	// LeaseTTL is the ttl of every lease the clients create.
	LeaseTTL = 2 * time.Second
	// StartTimeout bounds the wait for the first leader after the start.
	StartTimeout = 30 * time.Second
	// StopTimeout bounds the wait for a node to exit after SIGTERM; past it
	// the node gets SIGKILL.
	StopTimeout = 10 * time.Second
	// WipeRemoveTimeout bounds removing a node that lost its data from the
	// membership; WipeRejoinTimeout bounds its return to voter after it
	// restarted empty with --join (it catches up first).
	WipeRemoveTimeout = 60 * time.Second
	WipeRejoinTimeout = 60 * time.Second
	// StatusTimeout bounds one GET /v1/cluster of the monitor and of leader
	// lookups (a paused node never answers).
	StatusTimeout = 500 * time.Millisecond
	// MonitorInterval is how often the monitor polls every node's status.
	MonitorInterval = 250 * time.Millisecond
	// PollInterval is how often the start, liveness and convergence waits
	// ask the nodes.
	PollInterval = 100 * time.Millisecond
	// ModuleRootDepthMax bounds the directories searched upwards for go.mod.
	ModuleRootDepthMax = 64
)

// Client requests.
const (
	// AttemptTimeout bounds one HTTP attempt beyond the request's own wait.
	AttemptTimeout = 1500 * time.Millisecond
	// OpDeadline bounds one logical request, all attempts together, beyond
	// its own wait.
	OpDeadline = 6 * time.Second
	// AttemptsMax bounds the attempts of one logical request.
	AttemptsMax = 30
	// RetryDelayMin and RetryDelayMax bound the pause between attempts.
	RetryDelayMin = 20 * time.Millisecond
	RetryDelayMax = 100 * time.Millisecond
	// WaitMax bounds the wait of an acquire or campaign that waits.
	WaitMax = time.Second
	// HoldTrustFraction of LeaseTTL, counted from the invocation of the
	// last request that proved the lease alive, is how long a correct
	// client trusts that it still holds a lock.
	HoldTrustFraction = 0.5
	// ResponseBytesMax bounds one response body the harness reads.
	ResponseBytesMax = 1 << 20
	// IdleConnsPerHost is the HTTP client's pool per node; IdleConnTimeout
	// how long an idle connection stays in it.
	IdleConnsPerHost = 64
	IdleConnTimeout  = 30 * time.Second
	// SeenTokensMax bounds the recent tokens a client keeps for requests
	// with stale tokens.
	SeenTokensMax = 16
)

// The fault schedule.
const (
	// QuietStart is the fault-free time after the first leader.
	QuietStart = 2 * time.Second
	// QuietTailMin is the least fault-free time at the end of the run, in
	// which the cluster must recover while the clients keep going; the tail
	// is a tenth of the run when that is longer.
	QuietTailMin = 5 * time.Second
	// FaultGapMin and FaultGapMax bound the healthy time between faults.
	FaultGapMin = 500 * time.Millisecond
	FaultGapMax = 3 * time.Second
	// FaultLengthMin and FaultLengthMax bound how long a fault lasts (a
	// killed node's downtime, a pause, a partition).
	FaultLengthMin = 500 * time.Millisecond
	FaultLengthMax = 5 * time.Second
	// LongPauseFactor times LeaseTTL is the pause of a leader that must
	// outlive its leases.
	LongPauseFactor = 2
	// FlapPeriodMin and FlapPeriodMax bound one state of a flapping link.
	FlapPeriodMin = 100 * time.Millisecond
	FlapPeriodMax = 600 * time.Millisecond
	// FlapsMax bounds the toggles of one flapping fault.
	FlapsMax = 200
	// SlowDelayMin and SlowDelayMax bound the delay of a slow link.
	SlowDelayMin = 20 * time.Millisecond
	SlowDelayMax = 250 * time.Millisecond
	// FaultsMax bounds the faults of one schedule.
	FaultsMax = 100000
)

// Proxies.
const (
	// ProxyChunkBytes is the read buffer of one direction of a proxied
	// connection.
	ProxyChunkBytes = 32 << 10
	// ProxyQueueChunks bounds the chunks in flight in one direction of a
	// delayed connection.
	ProxyQueueChunks = 64
)

// Verdicts.
const (
	// LivenessTimeout bounds the wait, after the last fault healed and the
	// clients stopped, for every node to name the same leader, and then for
	// one write to commit and be applied everywhere.
	LivenessTimeout = 15 * time.Second
	// CheckTimeoutDefault is the default budget of the linearizability
	// check.
	CheckTimeoutDefault = 5 * time.Minute
	// WritesMax bounds the fenced-resource writes kept for the verdict.
	WritesMax = 1 << 21
	// ViolationsMax bounds the violations reported per verdict.
	ViolationsMax = 20
	// CompactionCoverMargin: with a compacted log, requests invoked this
	// long after the first retained entry's command time must be in the
	// log (the margin covers a request proposed before its entry's time).
	CompactionCoverMargin = 2 * time.Second
	// LogReadBytesMax bounds one Entries read from a node's log.
	LogReadBytesMax = 4 << 20
)

// The linearizability check's memory: Porcupine keeps every configuration it
// visits, and an unlucky history can need more than the machine has.
const (
	// CheckMemoryMax is the heap at which the check is abandoned (the
	// verdict is then unknown, as after --check-timeout).
	CheckMemoryMax = 12 << 30
	// HeapPollInterval is how often the heap is sampled meanwhile.
	HeapPollInterval = 250 * time.Millisecond
)
