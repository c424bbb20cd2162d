package server

import (
	"bufio"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// A small Prometheus registry writing the text exposition format (version
// 0.0.4). The module's go.sum does not carry the dependencies of
// prometheus/client_golang, so the node writes the format itself; it needs
// only counters, gauges and histograms, each family owned by one node.

// promFamily is one metric family.
type promFamily interface {
	// write appends the family's HELP, TYPE and samples.
	write(w *bufio.Writer)
}

// promRegistry is one node's metrics, written in registration order.
type promRegistry struct {
	families []promFamily
}

func (r *promRegistry) register(fs ...promFamily) { r.families = append(r.families, fs...) }

// writeTo writes every family in the text format.
func (r *promRegistry) writeTo(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, f := range r.families {
		f.write(bw)
	}
	return bw.Flush()
}

func writeHeader(w *bufio.Writer, name, help, typ string) {
	w.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + typ + "\n")
}

// writeSample writes name{labels} value; labels alternate name, value.
func writeSample(w *bufio.Writer, name string, labels []string, v float64) {
	w.WriteString(name)
	if len(labels) > 0 {
		w.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(labels[i] + `="` + escapeLabel(labels[i+1]) + `"`)
		}
		w.WriteByte('}')
	}
	w.WriteByte(' ')
	w.WriteString(formatFloat(v))
	w.WriteByte('\n')
}

func escapeLabel(s string) string {
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// counterVec is a counter with labels.
type counterVec struct {
	name, help string
	labels     []string

	mu     sync.Mutex
	values map[string]float64 // by label values joined with \x00
}

func newCounterVec(name, help string, labels ...string) *counterVec {
	return &counterVec{name: name, help: help, labels: labels, values: make(map[string]float64)}
}

// add adds v to the counter of the label values (one per label).
func (c *counterVec) add(v float64, values ...string) {
	assertf(len(values) == len(c.labels), "%s: %d label values for %d labels", c.name, len(values), len(c.labels))
	k := strings.Join(values, "\x00")
	c.mu.Lock()
	c.values[k] += v
	c.mu.Unlock()
}

// inc adds one.
func (c *counterVec) inc(values ...string) { c.add(1, values...) }

func (c *counterVec) write(w *bufio.Writer) {
	writeHeader(w, c.name, c.help, "counter")
	c.mu.Lock()
	keys := make([]string, 0, len(c.values))
	for k := range c.values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		writeSample(w, c.name, pairs(c.labels, k), c.values[k])
	}
	c.mu.Unlock()
}

// pairs interleaves label names with the values joined in k.
func pairs(names []string, k string) []string {
	if len(names) == 0 {
		return nil
	}
	vals := strings.Split(k, "\x00")
	out := make([]string, 0, 2*len(names))
	for i, n := range names {
		out = append(out, n, vals[i])
	}
	return out
}

// histogramVec is a histogram with labels.
type histogramVec struct {
	name, help string
	labels     []string
	buckets    []float64 // upper bounds, increasing

	mu   sync.Mutex
	hist map[string]*histogram
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	count  uint64
	sum    float64
}

func newHistogramVec(name, help string, buckets []float64, labels ...string) *histogramVec {
	return &histogramVec{name: name, help: help, labels: labels, buckets: buckets, hist: make(map[string]*histogram)}
}

// observe records v under the label values.
func (h *histogramVec) observe(v float64, values ...string) {
	assertf(len(values) == len(h.labels), "%s: %d label values for %d labels", h.name, len(values), len(h.labels))
	k := strings.Join(values, "\x00")
	i := sort.SearchFloat64s(h.buckets, v)
	h.mu.Lock()
	defer h.mu.Unlock()
	x := h.hist[k]
	if x == nil {
		x = &histogram{counts: make([]uint64, len(h.buckets))}
		h.hist[k] = x
	}
	if i < len(h.buckets) {
		x.counts[i]++
	}
	x.count++
	x.sum += v
}

func (h *histogramVec) write(w *bufio.Writer) {
	writeHeader(w, h.name, h.help, "histogram")
	h.mu.Lock()
	defer h.mu.Unlock()
	keys := make([]string, 0, len(h.hist))
	for k := range h.hist {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		x := h.hist[k]
		base := pairs(h.labels, k)
		var cum uint64
		for i, ub := range h.buckets {
			cum += x.counts[i]
			writeSample(w, h.name+"_bucket", append(append([]string{}, base...), "le", formatFloat(ub)), float64(cum))
		}
		writeSample(w, h.name+"_bucket", append(append([]string{}, base...), "le", "+Inf"), float64(x.count))
		writeSample(w, h.name+"_sum", base, x.sum)
		writeSample(w, h.name+"_count", base, float64(x.count))
	}
}

// promSample is one sample a funcFamily computes at scrape time.
type promSample struct {
	labels []string // name, value, ...
	value  float64
}

// funcFamily is a gauge or counter family computed when scraped.
type funcFamily struct {
	name, help, typ string
	samples         func() []promSample
}

func gaugeFunc(name, help string, f func() float64) *funcFamily {
	return &funcFamily{name: name, help: help, typ: "gauge", samples: func() []promSample { return []promSample{{value: f()}} }}
}

func (f *funcFamily) write(w *bufio.Writer) {
	writeHeader(w, f.name, f.help, f.typ)
	for _, s := range f.samples() {
		writeSample(w, f.name, s.labels, s.value)
	}
}

// exponentialBuckets returns n upper bounds from start, each factor times
// the previous.
func exponentialBuckets(start, factor float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = start
		start *= factor
	}
	return out
}
