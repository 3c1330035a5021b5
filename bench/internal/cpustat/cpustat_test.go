package cpustat

import (
	"math"
	"testing"
)

func TestParseAndSince(t *testing.T) {
	a, err := parse([]byte("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := parse([]byte("cpu  400 0 100 1200 100 0 50 100 0 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	// Between the two: 300+50+50+100 busy (steal included), 400+50 idle.
	u := b.Since(a)
	if math.Abs(u.Busy-500.0/950) > 1e-9 || math.Abs(u.Steal-100.0/950) > 1e-9 {
		t.Fatalf("usage %+v", u)
	}
	if got := u.String(); got != "53 % busy, 10.5 % steal" {
		t.Fatalf("String() = %q", got)
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{"", "intr 1 2 3\n", "cpu 1 2 3\n", "cpu 1 2 3 4 5 6 7 x 9\n"} {
		if _, err := parse([]byte(in)); err == nil {
			t.Errorf("parse(%q) accepted", in)
		}
	}
}
