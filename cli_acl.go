package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/raftlock/raftlock/client"
	"github.com/raftlock/raftlock/client/wire"
)

// Access control on the command line: `raftlock acl token create|list|delete`,
// the ACL token every client command sends (--token-file, RAFTLOCK_ACL_TOKEN)
// and serve's bootstrap token (--bootstrap-token-file, RAFTLOCK_BOOTSTRAP_TOKEN).
// RAFTLOCK_TOKEN is not used for any of them: `raftlock lock` exports the
// fencing token to its command under that name.
const (
	// envACLToken holds the secret of the ACL token client commands send.
	envACLToken = envPrefix + "ACL_TOKEN"
	// envACLTokenFile names a file holding it (the default of --token-file).
	envACLTokenFile = envPrefix + "ACL_TOKEN_FILE"
	// envBootstrapToken holds serve's bootstrap secret itself; the flag
	// --bootstrap-token-file (RAFTLOCK_BOOTSTRAP_TOKEN_FILE) names a file.
	envBootstrapToken = envPrefix + "BOOTSTRAP_TOKEN"
)

// secretFileBytesMax bounds a token file: a secret is at most 256 bytes,
// the rest can only be whitespace or a mistake.
const secretFileBytesMax = 4096

// tokenFlags is the ACL token flag of every client command.
type tokenFlags struct {
	file   string
	getenv func(string) string
}

// addTokenFlags defines --token-file (default RAFTLOCK_ACL_TOKEN_FILE); with
// neither, the secret is read from RAFTLOCK_ACL_TOKEN.
func addTokenFlags(fs *flag.FlagSet, getenv func(string) string) *tokenFlags {
	tf := &tokenFlags{getenv: getenv}
	fs.StringVar(&tf.file, "token-file", getenv(envACLTokenFile),
		"file holding the secret of the ACL token to send (env "+envACLTokenFile+"; else the secret itself in "+envACLToken+")")
	return tf
}

// apply sets the client config's token from --token-file or RAFTLOCK_ACL_TOKEN.
func (tf *tokenFlags) apply(cfg *client.Config) error {
	if tf.file == "" {
		cfg.Token = strings.TrimSpace(tf.getenv(envACLToken))
		return nil
	}
	secret, err := readSecretFile(tf.file)
	if err != nil {
		return usagef("--token-file: %w", err)
	}
	cfg.Token = secret
	return nil
}

// readSecretFile reads a secret from path, without surrounding whitespace
// (the newline an editor adds).
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, secretFileBytesMax+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > secretFileBytesMax {
		return "", fmt.Errorf("%s is over %d bytes, max %d", path, secretFileBytesMax, secretFileBytesMax)
	}
	secret := strings.TrimSpace(string(b))
	if secret == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return secret, nil
}

// bootstrapToken returns serve's bootstrap secret: the file of
// --bootstrap-token-file, else RAFTLOCK_BOOTSTRAP_TOKEN, else "" (access
// control off). server.Config.Validate checks it.
func bootstrapToken(file string, getenv func(string) string) (string, error) {
	if file == "" {
		return strings.TrimSpace(getenv(envBootstrapToken)), nil
	}
	secret, err := readSecretFile(file)
	if err != nil {
		return "", fmt.Errorf("bootstrap-token-file: %w", err)
	}
	return secret, nil
}

const aclAbout = `Manages ACL tokens (needs an admin token: the bootstrap token, or one with
the rule 'prefix=,allow=admin').

  raftlock acl token create --name N --rule 'prefix=jobs/,allow=lock,read' [--rule ...] [--ttl D]
      prints the new token's id and secret; the secret is shown only now
  raftlock acl token list
  raftlock acl token delete ID

A rule grants its capabilities (read, lock, elect; admin with the empty
prefix only) on every lock and election name starting with its prefix; the
longest matching prefix decides alone.`

// cmdACL is `raftlock acl token create|list|delete`.
func cmdACL(ctx context.Context, cio cliIO, args []string) error {
	if len(args) < 2 || args[0] != "token" {
		fmt.Fprintf(cio.stderr, "usage: raftlock acl token create|list|delete [flags]\n\n%s\n", aclAbout)
		if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return &shownError{usagef("acl takes: token create|list|delete")}
	}
	switch args[1] {
	case "create":
		return cmdACLCreate(ctx, cio, args[2:])
	case "list":
		return cmdACLList(ctx, cio, args[2:])
	case "delete":
		return cmdACLDelete(ctx, cio, args[2:])
	}
	return usagef("acl token %q: want create, list or delete", args[1])
}

// ruleFlags collects repeated --rule flags.
type ruleFlags []wire.ACLRule

func (r *ruleFlags) String() string { return fmt.Sprint(len(*r), " rules") }

