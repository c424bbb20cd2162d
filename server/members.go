package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// PathMember is the peer-listener endpoint where a node tells its name and
// advertised client URL, so /v1/cluster can list every member's client URL
// (and clients discover endpoints) without a flag naming them all.
const PathMember = "/raftlock/v1/member"

// memberInfo is the body of GET PathMember.
type memberInfo struct {
	Name      string `json:"name"`
	ClientURL string `json:"client_url"`
}

// memberURLs learns the other members' client URLs from their peer
// listeners and keeps each for MemberURLTTL (a restarted member may
// advertise another).
type memberURLs struct {
	hc *http.Client

	mu sync.Mutex
	// known maps a member name to its client URL and when it was learned.
	known map[string]learnedURL
}

type learnedURL struct {
	url string
	at  time.Time
}

func newMemberURLs(tr http.RoundTripper) *memberURLs {
	return &memberURLs{hc: &http.Client{Transport: tr, Timeout: MemberFetchTimeout}, known: make(map[string]learnedURL)}
}

// lookup returns the client URLs it knows of members, asking those it does
// not know (or knew too long ago) in parallel, each bounded by
// MemberFetchTimeout; a member that does not answer is left out.
func (mu *memberURLs) lookup(ctx context.Context, members []Member, self string) map[string]string {
	out := make(map[string]string, len(members))
	var stale []Member
	mu.mu.Lock()
	for _, m := range members {
		if m.Name == self {
			continue
		}
		if l, ok := mu.known[m.Name]; ok && time.Since(l.at) < MemberURLTTL {
			out[m.Name] = l.url
		} else {
			stale = append(stale, m)
		}
	}
	mu.mu.Unlock()
	var wg sync.WaitGroup
	var outMu sync.Mutex
	for _, m := range stale {
		wg.Add(1)
		// Exits when the fetch answers or times out.
		go func() {
			defer wg.Done()
			info, err := mu.fetch(ctx, m)
			if err != nil || info.Name != m.Name {
				return
			}
			mu.mu.Lock()
			mu.known[m.Name] = learnedURL{url: info.ClientURL, at: time.Now()}
			mu.mu.Unlock()
			outMu.Lock()
			out[m.Name] = info.ClientURL
			outMu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func (mu *memberURLs) fetch(ctx context.Context, m Member) (memberInfo, error) {
	var info memberInfo
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.PeerURL+PathMember, nil)
	if err != nil {
		return info, err
	}
	resp, err := mu.hc.Do(req)
	if err != nil {
		return info, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return info, fmt.Errorf("member %s: status %d", m.Name, resp.StatusCode)
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, MemberInfoBytesMax)).Decode(&info)
	return info, err
}

// serveMember answers GET PathMember on the peer listener.
func (n *Node) serveMember(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	writeJSON(w, http.StatusOK, memberInfo{Name: n.self.Name, ClientURL: n.cfg.AdvertiseClientURL})
}
