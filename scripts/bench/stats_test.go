package main

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	ten := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one sample", []time.Duration{7}, 0.99, 7},
		{"median of ten", ten, 0.5, 5},
		{"p99 of ten is the max", ten, 0.99, 10},
		{"p90 of ten", ten, 0.9, 9},
		{"min", ten, 0, 1},
		{"max", ten, 1, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quantile(tt.sorted, tt.q); got != tt.want {
				t.Errorf("quantile(%v, %v) = %v; want %v", tt.sorted, tt.q, got, tt.want)
			}
		})
	}
}

func TestSpreadOf(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		want   spread
	}{
		{"none", nil, spread{}},
		{"odd count takes the middle", []float64{30, 10, 20}, spread{med: 20, lo: 10, hi: 30}},
		{"even count averages the middle two", []float64{4, 1, 3, 2}, spread{med: 2.5, lo: 1, hi: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := spreadOf(tt.values); got != tt.want {
				t.Errorf("spreadOf(%v) = %+v; want %+v", tt.values, got, tt.want)
			}
		})
	}
}

func TestParseInts(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []int
		wantErr bool
	}{
		{"list", "1,16,64,256", []int{1, 16, 64, 256}, false},
		{"spaces and empty fields", " 1, ,64 ", []int{1, 64}, false},
		{"zero", "0", nil, true},
		{"word", "many", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseInts(tt.in)
			if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
				t.Errorf("parseInts(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{"binary only", []string{"--raftlock-bin", "/x"}, false},
		{"no binary", nil, true},
		{"unknown workload", []string{"--raftlock-bin", "/x", "--only", "lock,nope"}, true},
		{"no runs", []string{"--raftlock-bin", "/x", "--runs", "0"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFlags(tt.args, discard{})
			if (err != nil) != tt.wantErr {
				t.Errorf("parseFlags(%q) = %v; want error %v", tt.args, err, tt.wantErr)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestMeasure runs fake workers: every op and error is counted, latencies
// are sorted, and the run lasts about its duration.
func TestMeasure(t *testing.T) {
	var calls atomic.Int64
	okOp := func(ctx context.Context) error { calls.Add(1); return nil }
	failOp := func(ctx context.Context) error { return errors.New("refused") }
	ws := []worker{{op: okOp}, {op: okOp}, {op: failOp}}
	d := 20 * time.Millisecond
	r := measure(context.Background(), ws, d)
	if int64(r.ops) != calls.Load() {
		t.Errorf("measure: ops = %d; want %d (every successful call)", r.ops, calls.Load())
	}
	if r.ops < 2 || r.errs < 1 {
		t.Errorf("measure: ops = %d, errs = %d; want >= 2 and >= 1 (every worker runs at least once)", r.ops, r.errs)
	}
	if r.firstErr == nil || r.firstErr.Error() != "refused" {
		t.Errorf("measure: firstErr = %v; want refused", r.firstErr)
	}
	if !slices.IsSorted(r.lat) || len(r.lat) != r.ops {
		t.Errorf("measure: %d latencies (sorted %v); want %d sorted", len(r.lat), slices.IsSorted(r.lat), r.ops)
	}
	if r.elapsed < d {
		t.Errorf("measure: elapsed %v; want >= %v", r.elapsed, d)
	}
}

func TestFailoverClientAround(t *testing.T) {
	base := time.Unix(1000, 0)
	at := func(s float64) time.Time { return base.Add(time.Duration(s * float64(time.Second))) }
	fc := &failoverClient{}
	fc.add(pairTime{sent: at(0), done: at(1)})
	fc.add(pairTime{sent: at(1.5), done: at(5)}) // sent before the kill, answered after
	fc.add(pairTime{sent: at(5), done: at(6)})
	fc.add(pairTime{sent: at(6), done: at(7)})
	tests := []struct {
		name       string
		kill       time.Time
		wantBefore time.Time
		wantAfter  time.Time
		wantOK     bool
	}{
		{"pair in flight at the kill does not count", at(2), at(1), at(6), true},
		{"no pair after", at(8), at(7), time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, after, ok := fc.around(tt.kill)
			if !before.Equal(tt.wantBefore) || !after.done.Equal(tt.wantAfter) || ok != tt.wantOK {
				t.Errorf("around(%v) = %v, %v, %v; want %v, %v, %v", tt.kill, before, after.done, ok, tt.wantBefore, tt.wantAfter, tt.wantOK)
			}
		})
	}
}

func TestFsyncLatency(t *testing.T) {
	lat, err := fsyncLatency(t.TempDir())
	if err != nil {
		t.Fatalf("fsyncLatency() = %v; want nil", err)
	}
	if len(lat) != fsyncSamples || !slices.IsSorted(lat) || lat[0] <= 0 {
		t.Errorf("fsyncLatency() gave %d samples (sorted %v, first %v); want %d sorted positive", len(lat), slices.IsSorted(lat), lat[0], fsyncSamples)
	}
}

func TestRSSOfStoppedProc(t *testing.T) {
	p := &proc{name: "n1"}
	if _, err := p.rssBytes(); err == nil {
		t.Errorf("rssBytes() of a stopped node = nil error; want one")
	}
}
