// Package cli is the edge agent's command line, shared by "popkit edge" and
// the slim popkit-edge binary: configuration from a YAML file, POPKIT_EDGE_*
// variables and flags, --check-config, and the agent's run.
package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/popkit/popkit/edge"
	"github.com/popkit/popkit/internal/clilog"
	"github.com/spf13/cobra"
)

// loadEdgeConfig reads the YAML file (when given) over the defaults, then
// applies every POPKIT_EDGE_* environment variable, then every flag that
// was set on the command line.
func loadEdgeConfig(cmd *cobra.Command, path string, flags map[string]*string) (edge.Config, error) {
	c := edge.DefaultConfig()
	if path != "" {
		var err error
		if c, err = edge.LoadConfig(path); err != nil {
			return c, err
		}
	}
	for _, k := range edge.ConfigKeys {
		if v, ok := os.LookupEnv(k.Env); ok && v != "" {
			if err := k.Set(&c, v); err != nil {
				return c, fmt.Errorf("%s=%q: %w", k.Env, v, err)
			}
		}
	}
	for _, k := range edge.ConfigKeys {
		if cmd.Flags().Changed(k.Flag) {
			if err := k.Set(&c, *flags[k.Flag]); err != nil {
				return c, fmt.Errorf("--%s %q: %w", k.Flag, *flags[k.Flag], err)
			}
		}
	}
	return c, nil
}

// NewCommand returns the edge agent's command. prog is how a user invokes
// it ("popkit edge" or "popkit-edge"); its last word is the command's name.
func NewCommand(prog string) *cobra.Command {
	var configPath string
	var check bool
	flags := map[string]*string{}
	cmd := &cobra.Command{
		Use:   prog[strings.LastIndex(prog, " ")+1:],
		Short: "Run the on-site edge agent: inputs, anonymiser, rollups, durable outbox, uplink",
		Long: prog + ` runs the agent of one pop-up. Sensors post readings to
POST /v1/readings on the local listener (a JSON array or NDJSON) or publish
them over MQTT (QoS 1); the agent answers or acks only once they are durable
in its outbox (SQLite, fsync'd group commits). Presence identifiers are
HMAC'd on arrival under a key that lives for one epoch. Per-minute rollups
are uplinked to the control plane in gzip'd batches, with backoff while the
link is down; /metrics serves Prometheus metrics.

The configuration is a YAML file (--config); every key can be overridden by
its POPKIT_EDGE_* environment variable and then by its flag.
--check-config validates the configuration and exits.`,
		Example: `  ` + prog + ` --config /etc/popkit/edge.yaml
  ` + prog + ` --config edge.yaml --check-config
  POPKIT_EDGE_TOKEN=... ` + prog + ` --server-url https://popkit.example --device-id ID --event-id ID --mqtt-broker tcp://127.0.0.1:1883 --mqtt-topics 'site/+/readings'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadEdgeConfig(cmd, configPath, flags)
			if err != nil {
				return err
			}
			if err := c.Validate(); err != nil {
				return fmt.Errorf("invalid config: %w", err)
			}
			if check {
				fmt.Fprintln(cmd.OutOrStdout(), "config ok")
				return nil
			}
			a := &edge.Agent{Config: c, Logger: clilog.New(cmd.ErrOrStderr())}
			if err := a.Open(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "edge agent listening on http://%s (stream %s)\n", a.Addr(), a.Outbox.Stream())
			return a.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&configPath, "config", os.Getenv("POPKIT_EDGE_CONFIG"), "YAML configuration file (env POPKIT_EDGE_CONFIG)")
	cmd.Flags().BoolVar(&check, "check-config", false, "validate the configuration and exit")
	for _, k := range edge.ConfigKeys {
		flags[k.Flag] = cmd.Flags().String(k.Flag, "", k.Usage+" (key "+k.Name+", env "+k.Env+")")
	}
	return cmd
}
