// These tests prove the access-control plumbing of the command line: the
// --rule syntax, the acl subcommand's usage errors, where serve and the
// client commands find their secrets (file over variable, whitespace
// trimmed, a short bootstrap secret refused), and end to end against a
// 3-node cluster with access control: `acl token create` prints a secret,
// `acl token list` shows the token without it, the secret in --token-file
// or RAFTLOCK_ACL_TOKEN lets `acquire` take a lock in its prefix and is
// refused elsewhere, and `acl token delete` ends it.
package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/raftlock/raftlock/client"
	"github.com/raftlock/raftlock/client/wire"
	"github.com/raftlock/raftlock/server/servertest"
)

func TestRuleFlag(t *testing.T) {
	cases := []struct {
		in   string
		want wire.ACLRule
		ok   bool
	}{
		{"prefix=jobs/,allow=lock,read", wire.ACLRule{Prefix: "jobs/", Allow: []string{"lock", "read"}}, true},
		{"prefix=,allow=admin", wire.ACLRule{Prefix: "", Allow: []string{"admin"}}, true},
		{"prefix=a.b:c,allow=elect", wire.ACLRule{Prefix: "a.b:c", Allow: []string{"elect"}}, true},
		{"allow=read", wire.ACLRule{}, false},
		{"prefix=jobs/", wire.ACLRule{}, false},
		{"prefix=jobs/,allow=", wire.ACLRule{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			var r ruleFlags
			err := r.Set(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("Set(%q) = %v; want ok %t", tc.in, err, tc.ok)
			}
			if tc.ok && !reflect.DeepEqual(r[0], tc.want) {
				t.Errorf("Set(%q) = %+v; want %+v", tc.in, r[0], tc.want)
			}
		})
	}
}

func TestACLUsage(t *testing.T) {
	dead := "--endpoints=http://127.0.0.1:1"
	cases := []struct {
		name   string
		args   []string
		want   int
		stderr string
	}{
		{"help", []string{"acl", "-h"}, exitOK, "raftlock acl token create"},
		{"no subcommand", []string{"acl"}, exitUsage, "usage: raftlock acl token"},
		{"bad subcommand", []string{"acl", "token", "rotate"}, exitUsage, `"rotate"`},
		{"create without name", []string{"acl", "token", "create", dead, "--rule", "prefix=a,allow=read"}, exitUsage, "--name is required"},
		{"create without rule", []string{"acl", "token", "create", dead, "--name", "x"}, exitUsage, "--rule is required"},
		{"create bad rule", []string{"acl", "token", "create", dead, "--name", "x", "--rule", "jobs"}, exitUsage, "prefix="},
		{"delete no id", []string{"acl", "token", "delete", dead}, exitUsage, "one ID"},
		{"delete bad id", []string{"acl", "token", "delete", dead, "x"}, exitUsage, "not a number"},
		{"missing token file", []string{"status", dead, "--token-file", "/nonexistent/token"}, exitUsage, "--token-file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cio, _, stderr, _ := testIO(nil)
			got := runClient(tc.args[0], tc.args[1:], cio)
			if got != tc.want || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("raftlock %q = %d, stderr %q; want %d, stderr containing %q", tc.args, got, stderr, tc.want, tc.stderr)
			}
		})
	}
}

