// These tests prove Config.Validate: the defaults are a valid one-node
// cluster, derived URLs are filled in, and every bad value is refused with an
// error wrapping ErrInvalidConfig that names the setting; and that NodeIDOf is
// stable and independent of the order of --initial-cluster.
package server

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/raftlock/raftlock/consensus"
)

func TestDefaultConfigIsOneNodeCluster(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate(DefaultConfig()) = %v; want nil", err)
	}
	checks := []struct{ name, got, want string }{
		{"AdvertiseClientURL", cfg.AdvertiseClientURL, "http://127.0.0.1:7070"},
		{"AdvertisePeerURL", cfg.AdvertisePeerURL, "http://127.0.0.1:7071"},
		{"InitialCluster", cfg.InitialCluster, "n1=http://127.0.0.1:7071"},
		{"DataDir", cfg.DataDir, "raftlock-data"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("DefaultConfig().%s = %q; want %q", c.name, c.got, c.want)
		}
	}
	if got := cfg.ElectionTicks(); got != 10 {
		t.Errorf("ElectionTicks() = %d; want 10", got)
	}
	members := cfg.Members()
	if len(members) != 1 || members[0].Name != "n1" || members[0].ID != NodeIDOf("n1") {
		t.Errorf("Members() = %+v; want n1 alone", members)
	}
}

func TestValidateDerivesPeerURLFromCluster(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Name = "n2"
	cfg.InitialCluster = "n1=http://10.0.0.1:7071,n2=http://10.0.0.2:7071,n3=http://10.0.0.3:7071"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate() = %v; want nil", err)
	}
	if cfg.AdvertisePeerURL != "http://10.0.0.2:7071" {
		t.Errorf("AdvertisePeerURL = %q; want http://10.0.0.2:7071", cfg.AdvertisePeerURL)
	}
	var names []string
	for _, m := range cfg.Members() {
		names = append(names, m.Name)
	}
	if got := strings.Join(names, ","); got != "n1,n2,n3" {
		t.Errorf("Members() names = %s; want n1,n2,n3", got)
	}
}

func TestValidateRefuses(t *testing.T) {
	cases := []struct {
		name   string
		modify func(*Config)
		want   string // a part of the message
	}{
		{"empty id", func(c *Config) { c.Name = "" }, "id is empty"},
		{"id with space", func(c *Config) { c.Name = "n 1" }, `has ' '`},
		{"id too long", func(c *Config) { c.Name = strings.Repeat("n", NameBytesMax+1) }, "65 bytes, max 64"},
		{"empty data dir", func(c *Config) { c.DataDir = "" }, "data-dir is empty"},
		{"client addr without port", func(c *Config) { c.ClientAddr = "localhost" }, "client-addr"},
		{"peer addr without port", func(c *Config) { c.PeerAddr = "127.0.0.1" }, "peer-addr"},
		{"zero heartbeat", func(c *Config) { c.HeartbeatInterval = 0 }, "heartbeat-interval is 0s"},
		{"election below 5 heartbeats", func(c *Config) { c.ElectionTimeout = 400 * time.Millisecond }, "election-timeout is 400ms, min 500ms"},
		{"election too many heartbeats", func(c *Config) {
			c.HeartbeatInterval = time.Millisecond
			c.ElectionTimeout = 2 * time.Second
		}, "2000 heartbeat intervals, max 1000"},
		{"bad log level", func(c *Config) { c.LogLevel = "verbose" }, "log-level"},
		{"bad log format", func(c *Config) { c.LogFormat = "xml" }, "log-format"},
		{"id not in cluster", func(c *Config) { c.InitialCluster = "n2=http://127.0.0.1:7081" }, `id "n1" is not in initial-cluster`},
		{"cluster entry without url", func(c *Config) { c.InitialCluster = "n1" }, "not name=url"},
		{"cluster duplicate name", func(c *Config) {
			c.InitialCluster = "n1=http://127.0.0.1:7071,n1=http://127.0.0.1:7081"
		}, `names "n1" twice`},
		{"cluster url with path", func(c *Config) { c.InitialCluster = "n1=http://127.0.0.1:7071/raft" }, "has a path"},
		{"cluster url without port", func(c *Config) { c.InitialCluster = "n1=http://127.0.0.1" }, "no host:port"},
		{"cluster url ftp", func(c *Config) { c.InitialCluster = "n1=ftp://127.0.0.1:7071" }, `scheme "ftp"`},
		{"cluster too large", func(c *Config) {
			var parts []string
			for i := range MembersMax + 1 {
				parts = append(parts, "m"+string(rune('a'+i))+"=http://127.0.0.1:7071")
			}
			c.InitialCluster = "n1=http://127.0.0.1:7071," + strings.Join(parts, ",")
		}, "9 members, max 7"},
		{"advertise peer differs", func(c *Config) {
			c.InitialCluster = "n1=http://127.0.0.1:7071"
			c.AdvertisePeerURL = "http://127.0.0.1:9999"
		}, "differs from n1=http://127.0.0.1:7071"},
		{"tls partly given", func(c *Config) { c.PeerCertFile = "cert.pem" }, "1 of 3 given"},
		{"tls with http peer url", func(c *Config) {
			c.PeerCertFile, c.PeerKeyFile, c.PeerTrustedCAFile = "c.pem", "k.pem", "ca.pem"
			c.InitialCluster = "n1=http://127.0.0.1:7071"
		}, `want "https"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.modify(&cfg)
			err := cfg.Validate()
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate() = %v; want an error wrapping ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %q; want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestTLSDefaultsToHTTPS(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PeerCertFile, cfg.PeerKeyFile, cfg.PeerTrustedCAFile = "c.pem", "k.pem", "ca.pem"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate() = %v; want nil", err)
	}
	if cfg.AdvertisePeerURL != "https://127.0.0.1:7071" {
		t.Errorf("AdvertisePeerURL = %q; want https://127.0.0.1:7071", cfg.AdvertisePeerURL)
	}
}

func TestNodeIDOf(t *testing.T) {
	// Pinned values: a change here changes every deployed node's Raft id and
	// breaks its persisted votes. FNV-1a 64 of the name.
	cases := []struct {
		name string
		want consensus.NodeID
	}{
		{"n1", 0x08b37b07b558d4c0},
		{"n2", 0x08b37e07b558d9d9},
		{"n3", 0x08b37d07b558d826},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := NodeIDOf(tc.name); got != tc.want {
				t.Errorf("NodeIDOf(%q) = %#x; want %#x", tc.name, uint64(got), uint64(tc.want))
			}
		})
	}
}

func TestMembersIgnoreClusterOrder(t *testing.T) {
	a := Config{InitialCluster: "n1=http://h:1,n2=http://h:2,n3=http://h:3"}
	b := Config{InitialCluster: "n3=http://h:3,n1=http://h:1,n2=http://h:2"}
	ma, mb := a.Members(), b.Members()
	for i := range ma {
		if ma[i] != mb[i] {
			t.Errorf("Members()[%d] = %+v and %+v; want the same whatever the order", i, ma[i], mb[i])
		}
	}
	if a.ClusterID() != b.ClusterID() {
		t.Errorf("ClusterID() = %s and %s; want the same whatever the order", a.ClusterID(), b.ClusterID())
	}
}
