package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
	"github.com/spf13/cobra"
)

// openExisting opens a database that must already exist: a SQLite file
// that is not there is an error (a typo would otherwise create an empty
// database), a PostgreSQL URL is opened as it is. Pending migrations are
// applied.
func openExisting(ctx context.Context, dsn string) (*sqlstore.DB, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		path, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("database %s does not exist (create it with popkit migrate --db %s)", path, path)
		}
	}
	return openMigrated(ctx, dsn)
}

// fxImportBatch is the number of rates stored per transaction.
const fxImportBatch = 5000

func newFXCmd() *cobra.Command {
	var dsn string
	cmd := &cobra.Command{
		Use:   "fx",
		Short: "Store exchange rates",
		Long: `fx stores dated exchange rates in the database. Conversions into the
program's reporting currency use the rate of the sale's (or cost's) venue-local
day, else the latest earlier one; a missing rate is flagged, never taken as 1.

A rate says 1 BASE = RATE QUOTE, and is kept as the decimal given.`,
		Example: `  popkit fx import eurofxref-hist.csv
  popkit fx set --day 2026-03-02 --base EUR --quote GBP --rate 0.8571`,
	}
	cmd.PersistentFlags().StringVar(&dsn, "db", envDefault("POPKIT_DB", defaultDB),
		"SQLite file path, or a postgres:// URL to use PostgreSQL (env POPKIT_DB); a SQLite file must exist")

	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Import ECB reference rates from a CSV file",
		Long: `import reads the European Central Bank's reference-rate CSV: a header
"Date, USD, JPY, …" and one row per day with the units of each currency per
1 EUR ("N/A" where there is none). Both the daily file (eurofxref.csv, days
written "04 December 2026") and the historical one (eurofxref-hist.csv, days
written 2026-12-04) are read. Each cell becomes a rate with base EUR; a rate
already stored for the day and pair is replaced. Columns of currencies no
longer in circulation (CYP, SIT, …) are skipped and listed.

The whole file is checked before anything is stored: a bad line stops the
import with its line number and stores nothing.`,
		Example: `  curl -sO https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist.zip && unzip eurofxref-hist.zip
  popkit fx import eurofxref-hist.csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return fmt.Errorf("open %s: %w", args[0], err)
			}
			defer f.Close()
			parsed, err := parseECB(f)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if len(parsed.Skipped) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "skipped columns of currencies no longer in circulation: %s\n", strings.Join(parsed.Skipped, ", "))
			}
			db, err := openExisting(cmd.Context(), dsn)
			if err != nil {
				return err
			}
			defer db.Close()
			progress := terminalWriter(cmd.ErrOrStderr())
			for i := 0; i < len(parsed.Rates); i += fxImportBatch {
				batch := parsed.Rates[i:min(i+fxImportBatch, len(parsed.Rates))]
				if err := db.SetRates(cmd.Context(), batch); err != nil {
					return fmt.Errorf("store rates (%d of %d stored): %s", i, len(parsed.Rates), describe(err))
				}
				if progress != nil {
					fmt.Fprintf(progress, "\rstored %d of %d rates", i+len(batch), len(parsed.Rates))
				}
			}
			if progress != nil {
				fmt.Fprintln(progress)
			}
			first, last := "", ""
			if n := len(parsed.Rates); n > 0 {
				first, last = parsed.Rates[0].Day, parsed.Rates[n-1].Day
				if first > last {
					first, last = last, first
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %d rates of %d days (%s to %s) from %s\n", len(parsed.Rates), parsed.Rows, first, last, args[0])
			return db.Close()
		},
	}

	var r popkit.FXRate
	set := &cobra.Command{
		Use:     "set",
		Short:   "Store one exchange rate",
		Example: `  popkit fx set --day 2026-03-02 --base EUR --quote GBP --rate 0.8571`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := r.Validate(); err != nil {
				return fmt.Errorf("%s", fxFlags.Replace(describe(err)))
			}
			db, err := openExisting(cmd.Context(), dsn)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.SetRate(cmd.Context(), &r); err != nil {
				return fmt.Errorf("store rate: %s", describe(err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: 1 %s = %s %s\n", r.Day, r.Base, r.Rate, r.Quote)
			return db.Close()
		},
	}
	set.Flags().StringVar(&r.Day, "day", "", "the day the rate applies to, YYYY-MM-DD (required)")
	set.Flags().StringVar(&r.Base, "base", "", "ISO 4217 code of the currency priced (required)")
	set.Flags().StringVar(&r.Quote, "quote", "", "ISO 4217 code of the currency it is priced in (required)")
	set.Flags().StringVar(&r.Rate, "rate", "", "units of quote per 1 base, a decimal such as 0.8571 (required)")
	for _, f := range []string{"day", "base", "quote", "rate"} {
		_ = set.MarkFlagRequired(f)
	}
	cmd.AddCommand(imp, set)
	return cmd
}

// fxFlags names flags instead of JSON fields in messages.
var fxFlags = strings.NewReplacer("invalid day:", "invalid --day:", "invalid base:", "invalid --base:", "invalid quote:", "invalid --quote:", "invalid rate:", "invalid --rate:")

// terminalWriter returns w when it is a terminal, for progress lines, and
// nil otherwise.
func terminalWriter(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return w
		}
	}
	return nil
}
