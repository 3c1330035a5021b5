package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// readFixture reads testdata/stream.jsonl: one package with a passing
// test, a failing subtest and a skip; one that does not build; one whose
// test timed out; one without tests; and a line from the go command.
func readFixture(t *testing.T) *Summary {
	t.Helper()
	f, err := os.Open("testdata/stream.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := NewSummary()
	if err := s.Read(f); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCounts(t *testing.T) {
	s := readFixture(t)
	// Passed: TestPass, TestTable/one. Failed: TestTable/two, TestTable,
	// TestHangs (never finished). Skipped: TestMQTT.
	p, f, sk := s.Counts()
	if p != 2 || f != 3 || sk != 1 {
		t.Errorf("counts = passed %d, failed %d, skipped %d; want 2, 3, 1", p, f, sk)
	}
	if s.OK() {
		t.Error("OK() = true for a stream with failures")
	}
	var failed []string
	for _, p := range s.FailedPackages() {
		failed = append(failed, p.Path)
	}
	want := "example.com/a|example.com/b|example.com/c"
	if got := strings.Join(failed, "|"); got != want {
		t.Errorf("failed packages = %s, want %s", got, want)
	}
	if len(s.Other) != 1 || !strings.HasPrefix(s.Other[0], "go: downloading") {
		t.Errorf("non-JSON lines = %q, want the go command's line", s.Other)
	}
}

func TestSkipReason(t *testing.T) {
	s := readFixture(t)
	sk := s.Skipped()
	if len(sk) != 1 {
		t.Fatalf("skipped = %d tests, want 1", len(sk))
	}
	want := "mqtt_test.go:27: no MQTT broker on 127.0.0.1:1883 (install and start mosquitto; CI does)"
	if got := SkipReason(sk[0]); got != want {
		t.Errorf("reason = %q, want %q", got, want)
	}
	if got := SkipReason(&result{Output: []string{"=== RUN   TestX\n", "--- SKIP: TestX (0.00s)\n"}}); got != "(no reason given)" {
		t.Errorf("reason without a message = %q", got)
	}
}

func TestReport(t *testing.T) {
	s := readFixture(t)
	var b bytes.Buffer
	s.Report(&b, 2)
	out := b.String()
	for _, want := range []string{
		"--- FAIL: example.com/a TestTable/two (0.2s)\n    a_test.go:40: got 3, want 4\n",
		"--- FAIL: example.com/c TestHangs (0.0s)\n=== RUN   TestHangs\n",
		"--- FAIL: build of example.com/b [example.com/b.test]\n# example.com/b [example.com/b.test]\nb/b_test.go:3:1: syntax error\n",
		"panic: test timed out after 10m0s\n",
		"slowest packages:\n   600.1s  example.com/c\n     2.2s  example.com/a\n",
		"slowest tests:\n     1.5s  example.com/a TestPass\n     0.3s  example.com/a TestTable\n",
		"skipped:\n  example.com/a TestMQTT: mqtt_test.go:27: no MQTT broker",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q; report:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(out, "\npassed 2, failed 3, skipped 1 (tests and subtests)\nfailed packages: example.com/a, example.com/b, example.com/c\n") {
		t.Errorf("report ends with:\n%s", out[max(0, len(out)-200):])
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	s := NewSummary()
	s.Progress = &b
	in := `{"Action":"pass","Package":"example.com/x","Elapsed":3.04}
{"Action":"fail","Package":"example.com/y","Elapsed":1}
{"Action":"skip","Package":"example.com/z","Elapsed":0}
not json
`
	if err := s.Read(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	want := "ok   example.com/x 3.0s\nFAIL example.com/y 1.0s\nnot json\n"
	if b.String() != want {
		t.Errorf("progress = %q, want %q", b.String(), want)
	}
	if s.OK() {
		t.Error("OK() = true although example.com/y failed")
	}
}

// TestCountN checks that a test run several times (go test -count=3) is
// counted each time, with each run's own output.
func TestCountN(t *testing.T) {
	var in strings.Builder
	for i, action := range []string{"pass", "skip", "fail"} {
		in.WriteString(`{"Action":"run","Package":"p","Test":"TestX"}` + "\n")
		in.WriteString(`{"Action":"output","Package":"p","Test":"TestX","Output":"run ` + string(rune('1'+i)) + `\n"}` + "\n")
		in.WriteString(`{"Action":"` + action + `","Package":"p","Test":"TestX"}` + "\n")
	}
	s := NewSummary()
	if err := s.Read(strings.NewReader(in.String())); err != nil {
		t.Fatal(err)
	}
	if p, f, sk := s.Counts(); p != 1 || f != 1 || sk != 1 {
		t.Errorf("counts = passed %d, failed %d, skipped %d; want 1, 1, 1", p, f, sk)
	}
	if sk := s.Skipped(); len(sk) != 1 || SkipReason(sk[0]) != "run 2" {
		t.Errorf("skipped runs = %v, want one with reason %q", sk, "run 2")
	}
}
