package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// metricFamilies are, per system, the latency histograms whose mean over a
// workload the report prints beside it: where the time of one commit goes.
var metricFamilies = map[string][]string{
	"raftlock": {"raftlock_log_save_seconds", "raftlock_proposal_seconds"},
	"etcd":     {"etcd_disk_wal_fsync_duration_seconds", "etcd_disk_backend_commit_duration_seconds"},
}

// histSums maps a histogram series ("family{labels}") to its sum and count.
type histSums map[string][2]float64

// scrapeHist reads the _sum and _count lines of families from url
// (Prometheus text format).
func scrapeHist(ctx context.Context, url string, families []string) (histSums, error) {
	ctx, cancel := context.WithTimeout(ctx, scrapeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("bench: GET %s: %s", url, resp.Status)
	}
	out := histSums{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, metricsLineBytesMax)
	for sc.Scan() {
		line := sc.Text()
		for _, f := range families {
			if !strings.HasPrefix(line, f) {
				continue
			}
			name, value, ok := strings.Cut(line, " ")
			if !ok {
				continue
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil {
				continue
			}
			series, labels, _ := strings.Cut(name, "{")
			key := strings.TrimSuffix(strings.TrimSuffix(series, "_sum"), "_count")
			if labels != "" {
				key += "{" + labels
			}
			s := out[key]
			switch {
			case strings.HasSuffix(series, "_sum"):
				s[0] = v
			case strings.HasSuffix(series, "_count"):
				s[1] = v
			default:
				continue
			}
			out[key] = s
		}
	}
	return out, sc.Err()
}

// meansSince prints, per series, the mean of the observations between
// before and after, and how many there were.
func meansSince(before, after histSums) string {
	var keys []string
	for k := range after {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		a, b := after[k], before[k]
		n := a[1] - b[1]
		if n <= 0 {
			continue
		}
		mean := time.Duration((a[0] - b[0]) / n * float64(time.Second))
		parts = append(parts, fmt.Sprintf("%s mean %.2f ms (%.0f)", k, ms(mean), n))
	}
	return strings.Join(parts, "; ")
}
