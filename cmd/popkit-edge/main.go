// Command popkit-edge is the slim build of the on-site edge agent: the
// same agent as "popkit edge" without the control plane, for small devices
// (a Raspberry Pi). test.sh keeps it under 15 MB stripped for linux/arm64
// and linux/arm.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/popkit/popkit/edge/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := cli.NewCommand("popkit-edge")
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "popkit-edge: %v\n", err)
		stop()
		os.Exit(1)
	}
}
