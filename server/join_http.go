package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/raftlock/raftlock/client/wire"
)

// The join requests of a new node (add itself, promote itself) go to the
// cluster's client API over plain HTTP with the wire types. The server does
// not use the SDK for them: the SDK's own tests run servers, and a server
// importing the SDK would make that an import cycle.

// joinCaller sends the join requests to the client URLs of --join.
type joinCaller struct {
	hc        *http.Client
	endpoints []string
	// token is the bootstrap ACL secret ("" without access control): with
	// access control on, a membership change needs admin, and every node
	// holds the bootstrap token.
	token string
}

// newJoinCaller returns a caller of endpoints; tlsCfg (nil: the defaults)
// is the client TLS of https endpoints.
func newJoinCaller(endpoints []string, token string, tlsCfg *tls.Config) *joinCaller {
	hc := &http.Client{Timeout: JoinRequestTimeout}
	if tlsCfg != nil {
		hc.Transport = &http.Transport{TLSClientConfig: tlsCfg, ForceAttemptHTTP2: true}
	}
	return &joinCaller{hc: hc, endpoints: endpoints, token: token}
}

// joinTLS is the client TLS of the join requests when peer TLS is on: as
// when a member forwards a request to another's client URL, the node
// presents its peer certificate and checks the member's against the peer
// trusted CA (for an IP address, the certificate must name one of the join
// URLs' hosts). Without peer TLS, https endpoints are checked against the
// system roots.
func joinTLS(cfg Config) (*tls.Config, error) {
	if !cfg.TLS() {
		return nil, nil
	}
	cert := &certFiles{what: "peer certificate", certFile: cfg.PeerCertFile, keyFile: cfg.PeerKeyFile}
	ca := &caFile{what: "peer trusted CA", file: cfg.PeerTrustedCAFile}
	for _, r := range []reloadable{cert, ca} {
		if _, err := r.load(); err != nil {
			return nil, fmt.Errorf("server: join TLS: %w", err)
		}
	}
	var hosts []string
	for _, ep := range cfg.Join {
		if u, err := url.Parse(ep); err == nil {
			hosts = append(hosts, u.Hostname())
		}
	}
	return peerDialTLS(cert, ca, func() []string { return hosts }), nil
}

func (jc *joinCaller) close() { jc.hc.CloseIdleConnections() }

// apiError is an error answer of the client API.
type apiError struct {
	status int
	detail wire.ErrorDetail
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (%d): %s", e.detail.Code, e.status, e.detail.Message)
}

// retryable reports whether a join request may be sent again: the cluster
// has no leader right now or the request was not answered.
func retryable(err error) bool {
	var ae *apiError
	if !errors.As(err, &ae) {
		return true // not answered: a network error
	}
	switch ae.detail.Code {
	case wire.CodeNoLeader, wire.CodeTimeout, wire.CodeTooManyRequests:
		return true
	}
	return false
}

// call sends body to path on each endpoint in turn, again after a pause of
// JoinRetryPause while the answers are retryable, until ctx ends, and
// decodes a 2xx answer into out. key is the Idempotency-Key of every
// attempt.
func (jc *joinCaller) call(ctx context.Context, path, key string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("join: encode %s: %w", path, err)
	}
	var last error
	for i := 0; ; i++ {
		ep := jc.endpoints[i%len(jc.endpoints)]
		last = jc.attempt(ctx, ep+path, key, b, out)
		if last == nil || !retryable(last) {
			return last
		}
		if err := sleepCtx(ctx, JoinRetryPause); err != nil {
			return fmt.Errorf("%w (last answer: %v)", err, last)
		}
	}
}

func (jc *joinCaller) attempt(ctx context.Context, rawURL, key string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return &apiError{status: 0, detail: wire.ErrorDetail{Code: wire.CodeInvalidArgument, Message: err.Error()}}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(wire.HeaderIdempotencyKey, key)
	if jc.token != "" {
		req.Header.Set(wire.HeaderAuthorization, wire.BearerPrefix+jc.token)
	}
	resp, err := jc.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, JoinAnswerBytesMax+1))
	if err != nil {
		return err
	}
	if len(b) > JoinAnswerBytesMax {
		return fmt.Errorf("answer of %s is over %d bytes", rawURL, JoinAnswerBytesMax)
	}
	if resp.StatusCode/100 != 2 {
		var we wire.Error
		if json.Unmarshal(b, &we) != nil || we.Error.Code == "" {
			return fmt.Errorf("%s: status %d", rawURL, resp.StatusCode)
		}
		return &apiError{status: resp.StatusCode, detail: we.Error}
	}
	if err := json.Unmarshal(b, out); err != nil {
		return &apiError{status: resp.StatusCode, detail: wire.ErrorDetail{Code: wire.CodeInternal, Message: fmt.Sprintf("decode answer of %s: %v", rawURL, err)}}
	}
	return nil
}

// addSelf asks the cluster to add this node as a learner.
func (jc *joinCaller) addSelf(ctx context.Context, cfg Config) (wire.MemberAdded, error) {
	var out wire.MemberAdded
	req := wire.MemberRequest{Name: cfg.Name, PeerURL: cfg.AdvertisePeerURL, ClientURL: cfg.AdvertiseClientURL}
	err := jc.call(ctx, PathClusterMembers, "join-"+cfg.Name+"-"+randomKey(), req, &out)
	return out, err
}

// promoteSelf asks the cluster to make learner name a voter.
func (jc *joinCaller) promote(ctx context.Context, name string) error {
	var out wire.MemberChanged
	path := "/v1/cluster/members/" + url.PathEscape(name) + "/promote"
	return jc.call(ctx, path, "promote-"+name+"-"+randomKey(), struct{}{}, &out)
}

// randomKey is a fresh suffix for an Idempotency-Key.
func randomKey() string {
	return fmt.Sprintf("%x-%x", randomUint64(), time.Now().UnixNano())
}
