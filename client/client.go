package client

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Config configures a Client.
type Config struct {
	// Endpoints are the client URLs of the cluster's nodes
	// ("http://10.0.0.1:7070"); at least one, at most EndpointsMax.
	Endpoints []string
	// TLS, when set, is used for https endpoints.
	TLS *tls.Config
	// CAFile is a PEM file of the CAs that sign the nodes' https
	// certificates; it replaces TLS.RootCAs (empty: TLS's roots, else the
	// system's).
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and its key (both or
	// neither), presented to nodes that require one (--client-ca-file).
	CertFile string
	KeyFile  string
	// Timeout limits one HTTP attempt; 0 means TimeoutDefault. A request that
	// waits on the server gets its wait on top, and event streams have none.
	Timeout time.Duration
	// Logger receives debug logs of retries and failovers; nil means none.
	Logger *zap.Logger
	// Token is the secret of an ACL token, sent as "Authorization: Bearer"
	// on every request; empty sends none (a cluster without access control).
	Token string
}

// Client talks to a raftlock cluster over its HTTP API. It fails over between
// endpoints, prefers the leader once a node names it (X-Raftlock-Leader),
// retries what is safe to retry with capped exponential backoff and jitter,
// and sends every mutating request with an Idempotency-Key that stays the
// same across the retries of one call. A Client is safe for concurrent use.
type Client struct {
	hc      *http.Client
	tr      *http.Transport
	timeout time.Duration
	log     *zap.Logger
	retry   retryPolicy

	mu sync.Mutex
	// endpoints are the known base URLs, configured ones first.
	// Invariant: 1 <= len(endpoints) <= EndpointsMax; no duplicates.
	endpoints []string
	// cur is the endpoint the next request tries first.
	// Invariant: 0 <= cur < len(endpoints).
	cur int
}

// New returns a Client for cfg. It does not contact the cluster.
func New(cfg Config) (*Client, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, fmt.Errorf("client: no endpoints: %w", ErrInvalidArgument)
	}
	if n := len(cfg.Endpoints); n > EndpointsMax {
		return nil, fmt.Errorf("client: %d endpoints, max %d: %w", n, EndpointsMax, ErrInvalidArgument)
	}
	eps := make([]string, 0, len(cfg.Endpoints))
	for _, raw := range cfg.Endpoints {
		ep, err := normalizeEndpoint(raw)
		if err != nil {
			return nil, err
		}
		if !contains(eps, ep) {
			eps = append(eps, ep)
		}
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("client: timeout %v is negative: %w", cfg.Timeout, ErrInvalidArgument)
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = TimeoutDefault
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	tlsCfg, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		TLSClientConfig:       tlsCfg,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   IdleConnsPerHostMax,
		IdleConnTimeout:       IdleConnAgeMax,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: 0, // waits and streams bound themselves by ctx
	}
	rt, err := withToken(tr, cfg.Token)
	if err != nil {
		return nil, err
	}
	return &Client{
		// No Timeout here: every attempt carries its own deadline, so a
		// five-minute wait and an endless event stream share one client.
		hc:        &http.Client{Transport: rt},
		tr:        tr,
		timeout:   timeout,
		log:       log.With(zap.String("component", "raftlock_client")),
		retry:     defaultRetryPolicy(),
		endpoints: eps,
	}, nil
}

// Close closes the Client's idle connections. Calls in flight finish; the
// Client stays usable.
func (c *Client) Close() error {
	c.tr.CloseIdleConnections()
	return nil
}

// Endpoints returns the endpoints the Client knows, the preferred one first.
func (c *Client) Endpoints() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.endpoints))
	for i := range c.endpoints {
		out = append(out, c.endpoints[(c.cur+i)%len(c.endpoints)])
	}
	return out
}

// normalizeEndpoint checks that raw is an http(s) base URL and returns it
// without a trailing slash.
func normalizeEndpoint(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("client: endpoint %q: %v: %w", raw, err, ErrInvalidArgument)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("client: endpoint %q: scheme %q, want http or https: %w", raw, u.Scheme, ErrInvalidArgument)
	}
	if u.Host == "" {
		return "", fmt.Errorf("client: endpoint %q has no host: %w", raw, ErrInvalidArgument)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("client: endpoint %q has a query or fragment: %w", raw, ErrInvalidArgument)
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// pick returns the endpoint the attempt-th try of a call goes to. Attempt 0
// goes to the preferred endpoint; a retry goes to the next one.
func (c *Client) pick() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.endpoints[c.cur]
}

// endpointCount is how many endpoints the Client knows.
func (c *Client) endpointCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.endpoints)
}

// failed moves the preference off ep (if it is still the preferred one) to
// the next endpoint, so a dead node is not asked first again.
func (c *Client) failed(ep string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.endpoints[c.cur] == ep {
		c.cur = (c.cur + 1) % len(c.endpoints)
	}
}

// learnLeader makes the leader named by an X-Raftlock-Leader header the
// preferred endpoint. The header must be the leader's client URL; a value
// that is not an http(s) URL is ignored. A new URL is added while there is
// room under EndpointsMax.
func (c *Client) learnLeader(header string) {
	if header == "" {
		return
	}
	ep, err := normalizeEndpoint(header)
	if err != nil {
		c.log.Debug("leader header ignored", zap.String("leader", header), zap.Error(err))
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, v := range c.endpoints {
		if v == ep {
			c.cur = i
			return
		}
	}
	if len(c.endpoints) >= EndpointsMax {
		return
	}
	c.endpoints = append(c.endpoints, ep)
	c.cur = len(c.endpoints) - 1
}
