package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// event is one line of the `go test -json` stream (see `go doc
// test2json`). ImportPath and Action "build-output"/"build-fail" report a
// package that did not compile.
type event struct {
	Time       time.Time
	Action     string
	Package    string
	ImportPath string
	Test       string
	Elapsed    float64
	Output     string
}

// result is what the stream said about one test or subtest.
type result struct {
	Package, Test string
	Action        string // pass, fail or skip; empty while running
	Elapsed       time.Duration
	Output        []string
}

// key returns the name a test is reported under: package, space, test.
func (r *result) key() string { return r.Package + " " + r.Test }

// pkgResult is what the stream said about one package.
type pkgResult struct {
	Path    string
	Action  string // pass, fail or skip (no test files)
	Elapsed time.Duration
	Output  []string // output not attributed to a test (build errors, panics, timeouts)
}

// Summary gathers a `go test -json` stream: every test's outcome and
// output, and every package's outcome and elapsed time.
type Summary struct {
	tests    map[string]*result
	order    []*result
	pkgs     map[string]*pkgResult
	pkgOrder []*pkgResult
	// builds holds the compiler's output per package build (the test
	// binary of a package is "pkg [pkg.test]").
	builds     map[string]*pkgResult
	buildOrder []*pkgResult
	// Progress, when set, gets one line per finished package, as
	// `go test` prints without -json.
	Progress io.Writer
	// Other holds lines of the stream that are not JSON (the go command's
	// own errors), in order.
	Other []string
}

// NewSummary returns an empty Summary.
func NewSummary() *Summary {
	return &Summary{tests: map[string]*result{}, pkgs: map[string]*pkgResult{}, builds: map[string]*pkgResult{}}
}

// Read consumes a `go test -json` stream until EOF.
func (s *Summary) Read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			s.Other = append(s.Other, string(line))
			if s.Progress != nil {
				fmt.Fprintln(s.Progress, string(line))
			}
			continue
		}
		s.add(e)
	}
	return sc.Err()
}

func (s *Summary) pkg(path string) *pkgResult {
	p := s.pkgs[path]
	if p == nil {
		p = &pkgResult{Path: path}
		s.pkgs[path] = p
		s.pkgOrder = append(s.pkgOrder, p)
	}
	return p
}

func (s *Summary) add(e event) {
	if e.Action == "build-output" || e.Action == "build-fail" {
		b := s.builds[e.ImportPath]
		if b == nil {
			b = &pkgResult{Path: e.ImportPath}
			s.builds[e.ImportPath] = b
			s.buildOrder = append(s.buildOrder, b)
		}
		if e.Action == "build-fail" {
			b.Action = "fail"
		} else {
			b.Output = append(b.Output, e.Output)
		}
		return
	}
	if e.Package == "" {
		return
	}
	if e.Test == "" {
		p := s.pkg(e.Package)
		switch e.Action {
		case "output":
			p.Output = append(p.Output, e.Output)
		case "pass", "fail", "skip":
			p.Action = e.Action
			p.Elapsed = seconds(e.Elapsed)
			if s.Progress != nil {
				s.progress(p)
			}
		}
		return
	}
	k := e.Package + " " + e.Test
	t := s.tests[k]
	if t == nil || e.Action == "run" && t.Action != "" { // -count=N runs a test N times
		t = &result{Package: e.Package, Test: e.Test}
		s.tests[k] = t
		s.order = append(s.order, t)
	}
	switch e.Action {
	case "output":
		t.Output = append(t.Output, e.Output)
	case "pass", "fail", "skip":
		t.Action = e.Action
		t.Elapsed = seconds(e.Elapsed)
	}
}

