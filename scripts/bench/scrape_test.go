package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestScrapeMeans reads two scrapes of a histogram and checks the mean of
// the observations in between, per labelled series.
func TestScrapeMeans(t *testing.T) {
	pages := []string{
		"# HELP x\nraftlock_log_save_seconds_bucket{le=\"0.01\"} 3\nraftlock_log_save_seconds_sum 0.003\nraftlock_log_save_seconds_count 3\n" +
			"raftlock_proposal_seconds_sum{command=\"acquire\"} 1\nraftlock_proposal_seconds_count{command=\"acquire\"} 10\nother_metric 5\n",
		"raftlock_log_save_seconds_sum 0.013\nraftlock_log_save_seconds_count 8\n" +
			"raftlock_proposal_seconds_sum{command=\"acquire\"} 1\nraftlock_proposal_seconds_count{command=\"acquire\"} 10\n",
	}
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(pages[min(calls, len(pages)-1)]))
		calls++
	}))
	defer srv.Close()
	fams := metricFamilies["raftlock"]
	before, err := scrapeHist(context.Background(), srv.URL, fams)
	if err != nil {
		t.Fatalf("scrapeHist() = %v; want nil", err)
	}
	if got, want := before["raftlock_proposal_seconds{command=\"acquire\"}"], [2]float64{1, 10}; got != want {
		t.Errorf("scrapeHist() acquire series = %v; want %v", got, want)
	}
	after, err := scrapeHist(context.Background(), srv.URL, fams)
	if err != nil {
		t.Fatalf("scrapeHist() = %v; want nil", err)
	}
	// 5 saves taking 10 ms in all: 2 ms each; no new proposal, so no line for it.
	if got, want := meansSince(before, after), "raftlock_log_save_seconds mean 2.00 ms (5)"; got != want {
		t.Errorf("meansSince() = %q; want %q", got, want)
	}
}
