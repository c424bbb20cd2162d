package server

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/raftlock/raftlock/consensus"
)

// ErrInvalidConfig is wrapped by every error Config.Validate returns.
var ErrInvalidConfig = errors.New("invalid config")

// Defaults of `raftlock serve`: with no flags a node serves a one-node cluster
// on loopback with its data in ./raftlock-data.
const (
	DefaultName              = "n1"
	DefaultDataDir           = "raftlock-data"
	DefaultClientAddr        = "127.0.0.1:7070"
	DefaultPeerAddr          = "127.0.0.1:7071"
	DefaultHeartbeatInterval = 100 * time.Millisecond
	DefaultElectionTimeout   = time.Second
	DefaultLogLevel          = "info"
	DefaultSnapshotCount     = 10_000
	DefaultLogFormat         = "json"
	// DefaultCertReloadInterval is how often a node with TLS looks at the
	// modification time and size of its certificate, key and CA files and
	// reloads those that changed (--cert-reload-interval).
	DefaultCertReloadInterval = 5 * time.Second
)

// Config is every setting of a node. The zero value is not valid; start from
// DefaultConfig. Empty advertise URLs and an empty InitialCluster are derived
// by Validate (see there).
type Config struct {
	// Name is this member's name (--id); it must appear in InitialCluster.
	Name string
	// DataDir holds the Raft log; it is created when missing.
	DataDir string
	// ClientAddr and PeerAddr are the host:port the listeners bind.
	ClientAddr string
	PeerAddr   string
	// AdvertiseClientURL and AdvertisePeerURL are the URLs others reach this
	// node at; empty means derived from the listen address (or, for the peer
	// URL, from this member's entry in InitialCluster).
	AdvertiseClientURL string
	AdvertisePeerURL   string
	// InitialCluster is name=peerURL,... for every voting member; empty means
	// a one-node cluster of this member alone.
	InitialCluster string
	// Join lists client URLs of a running cluster: a node with an empty data
	// dir asks it to be added as a learner (Join, join.go) and promotes
	// itself once caught up. InitialCluster is not needed with it.
	Join []string
	// HeartbeatInterval is the leader's heartbeat period and the Raft tick.
	HeartbeatInterval time.Duration
	// ElectionTimeout is the election timeout T; followers wait [T, 2T). It is
	// rounded down to whole heartbeat intervals.
	ElectionTimeout time.Duration
	// SnapshotCount is how many applied entries pass between two snapshots
	// of the lock table (--snapshot-count); after each, the log is compacted
	// up to CompactionTailEntries before it. 0 means DefaultSnapshotCount.
	SnapshotCount uint64
	// LogLevel is debug, info, warn or error; LogFormat is json or console.
	LogLevel  string
	LogFormat string
	// PeerCertFile, PeerKeyFile and PeerTrustedCAFile turn on mutual TLS
	// between peers; all three or none.
	PeerCertFile      string
	PeerKeyFile       string
	PeerTrustedCAFile string
	// CertFile and KeyFile turn on TLS on the client listener (both or
	// neither); the advertised client URL is then https://. ClientCAFile,
	// which needs them, makes the client listener require a client
	// certificate signed by that CA.
	CertFile     string
	KeyFile      string
	ClientCAFile string
	// CertReloadInterval is how often the certificate, key and CA files of
	// both listeners are checked for a change (modification time and size)
	// and reloaded; 0 means DefaultCertReloadInterval.
	CertReloadInterval time.Duration
	// BootstrapToken, when set, turns access control on (acl.go): it is the
	// secret of an admin token every node of the cluster is given, never
	// stored in the table. Empty: every request is allowed.
	BootstrapToken string
	// HTTPLimits are the rate limit and timeouts of the client listener.
	HTTPLimits
}

// DefaultConfig returns the configuration of `raftlock serve` with no flags.
func DefaultConfig() Config {
	return Config{
		Name:              DefaultName,
		DataDir:           DefaultDataDir,
		ClientAddr:        DefaultClientAddr,
		PeerAddr:          DefaultPeerAddr,
		HeartbeatInterval: DefaultHeartbeatInterval,
		ElectionTimeout:   DefaultElectionTimeout,
		SnapshotCount:     DefaultSnapshotCount,
		LogLevel:          DefaultLogLevel,
		LogFormat:         DefaultLogFormat,
	}
}

