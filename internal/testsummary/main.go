// Command testsummary reads the `go test -json` stream on standard input
// and prints what test.sh shows at the end of its test step: a line per
// finished package while the tests run, then each failing test's output,
// each skipped test with the reason it logged, the slowest tests and
// packages, and "passed N, failed N, skipped N". It exits 1 when a test
// or a package failed.
//
//	go test -json ./... 2>&1 | go run ./internal/testsummary
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	slowest := flag.Int("slowest", 10, "list the `n` slowest packages and tests (0: none)")
	flag.Parse()
	s := NewSummary()
	s.Progress = os.Stdout
	if err := s.Read(os.Stdin); err != nil {
		fmt.Fprintf(os.Stderr, "testsummary: read: %v\n", err)
		os.Exit(2)
	}
	s.Report(os.Stdout, *slowest)
	if !s.OK() {
		os.Exit(1)
	}
}
