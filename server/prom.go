package server

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Thin wrappers over prometheus/client_golang, so metrics.go reads as a list
// of families. Every family lives in the node's own prometheus.Registry: no
// package-level registry, as several nodes share a test process.

// counterVec is a counter family with labels.
type counterVec struct{ v *prometheus.CounterVec }

func newCounterVec(name, help string, labels ...string) *counterVec {
	return &counterVec{v: prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)}
}

func (c *counterVec) inc(values ...string) { c.v.WithLabelValues(values...).Inc() }

// histogramVec is a histogram family with labels.
type histogramVec struct{ v *prometheus.HistogramVec }

func newHistogramVec(name, help string, buckets []float64, labels ...string) *histogramVec {
	return &histogramVec{v: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)}
}

func (h *histogramVec) observe(v float64, values ...string) {
	h.v.WithLabelValues(values...).Observe(v)
}

// gaugeFunc is a gauge read when scraped.
func gaugeFunc(name, help string, f func() float64) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
}

// promSample is one sample of a funcFamily: its label values, in the
// family's label order, and its value.
type promSample struct {
	labels []string
	value  float64
}

// funcFamily is a gauge or counter family with labels whose samples are
// computed when scraped (per role, per peer).
type funcFamily struct {
	desc    *prometheus.Desc
	typ     prometheus.ValueType
	samples func() []promSample
}

func newFuncFamily(name, help string, typ prometheus.ValueType, labels []string, samples func() []promSample) *funcFamily {
	return &funcFamily{desc: prometheus.NewDesc(name, help, labels, nil), typ: typ, samples: samples}
}

// Describe implements prometheus.Collector.
func (f *funcFamily) Describe(ch chan<- *prometheus.Desc) { ch <- f.desc }

// Collect implements prometheus.Collector.
func (f *funcFamily) Collect(ch chan<- prometheus.Metric) {
	for _, s := range f.samples() {
		m, err := prometheus.NewConstMetric(f.desc, f.typ, s.value, s.labels...)
		if err != nil {
			// Label counts are fixed by this file's callers: a mismatch is a bug.
			ch <- prometheus.NewInvalidMetric(f.desc, err)
			continue
		}
		ch <- m
	}
}
