package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
	"github.com/spf13/cobra"
)

// openMigrated opens an existing database and applies pending migrations,
// so that commands work on a database an older popkit made. A SQLite file
// that does not exist is an error, not a new empty database.
func openMigrated(ctx context.Context, dsn string) (*sqlstore.DB, error) {
	if err := requireExistingDB(dsn); err != nil {
		return nil, err
	}
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return db, nil
}

func newTokenCmd() *cobra.Command {
	var dsn string
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke API tokens",
		Long: `token manages the bearer tokens of the JSON API. Only a hash of each token
is stored: the secret is printed once, by "token create".

Roles: admin (everything), curator (listings, read the catalogue), brand
(its own brand only, --brand), fulfiller (its own node only, --node),
device (its own event only, --event).`,
		Example: `  popkit token create --role admin --name ops
  popkit token create --role brand --brand 0193... --name "Acme shop"
  popkit token list
  popkit token revoke 0193...`,
	}
	cmd.PersistentFlags().StringVar(&dsn, "db", envDefault("POPKIT_DB", defaultDB),
		"SQLite file path, or a postgres:// URL to use PostgreSQL (env POPKIT_DB)")

	var t popkit.Token
	var role string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a token and print its secret once",
		Example: `  popkit token create --role admin --name ops
  popkit token create --role device --event 0193... --name "door counter"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t.Role = popkit.Role(role)
			if err := t.Validate(); err != nil {
				return validationMessage(err)
			}
			db, err := openMigrated(cmd.Context(), dsn)
			if err != nil {
				return err
			}
			defer db.Close()
			secret, err := db.CreateToken(cmd.Context(), &t)
			if err != nil {
				return fmt.Errorf("create token: %s", describe(err))
			}
			fmt.Fprintln(cmd.OutOrStdout(), secret)
			fmt.Fprintf(cmd.ErrOrStderr(), "created %s token %s; the secret above is shown only once\n", t.Role, t.ID)
			return db.Close()
		},
	}
	create.Flags().StringVar(&role, "role", "", "admin, curator, brand, fulfiller or device (required)")
	create.Flags().StringVar(&t.BrandID, "brand", "", "brand id (role brand)")
	create.Flags().StringVar(&t.EventID, "event", "", "event id (role device)")
	create.Flags().StringVar(&t.NodeID, "node", "", "fulfilment node id (role fulfiller)")
	create.Flags().StringVar(&t.Name, "name", "", "a name to recognise the token by")
	_ = create.MarkFlagRequired("role")

	var all bool
	list := &cobra.Command{
		Use:     "list",
		Short:   "List tokens (never their secrets)",
		Example: "  popkit token list\n  popkit token list --all",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := openMigrated(cmd.Context(), dsn)
			if err != nil {
				return err
			}
			defer db.Close()
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tROLE\tSCOPE\tNAME\tPREFIX\tCREATED\tREVOKED")
			f := popkit.TokenFilter{IncludeRevoked: all, Page: popkit.Page{Limit: popkit.MaxPageLimit}}
			for {
				tokens, next, err := db.FindTokens(cmd.Context(), f)
				if err != nil {
					return fmt.Errorf("list tokens: %s", describe(err))
				}
				for _, t := range tokens {
					revoked := "-"
					if t.RevokedAt != nil {
						revoked = t.RevokedAt.Format(time.RFC3339)
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, scopeOf(t), t.Name, t.Prefix, t.CreatedAt.Format(time.RFC3339), revoked)
				}
				if next == "" {
					break
				}
				f.After = next
			}
			return w.Flush()
		},
	}
	list.Flags().BoolVar(&all, "all", false, "include revoked tokens")

	revoke := &cobra.Command{
		Use:     "revoke ID",
		Short:   "Revoke a token; requests with it are refused from then on",
		Example: "  popkit token revoke 0193...",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := openMigrated(cmd.Context(), dsn)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.RevokeToken(cmd.Context(), args[0]); err != nil {
				return fmt.Errorf("revoke token %s: %s", args[0], describe(err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", args[0])
			return db.Close()
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func scopeOf(t *popkit.Token) string {
	switch {
	case t.BrandID != "":
		return "brand=" + t.BrandID
	case t.EventID != "":
		return "event=" + t.EventID
	case t.NodeID != "":
		return "node=" + t.NodeID
	}
	return "-"
}

// describe returns the user-facing text of err: the domain message with its
// fields, or the wrapped chain for internal errors (the CLI user is the
// operator, who needs the cause).
func describe(err error) string {
	if popkit.ErrorCode(err) == popkit.EINTERNAL {
		return err.Error()
	}
	msg := popkit.ErrorMessage(err)
	for _, f := range popkit.ErrorFields(err) {
		if len(popkit.ErrorFields(err)) > 1 {
			msg += "; " + f.Field + " " + f.Message
		}
	}
	return msg
}

// tokenFlags names the flag behind each token field, so that validation
// errors speak of what the user typed.
var tokenFlags = strings.NewReplacer("brand_id", "--brand", "event_id", "--event", "node_id", "--node", "role", "--role", "name", "--name")

func validationMessage(err error) error {
	return fmt.Errorf("%s", tokenFlags.Replace(describe(err)))
}
