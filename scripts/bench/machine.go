package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// machine is what the numbers depend on besides the code.
type machine struct {
	nproc     int
	cpu       string
	kernel    string
	goVersion string
	// fsync50 and fsync99 are the write+fdatasync latencies of 4 KiB.
	fsync50, fsync99 time.Duration
	fsyncDir         string
}

// readMachine gathers the machine facts and measures fsync in dir.
func readMachine(dir string) (machine, error) {
	m := machine{nproc: runtime.NumCPU(), goVersion: runtime.Version(), fsyncDir: dir}
	m.cpu = cpuModel()
	var u syscall.Utsname
	if err := syscall.Uname(&u); err == nil {
		m.kernel = utsString(u.Release[:])
	}
	lat, err := fsyncLatency(dir)
	if err != nil {
		return m, err
	}
	m.fsync50, m.fsync99 = quantile(lat, 0.5), quantile(lat, 0.99)
	return m, nil
}

func utsString(b []int8) string {
	var sb strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		sb.WriteByte(byte(c))
	}
	return sb.String()
}

// cpuModel is the first "model name" of /proc/cpuinfo, or "unknown".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// fsyncLatency writes fsyncBlockBytes and fdatasyncs, fsyncSamples times, in
// a file in dir (appending, as a log does), and returns the sorted latencies.
func fsyncLatency(dir string) ([]time.Duration, error) {
	path := filepath.Join(dir, "fsync-probe")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, filePerm)
	if err != nil {
		return nil, fmt.Errorf("bench: fsync probe: %w", err)
	}
	block := make([]byte, fsyncBlockBytes)
	lat := make([]time.Duration, 0, fsyncSamples)
	var errs []error
	for range fsyncSamples {
		start := time.Now()
		if _, err := f.Write(block); err != nil {
			errs = append(errs, err)
			break
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			errs = append(errs, err)
			break
		}
		lat = append(lat, time.Since(start))
	}
	errs = append(errs, f.Close(), os.Remove(path))
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("bench: fsync probe: %w", err)
	}
	slices.Sort(lat)
	return lat, nil
}

// loadAverage is the 1-minute load average, -1 when unreadable.
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// String prints the facts as the lines above the table.
func (m machine) String() string {
	return fmt.Sprintf("machine: %d CPUs (%s), Linux %s, %s\nfsync: write+fdatasync of %d B in %s: p50 %.2f ms, p99 %.2f ms (%d rounds)\nload average (1 min) now: %.2f",
		m.nproc, m.cpu, m.kernel, m.goVersion, fsyncBlockBytes, m.fsyncDir, ms(m.fsync50), ms(m.fsync99), fsyncSamples, loadAverage())
}