func TestSecretSources(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("  from-the-file-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("tiny\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	serveCases := []struct {
		name string
		args []string
		env  map[string]string
		want string
		ok   bool
	}{
		{"off by default", nil, nil, "", true},
		{"variable", nil, map[string]string{envBootstrapToken: "from-the-variable-0123"}, "from-the-variable-0123", true},
		{"file wins", []string{"--bootstrap-token-file", file}, map[string]string{envBootstrapToken: "from-the-variable-0123"}, "from-the-file-0123456789", true},
		{"file from variable", nil, map[string]string{envBootstrapToken + "_FILE": file}, "from-the-file-0123456789", true},
		{"too short", []string{"--bootstrap-token-file", short}, nil, "", false},
		{"missing file", []string{"--bootstrap-token-file", filepath.Join(dir, "nope")}, nil, "", false},
	}
	for _, tc := range serveCases {
		t.Run("serve/"+tc.name, func(t *testing.T) {
			args := append([]string{"--data-dir", dir}, tc.args...)
			var stderr strings.Builder
			cfg, err := parseServe(args, envOf(tc.env), &stderr)
			if (err == nil) != tc.ok || cfg.BootstrapToken != tc.want {
				t.Errorf("parseServe(%q) = token %q, %v; want %q, ok %t", tc.args, cfg.BootstrapToken, err, tc.want, tc.ok)
			}
		})
	}
	clientCases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"none", nil, nil, ""},
		{"variable", nil, map[string]string{envACLToken: "secret-var\n"}, "secret-var"},
		{"file wins", []string{"--token-file", file}, map[string]string{envACLToken: "secret-var"}, "from-the-file-0123456789"},
		{"file from variable", nil, map[string]string{envACLTokenFile: file}, "from-the-file-0123456789"},
	}
	for _, tc := range clientCases {
		t.Run("client/"+tc.name, func(t *testing.T) {
			cio, _, _, _ := testIO(tc.env)
			fs := newFlagSet("t", "t", "", cio)
			cf := addCommonFlags(fs, cio.getenv, false)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if got := clientConfigForTest(t, cf); got != tc.want {
				t.Errorf("token from %q and %v = %q; want %q", tc.args, tc.env, got, tc.want)
			}
		})
	}
}

// clientConfigForTest returns the token the common flags put in the
// client config.
func clientConfigForTest(t *testing.T, cf *commonFlags) string {
	t.Helper()
	var cfg client.Config
	if err := cf.acl.apply(&cfg); err != nil {
		t.Fatalf("apply() = %v", err)
	}
	return cfg.Token
}

func TestCLIACL(t *testing.T) {
	const boot = "cli-bootstrap-secret-0123456789"
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	c := servertest.Start(t, 3, servertest.Options{Locks: true, BootstrapToken: boot})
	if _, err := c.WaitLeader(ctx); err != nil {
		t.Fatalf("WaitLeader() = %v", err)
	}
	urls := []string{c.URL(0), c.URL(1), c.URL(2)}
	env := func(kv ...string) map[string]string {
		m := map[string]string{envEndpoints: strings.Join(urls, ",")}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	runCLI := func(env map[string]string, args ...string) (int, string, string) {
		cio, out, errb, _ := testIO(env)
		code := runClient(args[0], args[1:], cio)
		return code, out.String(), errb.String()
	}
	code, out, stderr := runCLI(env(envACLToken, boot), "acl", "token", "create", "--name", "ci jobs", "--rule", "prefix=jobs/,allow=lock,read", "--ttl", "1h")
	if code != exitOK {
		t.Fatalf("acl token create = %d, stderr %q; want 0", code, stderr)
	}
	id, secret := field(t, out, "id"), field(t, strings.TrimSpace(out), "secret")
	if len(secret) != 64 {
		t.Fatalf("acl token create printed secret %q; want 64 hex digits", secret)
	}
	code, out, stderr = runCLI(env(envACLToken, boot), "acl", "token", "list")
	if code != exitOK || !strings.Contains(out, "id="+id+` name="ci jobs"`) || !strings.Contains(out, "jobs/:read+lock") || strings.Contains(out, secret) {
		t.Fatalf("acl token list = %d, %q, stderr %q; want the token without its secret", code, out, stderr)
	}
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		env    map[string]string
		args   []string
		want   int
		stderr string
	}{
		{"token file in prefix", env(), []string{"acquire", "--token-file", file, "jobs/a"}, exitOK, ""},
		{"token variable in prefix", env(envACLToken, secret), []string{"acquire", "jobs/b"}, exitOK, ""},
		{"outside prefix", env(envACLToken, secret), []string{"acquire", "other/a"}, exitError, "forbidden"},
		{"no token", env(), []string{"acquire", "jobs/c"}, exitError, "unauthorized"},
		{"list needs admin", env(envACLToken, secret), []string{"acl", "token", "list"}, exitError, "forbidden"},
		{"delete", env(envACLToken, boot), []string{"acl", "token", "delete", id}, exitOK, ""},
		{"deleted token", env(envACLToken, secret), []string{"acquire", "jobs/d"}, exitError, "unauthorized"},
	}
	for _, tc := range cases {
		code, _, stderr := runCLI(tc.env, tc.args...)
		if code != tc.want || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%s: raftlock %q = %d, stderr %q; want %d, stderr containing %q", tc.name, tc.args, code, stderr, tc.want, tc.stderr)
		}
	}
}
