package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/popkit/popkit"
	"github.com/spf13/cobra"
)

// defaultDB is the database popkit serve, migrate and token use when neither
// --db nor POPKIT_DB is given.
const defaultDB = "./popkit.db"

// newRootCmd returns the popkit command tree writing to stdout and stderr.
func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "popkit",
		Short: "Run pop-up retail as a repeatable production channel",
		Long: `popkit runs pop-up stores as a production channel: an edge agent on site,
a control plane with a JSON API, and a seeded demo of the whole system.

Start with "popkit demo" for a first look.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		newServeCmd(),
		newMigrateCmd(),
		newTokenCmd(),
		newDemoCmd(),
		newEdgeCmd(),
		newVersionCmd(),
		newFXCmd(),
	)
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the popkit version",
		Example: "  popkit version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v, commit := popkit.Version, popkit.Commit
			if info, ok := debug.ReadBuildInfo(); ok && commit == "" {
				for _, s := range info.Settings {
					if s.Key == "vcs.revision" {
						commit = s.Value
					}
				}
			}
			if commit != "" {
				v += " (" + commit + ")"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "popkit %s\n", v)
			return nil
		},
	}
}

// envDefault returns the value of the environment variable name, or def.
func envDefault(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// addDBFlag adds --db (env POPKIT_DB) to cmd.
func addDBFlag(cmd *cobra.Command, dsn *string, def string) {
	cmd.Flags().StringVar(dsn, "db", envDefault("POPKIT_DB", def),
		"SQLite file path, or a postgres:// URL to use PostgreSQL (env POPKIT_DB)")
}

// newLogger returns a text logger when w is a terminal and a JSON logger
// otherwise, so that log shippers get structured lines.
func newLogger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return slog.New(slog.NewTextHandler(w, opts))
		}
	}
	if envDefault("POPKIT_LOG_FORMAT", "") == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
