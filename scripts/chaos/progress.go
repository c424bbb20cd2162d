package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress prints the harness's lines with the time since the run started.
type progress struct {
	start time.Time

	mu sync.Mutex
	w  io.Writer
}

func newProgress(w io.Writer) *progress { return &progress{start: time.Now(), w: w} }

func (p *progress) elapsed() time.Duration { return time.Since(p.start) }

// printf writes one line.
func (p *progress) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "[%8.1fs] %s\n", p.elapsed().Seconds(), fmt.Sprintf(format, args...))
}
