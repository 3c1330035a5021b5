package main

import (
	"fmt"

	"github.com/popkit/popkit/sqlstore"
	"github.com/spf13/cobra"
)

func newMigrateCmd() *cobra.Command {
	var dsn string
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the embedded database migrations",
		Long: `migrate applies the database migrations built into popkit and lists the
ones it applied. Running it again applies nothing. serve migrates on start
too; run migrate on its own to upgrade a database before rolling out.`,
		Example: `  popkit migrate
  popkit migrate --db postgres://popkit@db:5432/popkit`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := sqlstore.Open(cmd.Context(), dsn)
			if err != nil {
				return err
			}
			defer db.Close()
			applied, err := db.Migrate(cmd.Context())
			if err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			out := cmd.OutOrStdout()
			for _, name := range applied {
				fmt.Fprintf(out, "applied %s\n", name)
			}
			if len(applied) == 0 {
				fmt.Fprintln(out, "database is up to date")
			}
			return db.Close()
		},
	}
	addDBFlag(cmd, &dsn, defaultDB)
	return cmd
}