// Member is one voting member of the cluster.
type Member struct {
	// Name is the member's name on the command line (n1, n2...).
	Name string
	// ID is NodeIDOf(Name).
	ID consensus.NodeID
	// PeerURL is where the member's peer listener is reached.
	PeerURL string
	// ClientURL is where the member's client listener is reached, when
	// known (members added at run time tell it).
	ClientURL string
}

// NodeIDOf maps a member name to its Raft node id: the FNV-1a 64-bit hash of
// the name, or 1 in the one-in-2^64 case where that hash is 0 (None). Every
// node computes the same ids from the same names, whatever the order of
// --initial-cluster, and a restart keeps them. Validate refuses two names with
// the same id.
func NodeIDOf(name string) consensus.NodeID {
	h := fnv.New64a()
	h.Write([]byte(name)) // A hash.Hash never returns an error.
	if id := consensus.NodeID(h.Sum64()); id != consensus.None {
		return id
	}
	return 1
}

// TLS reports whether peer mutual TLS is configured.
func (c *Config) TLS() bool { return c.PeerCertFile != "" }

// Validate checks every field and fills in the derived ones: the advertise
// URLs (http://, or https:// with TLS, of the listen address) and, when
// InitialCluster is empty, a one-node cluster of Name at AdvertisePeerURL. It
// returns an error wrapping ErrInvalidConfig that names the bad setting.
func (c *Config) Validate() error {
	if err := validateName("id", c.Name); err != nil {
		return err
	}
	if c.DataDir == "" {
		return invalidf("data-dir is empty")
	}
	if err := validateAddr("client-addr", c.ClientAddr); err != nil {
		return err
	}
	if err := validateAddr("peer-addr", c.PeerAddr); err != nil {
		return err
	}
	if err := c.validateTiming(); err != nil {
		return err
	}
	if err := validateLogging(c.LogLevel, c.LogFormat); err != nil {
		return err
	}
	if err := c.validateTLS(); err != nil {
		return err
	}
	if err := c.validateClientTLS(); err != nil {
		return err
	}
	if err := c.HTTPLimits.validate(); err != nil {
		return err
	}
	if err := validateBootstrapToken(c.BootstrapToken); err != nil {
		return err
	}
	return c.validateURLs()
}

func (c *Config) validateTiming() error {
	if c.HeartbeatInterval < HeartbeatIntervalMin || c.HeartbeatInterval > HeartbeatIntervalMax {
		return invalidf("heartbeat-interval is %v, want within [%v, %v]", c.HeartbeatInterval, HeartbeatIntervalMin, HeartbeatIntervalMax)
	}
	if min := ElectionHeartbeatsMin * c.HeartbeatInterval; c.ElectionTimeout < min {
		return invalidf("election-timeout is %v, min %v (%d heartbeat intervals of %v)", c.ElectionTimeout, min, ElectionHeartbeatsMin, c.HeartbeatInterval)
	}
	if ticks := c.ElectionTimeout / c.HeartbeatInterval; ticks > ElectionHeartbeatsMax {
		return invalidf("election-timeout is %d heartbeat intervals, max %d", ticks, ElectionHeartbeatsMax)
	}
	if c.SnapshotCount != 0 && (c.SnapshotCount < SnapshotCountMin || c.SnapshotCount > SnapshotCountMax) {
		return invalidf("snapshot-count is %d, want within [%d, %d]", c.SnapshotCount, SnapshotCountMin, SnapshotCountMax)
	}
	return nil
}

// snapshotCount is SnapshotCount with the default for 0.
func (c *Config) snapshotCount() uint64 {
	if c.SnapshotCount == 0 {
		return DefaultSnapshotCount
	}
	return c.SnapshotCount
}

func (c *Config) validateTLS() error {
	set := 0
	for _, f := range []string{c.PeerCertFile, c.PeerKeyFile, c.PeerTrustedCAFile} {
		if f != "" {
			set++
		}
	}
	if set != 0 && set != 3 {
		return invalidf("peer TLS needs peer-cert-file, peer-key-file and peer-trusted-ca-file together; %d of 3 given", set)
	}
	return nil
}

func (c *Config) peerScheme() string {
	if c.TLS() {
		return "https"
	}
	return "http"
}

