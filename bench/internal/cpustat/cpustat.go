// Package cpustat reads the machine's CPU time from /proc/stat (Linux), so
// a benchmark can print how busy the machine was while it measured, and
// how much time the hypervisor stole: on a shared virtual machine, steal
// moves latency tails more than any change in the code.
package cpustat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// Sample is the machine's CPU time so far, in clock ticks, over all cores.
type Sample struct {
	total, idle, steal uint64
}

// Read takes a sample from /proc/stat.
func Read() (Sample, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return Sample{}, err
	}
	return parse(b)
}

// parse reads the "cpu" line of a /proc/stat: user nice system idle iowait
// irq softirq steal, then guest times that user and nice already count.
func parse(b []byte) (Sample, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 9 || string(f[0]) != "cpu" {
		return Sample{}, errors.New("cpustat: no cpu line in /proc/stat")
	}
	var v [8]uint64
	for i := range v {
		n, err := strconv.ParseUint(string(f[i+1]), 10, 64)
		if err != nil {
			return Sample{}, fmt.Errorf("cpustat: field %d of the cpu line: %w", i+1, err)
		}
		v[i] = n
	}
	var s Sample
	for _, n := range v {
		s.total += n
	}
	s.idle, s.steal = v[3]+v[4], v[7]
	return s, nil
}

// Usage is the share of the CPU time between two samples that was busy
// (steal included) and the share the hypervisor stole, each from 0 to 1.
type Usage struct{ Busy, Steal float64 }

// Since returns the usage from prev to s.
func (s Sample) Since(prev Sample) Usage {
	d := float64(s.total - prev.total)
	if d <= 0 {
		return Usage{}
	}
	return Usage{Busy: float64((s.total-s.idle)-(prev.total-prev.idle)) / d, Steal: float64(s.steal-prev.steal) / d}
}

// String formats u as "41 % busy, 0.0 % steal".
func (u Usage) String() string {
	return fmt.Sprintf("%.0f %% busy, %.1f %% steal", 100*u.Busy, 100*u.Steal)
}
