// Command popkit runs pop-up retail as a production channel: the control
// plane (serve), its database migrations, API tokens, and a seeded demo.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd(os.Stdout, os.Stderr).ExecuteContext(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "popkit: %v\n", err)
		stop()
		os.Exit(1)
	}
}