// validateURLs derives and checks the advertise URLs and the cluster.
func (c *Config) validateURLs() error {
	if c.AdvertiseClientURL == "" {
		c.AdvertiseClientURL = c.clientScheme() + "://" + c.ClientAddr
	}
	if err := validateClientURL(c.AdvertiseClientURL, c.ClientTLS()); err != nil {
		return err
	}
	members, err := parseInitialCluster(c.InitialCluster, c.peerScheme())
	if err != nil {
		return err
	}
	self, ok := findMember(members, c.Name)
	switch {
	case c.InitialCluster == "":
		// A one-node cluster of this member.
	case !ok:
		return invalidf("id %q is not in initial-cluster %q", c.Name, c.InitialCluster)
	case c.AdvertisePeerURL == "":
		c.AdvertisePeerURL = self.PeerURL
	case c.AdvertisePeerURL != self.PeerURL:
		return invalidf("advertise-peer-url %q differs from %s=%s in initial-cluster", c.AdvertisePeerURL, c.Name, self.PeerURL)
	}
	if c.AdvertisePeerURL == "" {
		c.AdvertisePeerURL = c.peerScheme() + "://" + c.PeerAddr
	}
	if err := validateURL("advertise-peer-url", c.AdvertisePeerURL, c.peerScheme()); err != nil {
		return err
	}
	if c.InitialCluster == "" {
		c.InitialCluster = c.Name + "=" + c.AdvertisePeerURL
	}
	return nil
}

// Members returns the members of InitialCluster sorted by name. Call it on a
// validated Config.
func (c *Config) Members() []Member {
	members, err := parseInitialCluster(c.InitialCluster, c.peerScheme())
	assertf(err == nil, "Members on an unvalidated config: %v", err)
	return members
}

// ClusterID names the cluster for the transport: a hash of the member names,
// so nodes started with different --initial-cluster members refuse each other.
func (c *Config) ClusterID() string {
	h := fnv.New64a()
	for _, m := range c.Members() {
		h.Write([]byte(m.Name)) // A hash.Hash never returns an error.
		h.Write([]byte{0})
	}
	return strconv.FormatUint(h.Sum64(), 16)
}

// ElectionTicks is the election timeout in heartbeat intervals (ticks).
func (c *Config) ElectionTicks() int { return int(c.ElectionTimeout / c.HeartbeatInterval) }

// parseInitialCluster parses name=url,... into members sorted by name; an
// empty string is no members.
func parseInitialCluster(s, scheme string) ([]Member, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > MembersMax {
		return nil, invalidf("initial-cluster has %d members, max %d", len(parts), MembersMax)
	}
	members := make([]Member, 0, len(parts))
	byID := make(map[consensus.NodeID]string, len(parts))
	for _, p := range parts {
		name, u, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok {
			return nil, invalidf("initial-cluster entry %q is not name=url", p)
		}
		if err := validateName("initial-cluster name", name); err != nil {
			return nil, err
		}
		if err := validateURL("initial-cluster url of "+name, u, scheme); err != nil {
			return nil, err
		}
		id := NodeIDOf(name)
		if prev, dup := byID[id]; dup {
			if prev == name {
				return nil, invalidf("initial-cluster names %q twice", name)
			}
			return nil, invalidf("initial-cluster names %q and %q hash to the same node id %d; rename one", prev, name, id)
		}
		byID[id] = name
		members = append(members, Member{Name: name, ID: id, PeerURL: u})
	}
	sort.Slice(members, func(i, j int) bool { return members[i].Name < members[j].Name })
	return members, nil
}

func findMember(members []Member, name string) (Member, bool) {
	for _, m := range members {
		if m.Name == name {
			return m, true
		}
	}
	return Member{}, false
}

func validateName(what, name string) error {
	if name == "" {
		return invalidf("%s is empty", what)
	}
	if len(name) > NameBytesMax {
		return invalidf("%s %q is %d bytes, max %d", what, name, len(name), NameBytesMax)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return invalidf("%s %q has %q; use letters, digits, '-', '_' or '.'", what, name, r)
		}
	}
	return nil
}

func validateAddr(what, addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return invalidf("%s %q is not host:port: %v", what, addr, err)
	}
	return nil
}

// validateURL checks that raw is an absolute URL with a host and, when scheme
// is not empty, that scheme (peer URLs must match the TLS setting).
func validateURL(what, raw, scheme string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return invalidf("%s %q: %v", what, raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return invalidf("%s %q: scheme %q, want http or https", what, raw, u.Scheme)
	}
	if scheme != "" && u.Scheme != scheme {
		return invalidf("%s %q: scheme %q, want %q (peer TLS is %s)", what, raw, u.Scheme, scheme, onOff(scheme == "https"))
	}
	if u.Host == "" || u.Port() == "" {
		return invalidf("%s %q has no host:port", what, raw)
	}
	if u.Path != "" || u.RawQuery != "" {
		return invalidf("%s %q has a path; give scheme://host:port only", what, raw)
	}
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
}
