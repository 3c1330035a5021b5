package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("Sensor,Date_Time,Date,Time,Count\n")
	// 2015-01-05 is a Monday; one week of hours, busiest on Monday 13:00.
	for d := range 7 {
		for h := range 24 {
			count := 10 + h
			if d == 0 && h == 13 {
				count = 1000
			}
			fmt.Fprintf(&b, "S,x,2015-01-%02d,%d,%d\n", 5+d, h, count)
		}
	}
	in := filepath.Join(dir, "in.csv")
	out := filepath.Join(dir, "out.csv")
	if err := os.WriteFile(in, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(in, out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(got)), "\n")
	if len(lines) != 1+7*24 {
		t.Fatalf("%d lines, want %d", len(lines), 1+7*24)
	}
	for _, want := range []string{"mon,13,1.0000", "mon,0,0.0100", "sun,23,0.0330"} {
		if !strings.Contains(string(got), want+"\n") {
			t.Errorf("profile lacks %q", want)
		}
	}
	if err := run(filepath.Join(dir, "missing.csv"), out); err == nil {
		t.Error("no error for a missing input")
	}
}