// Set parses 'prefix=P,allow=C[,C...]'. A prefix holds no comma (names are
// [A-Za-z0-9._:/-]), so the first ",allow=" ends it.
func (r *ruleFlags) Set(s string) error {
	rest, ok := strings.CutPrefix(s, "prefix=")
	if !ok {
		return fmt.Errorf("rule %q does not start with prefix=", s)
	}
	prefix, allow, ok := strings.Cut(rest, ",allow=")
	if !ok || allow == "" {
		return fmt.Errorf("rule %q has no ,allow=CAPABILITY[,CAPABILITY...]", s)
	}
	*r = append(*r, wire.ACLRule{Prefix: prefix, Allow: strings.Split(allow, ",")})
	return nil
}

func cmdACLCreate(ctx context.Context, cio cliIO, args []string) error {
	fs := newFlagSet("acl token create", "acl token create --name N --rule 'prefix=P,allow=C,...' [--ttl D]", aclAbout, cio)
	cf := addCommonFlags(fs, cio.getenv, true)
	name := fs.String("name", "", "the token's name, for people (required)")
	ttl := fs.Duration("ttl", 0, "the token expires after this long (0: never)")
	var rules ruleFlags
	fs.Var(&rules, "rule", "a rule 'prefix=P,allow=read,lock,elect,admin' (repeatable; at least one)")
	pos, err := parseNoCommand(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 0:
		return usagef("acl token create takes no arguments, got %q", pos)
	case *name == "":
		return usagef("--name is required")
	case len(rules) == 0:
		return usagef("at least one --rule is required")
	case *ttl < 0:
		return usagef("--ttl %v is negative", *ttl)
	}
	return withAdminClient(ctx, cio, cf, func(ctx context.Context, c *client.Client) error {
		tk, err := c.CreateACLToken(ctx, *name, rules, *ttl)
		if err != nil {
			return err
		}
		return newPrinter(cio.stdout, cf.output).emit(tk, fmt.Sprintf("id=%d secret=%s", tk.ID, tk.Secret))
	})
}

func cmdACLList(ctx context.Context, cio cliIO, args []string) error {
	fs := newFlagSet("acl token list", "acl token list", aclAbout, cio)
	cf := addCommonFlags(fs, cio.getenv, true)
	pos, err := parseNoCommand(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("acl token list takes no arguments, got %q", pos)
	}
	return withAdminClient(ctx, cio, cf, func(ctx context.Context, c *client.Client) error {
		tokens, err := c.ACLTokens(ctx)
		if err != nil {
			return err
		}
		p := newPrinter(cio.stdout, cf.output)
		if p.json {
			return p.emit(wire.ACLTokenList{Tokens: tokens}, "")
		}
		for _, tk := range tokens {
			if err := p.emit(nil, tokenLine(tk)); err != nil {
				return err
			}
		}
		return nil
	})
}

// tokenLine is a token in text: "id=7 name=ci expires_at=never
// rules=jobs/:read+lock,:read".
func tokenLine(tk wire.ACLToken) string {
	expires := "never"
	if tk.ExpiresAt != nil {
		expires = tk.ExpiresAt.Format(time.RFC3339)
	}
	rules := make([]string, 0, len(tk.Rules))
	for _, r := range tk.Rules {
		rules = append(rules, r.Prefix+":"+strings.Join(r.Allow, "+"))
	}
	return fmt.Sprintf("id=%d name=%s expires_at=%s rules=%s", tk.ID, textValue(tk.Name), expires, textValue(strings.Join(rules, ",")))
}

func cmdACLDelete(ctx context.Context, cio cliIO, args []string) error {
	fs := newFlagSet("acl token delete", "acl token delete ID", aclAbout, cio)
	cf := addCommonFlags(fs, cio.getenv, false)
	pos, err := parseNoCommand(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("acl token delete takes one ID, got %d arguments %q", len(pos), pos)
	}
	id, err := strconv.ParseUint(pos[0], 10, 64)
	if err != nil || id == 0 {
		return usagef("token id %q is not a number in [1, 2^64)", pos[0])
	}
	return withAdminClient(ctx, cio, cf, func(ctx context.Context, c *client.Client) error {
		return c.DeleteACLToken(ctx, id)
	})
}

// withAdminClient checks the common flags, makes the client and runs fn with
// a context the first signal cancels. It serves the commands that need an
// admin token (acl, member): a 401 or 403 says how to pass one.
func withAdminClient(ctx context.Context, cio cliIO, cf *commonFlags, fn func(context.Context, *client.Client) error) error {
	if err := cf.check(); err != nil {
		return err
	}
	c, err := cf.newClient()
	if err != nil {
		return err
	}
	defer c.Close()
	sctx, stop := cancelOnSignal(ctx, cio.signals)
	defer stop()
	if err := fn(sctx, c); err != nil {
		if errors.Is(err, client.ErrUnauthorized) || errors.Is(err, client.ErrForbidden) {
			return fmt.Errorf("%w (pass an admin token with --token-file or %s)", err, envACLToken)
		}
		return orInterrupted(sctx, err)
	}
	return nil
}