func (s *Summary) progress(p *pkgResult) {
	switch p.Action {
	case "pass":
		fmt.Fprintf(s.Progress, "ok   %s %.1fs\n", p.Path, p.Elapsed.Seconds())
	case "fail":
		fmt.Fprintf(s.Progress, "FAIL %s %.1fs\n", p.Path, p.Elapsed.Seconds())
	}
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// Counts returns how many tests and subtests passed, failed and were
// skipped. A test whose package ended (a panic, a timeout) before the
// test reported an outcome counts as failed.
func (s *Summary) Counts() (passed, failed, skipped int) {
	for _, t := range s.order {
		switch s.outcome(t) {
		case "pass":
			passed++
		case "fail":
			failed++
		case "skip":
			skipped++
		}
	}
	return passed, failed, skipped
}

func (s *Summary) outcome(t *result) string {
	if t.Action != "" {
		return t.Action
	}
	return "fail" // never finished: the package died under it
}

// Failed returns the tests that failed, in the order they started.
func (s *Summary) Failed() []*result {
	var out []*result
	for _, t := range s.order {
		if s.outcome(t) == "fail" {
			out = append(out, t)
		}
	}
	return out
}

// Skipped returns the tests that were skipped, in the order they started.
func (s *Summary) Skipped() []*result {
	var out []*result
	for _, t := range s.order {
		if t.Action == "skip" {
			out = append(out, t)
		}
	}
	return out
}

// FailedPackages returns the packages that failed, with or without a
// failing test (a build error, a timeout or a crash in TestMain has
// none).
func (s *Summary) FailedPackages() []*pkgResult {
	var out []*pkgResult
	for _, p := range s.pkgOrder {
		if p.Action == "fail" {
			out = append(out, p)
		}
	}
	return out
}

// Slowest returns up to n top-level tests, longest first.
func (s *Summary) Slowest(n int) []*result {
	var top []*result
	for _, t := range s.order {
		if !strings.Contains(t.Test, "/") && t.Action != "" {
			top = append(top, t)
		}
	}
	sort.SliceStable(top, func(i, j int) bool { return top[i].Elapsed > top[j].Elapsed })
	if len(top) > n {
		top = top[:n]
	}
	return top
}

// SlowestPackages returns up to n packages, longest first.
func (s *Summary) SlowestPackages(n int) []*pkgResult {
	ps := append([]*pkgResult(nil), s.pkgOrder...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Elapsed > ps[j].Elapsed })
	if len(ps) > n {
		ps = ps[:n]
	}
	return ps
}

// SkipReason returns the message a skipped test logged: its output
// without the "=== RUN" and "--- SKIP" framing lines, on one line.
func SkipReason(t *result) string {
	var parts []string
	for _, l := range t.Output {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- ") {
			continue
		}
		parts = append(parts, l)
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " ")
}

// Report writes the failing tests' output, the failed packages' own
// output, every skipped test with its reason, the slowest tests and
// packages (when slowest > 0), and a final line
// "passed N, failed N, skipped N".
func (s *Summary) Report(w io.Writer, slowest int) {
	failed := s.Failed()
	for _, t := range failed {
		fmt.Fprintf(w, "\n--- FAIL: %s %s (%.1fs)\n", t.Package, t.Test, t.Elapsed.Seconds())
		for _, l := range t.Output {
			io.WriteString(w, l)
		}
	}
	for _, b := range s.buildOrder {
		if b.Action != "fail" {
			continue
		}
		fmt.Fprintf(w, "\n--- FAIL: build of %s\n", b.Path)
		for _, l := range b.Output {
			io.WriteString(w, l)
		}
	}
	for _, p := range s.FailedPackages() {
		if len(p.Output) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n--- FAIL: package %s\n", p.Path)
		for _, l := range p.Output {
			io.WriteString(w, l)
		}
	}
	if slowest > 0 && len(s.order) > 0 {
		fmt.Fprintf(w, "\nslowest packages:\n")
		for _, p := range s.SlowestPackages(slowest) {
			fmt.Fprintf(w, "  %6.1fs  %s\n", p.Elapsed.Seconds(), p.Path)
		}
		fmt.Fprintf(w, "slowest tests:\n")
		for _, t := range s.Slowest(slowest) {
			fmt.Fprintf(w, "  %6.1fs  %s\n", t.Elapsed.Seconds(), t.key())
		}
	}
	skipped := s.Skipped()
	if len(skipped) > 0 {
		fmt.Fprintf(w, "\nskipped:\n")
		for _, t := range skipped {
			fmt.Fprintf(w, "  %s: %s\n", t.key(), SkipReason(t))
		}
	}
	var broken []string
	for _, p := range s.FailedPackages() {
		broken = append(broken, p.Path)
	}
	p, f, sk := s.Counts()
	fmt.Fprintf(w, "\npassed %d, failed %d, skipped %d (tests and subtests)\n", p, f, sk)
	if len(broken) > 0 {
		fmt.Fprintf(w, "failed packages: %s\n", strings.Join(broken, ", "))
	}
}

// OK reports whether the stream shows no failing test and no failing
// package.
func (s *Summary) OK() bool {
	_, f, _ := s.Counts()
	return f == 0 && len(s.FailedPackages()) == 0
}
