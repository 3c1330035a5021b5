package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/popkit/popkit/forecast"
	"github.com/spf13/cobra"
)

func newForecastCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "forecast",
		Short: "Demand and footfall forecasts: backtests on historical data",
		Long: `forecast runs the demand forecasting methods of the forecast package on
historical data and scores them.`,
		Example: `  popkit forecast backtest --input online_retail_top300_sku.csv.gz --format online-retail`,
	}
	cmd.AddCommand(newForecastBacktestCmd())
	return cmd
}

// backtestOptions are the flags of popkit forecast backtest.
type backtestOptions struct {
	input, format, out string
	origins            []string
	horizon            int
	json, skipBad      bool
}

func newForecastBacktestCmd() *cobra.Command {
	var o backtestOptions
	cmd := &cobra.Command{
		Use:   "backtest",
		Short: "Score every forecasting method and the automatic choice on a file",
		Long: `backtest forecasts every series of --input from each origin with every method
and the automatic choice, and prints their mean scores side by side with
issue 14's reference baselines and targets.

Formats:
  online-retail  invoice lines InvoiceNo,StockCode,Description,Quantity,
                 InvoiceDate,UnitPrice,CustomerID,Country (UCI Online Retail).
                 Protocol A: one daily series per StockCode (sum of Quantity
                 per day, cancellations net, clipped at 0), starting at its
                 first sale; default origins 2011-11-11, 2011-10-14,
                 2011-09-16, 2011-08-19; horizon 28 days.
  hourly-counts  Sensor,Date_Time,Date,Time,Count (local date and hour).
                 Protocol B: one hourly series per sensor, missing training
                 hours filled from a week earlier, missing test hours not
                 scored; default origins the 8 Sundays 2016-10-30 ..
                 2016-12-18 (23:00); horizon 168 hours.

An origin is the last period of training data: a date (YYYY-MM-DD) for
online-retail, the hour 23:00 of that date for hourly-counts.

Scores per series, averaged over series, then over origins (online-retail)
or over all (series, origin) pairs (hourly-counts): MASE (mean
absolute error over the in-sample mean absolute seasonal-naive error, season
7 or 168), RMSSE (root of mean squared error over the in-sample mean squared
one-step difference), WRMSSE (RMSSE weighted by revenue over the last 28
training days), pinball90 (mean pinball loss of q90 scaled like MASE), cover90
(share of actuals at or below q90), MAPE (mean |error|/actual over hours with
a positive count, in percent). --json adds coverage: the shares at or below
q50, q80, q90 and q95.

Input may be gzipped. A malformed row stops the run with its line number,
unless --skip-bad-rows is given: then it is reported and skipped.`,
		Example: `  popkit forecast backtest --input online_retail_top300_sku.csv.gz --format online-retail
  popkit forecast backtest --input melbourne_pedestrian_hourly_2015_2016.csv --format hourly-counts --json
  popkit forecast backtest --input sales.csv.gz --format online-retail --origins 2011-06-24,2011-07-22 --out forecasts.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBacktest(cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.input, "input", "", "CSV file to backtest on, plain or gzipped (required)")
	f.StringVar(&o.format, "format", "", "input layout: online-retail or hourly-counts (required)")
	f.StringSliceVar(&o.origins, "origins", nil, "last training dates, YYYY-MM-DD, comma-separated (default: the issue 14 protocol's)")
	f.IntVar(&o.horizon, "horizon", 0, "periods to forecast after each origin (default 28 days or 168 hours)")
	f.BoolVar(&o.json, "json", false, "print the results as JSON")
	f.StringVar(&o.out, "out", "", "write every forecast as CSV series,origin,date,method,point,q50,q80,q90,q95 to this file")
	f.BoolVar(&o.skipBad, "skip-bad-rows", false, "report malformed rows on stderr and go on without them")
	return cmd
}

// reference is a row of issue 14's reference table.
type reference struct {
	Method                                  string
	MASE, RMSSE, WRMSSE, Pinball90, Cover90 float64
	MAPE                                    float64
}

var nan = math.NaN()

// referenceA is issue 14's table for Protocol A (means of its 4 windows).
var referenceA = []reference{
	{"seasonal naive (7)", 1.512, 1.097, 1.093, 0.672, 0.855, nan},
	{"SES", 1.403, 0.917, 0.901, 0.633, 0.928, nan},
	{"Croston SBA", 1.337, 0.905, 0.883, nan, nan, nan},
	{"IMAPA", 1.329, 0.911, 0.894, nan, nan, nan},
	{"ETS(A,N,A)", 1.251, 0.885, 0.856, 0.605, 0.921, nan},
	{"day-of-week profile", 1.247, 0.910, 0.887, 0.633, 0.822, nan},
	{"mean of SES, TSB, DOW, ETS", 1.292, 0.882, 0.855, 0.596, 0.914, nan},
	{"target", 1.21, 0.875, 0.850, 0.59, 0.90, nan},
}

// referenceB is issue 14's figures for Protocol B.
var referenceB = []reference{
	{"seasonal naive (168)", 1.195, nan, nan, nan, nan, 38.6},
	{"mean of last 4 weeks, same hour", 1.104, nan, nan, nan, nan, 34.5},
	{"target", 1.07, nan, nan, nan, nan, 33},
}

// backtestResult is the --json output.
type backtestResult struct {
	Format    string      `json:"format"`
	Origins   []string    `json:"origins"`
	Horizon   int         `json:"horizon"`
	Rows      int         `json:"rows_read"`
	Skipped   int         `json:"rows_skipped"`
	Mean      []jsonRow   `json:"mean"`
	PerOrigin []jsonRow   `json:"per_origin"`
	Reference []reference `json:"reference,omitempty"`
}

type jsonRow struct {
	Method    string   `json:"method"`
	Origin    string   `json:"origin,omitempty"`
	Series    int      `json:"series"`
	MASE      *float64 `json:"mase"`
	RMSSE     *float64 `json:"rmsse,omitempty"`
	WRMSSE    *float64 `json:"wrmsse,omitempty"`
	Pinball90 *float64 `json:"pinball90"`
	Cover90   *float64 `json:"cover90"`
	// Coverage is the share of actuals at or below q50, q80, q90 and q95.
	Coverage []float64 `json:"coverage,omitempty"`
	MAPE     *float64  `json:"mape,omitempty"`
}

func num(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	return &v
}

// MarshalJSON writes missing reference figures as null.
func (r reference) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonRow{Method: r.Method, MASE: num(r.MASE), RMSSE: num(r.RMSSE), WRMSSE: num(r.WRMSSE),
		Pinball90: num(r.Pinball90), Cover90: num(r.Cover90), MAPE: num(r.MAPE)})
}

func runBacktest(stdout, stderr io.Writer, o backtestOptions) error {
	if o.input == "" {
		return errors.New("--input is required")
	}
	hourly := false
	switch o.format {
	case "online-retail":
	case "hourly-counts":
		hourly = true
	case "":
		return errors.New("--format is required: online-retail or hourly-counts")
	default:
		return fmt.Errorf("--format %q: want online-retail or hourly-counts", o.format)
	}
	if o.horizon < 0 {
		return fmt.Errorf("--horizon %d: want a positive number of periods", o.horizon)
	}
	var origins []time.Time
	for _, s := range o.origins {
		d, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("--origins: %q is not a date YYYY-MM-DD", s)
		}
		if hourly {
			d = d.Add(23 * time.Hour)
		}
		origins = append(origins, d)
	}
	defaults := len(origins) == 0
	h := o.horizon
	if hourly {
		if defaults {
			origins = forecast.ProtocolBOrigins()
		}
		if h == 0 {
			h = 168
		}
	} else {
		if defaults {
			origins = forecast.ProtocolAOrigins
		}
		if h == 0 {
			h = 28
		}
	}
	f, err := os.Open(o.input)
	if err != nil {
		return fmt.Errorf("--input: %w", err)
	}
	defer f.Close()
	opt := forecast.LoadOptions{SkipBadRows: o.skipBad}
	var (
		rep   *forecast.LoadReport
		run   func(ws []forecast.Window, emit forecast.Emit, progress func(int, int)) []forecast.Row
		first time.Time
		last  time.Time
	)
	if hourly {
		d, r, err := forecast.LoadHourly(f, opt)
		if err != nil {
			return fmt.Errorf("%s: %w", o.input, err)
		}
		rep = r
		first, last = d.Start, d.Start.Add(time.Duration(d.Hours-1)*time.Hour)
		run = func(ws []forecast.Window, emit forecast.Emit, p func(int, int)) []forecast.Row {
			return forecast.BacktestHourly(d, ws, forecast.HourlyMethods(), emit, p)
		}
	} else {
		d, r, err := forecast.LoadRetail(f, opt)
		if err != nil {
			return fmt.Errorf("%s: %w", o.input, err)
		}
		rep = r
		first, last = d.Start, d.Start.AddDate(0, 0, d.Days-1)
		run = func(ws []forecast.Window, emit forecast.Emit, p func(int, int)) []forecast.Row {
			return forecast.BacktestRetail(d, ws, forecast.DailyMethods(), emit, p)
		}
	}
	for _, e := range rep.Skipped {
		fmt.Fprintf(stderr, "skipped %s\n", e)
	}
	if rep.SkippedRows > len(rep.Skipped) {
		fmt.Fprintf(stderr, "skipped %d more malformed rows\n", rep.SkippedRows-len(rep.Skipped))
	}
	step := 24 * time.Hour
	if hourly {
		step = time.Hour
	}
	var ws []forecast.Window
	for _, or := range origins {
		end := or.Add(time.Duration(h) * step)
		if or.Before(first) || end.After(last) {
			return fmt.Errorf("--origins: %s plus %d periods is outside the data (%s to %s)",
				or.Format(time.DateOnly), h, first.Format(time.DateOnly), last.Format(time.DateOnly))
		}
		ws = append(ws, forecast.Window{Origin: or, H: h})
	}

	var emit forecast.Emit
	var outFile *os.File
	var cw *csv.Writer
	var emitErr error
	if o.out != "" {
		outFile, err = os.Create(o.out)
		if err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		defer outFile.Close()
		bw := bufio.NewWriterSize(outFile, 1<<16)
		cw = csv.NewWriter(bw)
		cw.Write([]string{"series", "origin", "date", "method", "point", "q50", "q80", "q90", "q95"})
		layout := time.DateOnly
		if hourly {
			layout = "2006-01-02T15:04"
		}
		rec := make([]string, 9)
		emit = func(series string, origin, start time.Time, st time.Duration, fc *forecast.Forecast) {
			if emitErr != nil {
				return
			}
			rec[0], rec[1], rec[3] = series, origin.Format(layout), fc.Method
			for j := range fc.Point {
				rec[2] = start.Add(time.Duration(j) * st).Format(layout)
				rec[4] = strconv.FormatFloat(fc.Point[j], 'f', 4, 64)
				for i := range fc.Q {
					rec[5+i] = strconv.FormatFloat(fc.Q[i][j], 'f', 4, 64)
				}
				if err := cw.Write(rec); err != nil {
					emitErr = err
					return
				}
			}
		}
		defer bw.Flush()
	}
	progress := progressBar(stderr)
	rows := run(ws, emit, progress)
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil || emitErr != nil {
			return fmt.Errorf("--out: %w", errors.Join(err, emitErr))
		}
	}
	res := backtestResult{Format: o.format, Horizon: h, Rows: rep.Rows, Skipped: rep.SkippedRows}
	for _, or := range origins {
		res.Origins = append(res.Origins, or.Format(time.DateOnly))
	}
	toJSON := func(r forecast.Row, origin string) jsonRow {
		return jsonRow{Method: r.Method, Origin: origin, Series: r.Series, MASE: num(r.MASE), RMSSE: num(r.RMSSE),
			WRMSSE: num(r.WRMSSE), Pinball90: num(r.Pinball90), Cover90: num(r.Cover90), MAPE: num(r.MAPE),
			Coverage: r.Cover[:]}
	}
	for _, r := range forecast.MeanRows(rows, hourly) {
		res.Mean = append(res.Mean, toJSON(r, ""))
	}
	for _, r := range rows {
		res.PerOrigin = append(res.PerOrigin, toJSON(r, r.Origin.Format(time.DateOnly)))
	}
	if defaults && o.horizon == 0 {
		res.Reference = referenceA
		if hourly {
			res.Reference = referenceB
		}
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	printBacktest(stdout, res, hourly)
	return nil
}

func printBacktest(w io.Writer, res backtestResult, hourly bool) {
	fmt.Fprintf(w, "%s backtest: %d rows read, %d skipped; horizon %d; origins %s\n\n",
		res.Format, res.Rows, res.Skipped, res.Horizon, strings.Join(res.Origins, ", "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	f := func(v *float64, prec int) string {
		if v == nil {
			return "—"
		}
		return strconv.FormatFloat(*v, 'f', prec, 64)
	}
	if hourly {
		fmt.Fprintln(tw, "method\tseries\tMASE\tMAPE %\tpinball90\tcover90\t")
		for _, r := range res.Mean {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t\n", r.Method, r.Series, f(r.MASE, 3), f(r.MAPE, 1), f(r.Pinball90, 3), f(r.Cover90, 3))
		}
		for _, r := range res.Reference {
			fmt.Fprintf(tw, "issue 14: %s\t\t%.3f\t%.1f\t—\t—\t\n", r.Method, r.MASE, r.MAPE)
		}
	} else {
		fmt.Fprintln(tw, "method\tseries\tMASE\tRMSSE\tWRMSSE\tpinball90\tcover90\t")
		for _, r := range res.Mean {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", r.Method, r.Series, f(r.MASE, 3), f(r.RMSSE, 3), f(r.WRMSSE, 3), f(r.Pinball90, 3), f(r.Cover90, 3))
		}
		for _, r := range res.Reference {
			fmt.Fprintf(tw, "issue 14: %s\t\t%s\t%s\t%s\t%s\t%s\t\n", r.Method, f(num(r.MASE), 3), f(num(r.RMSSE), 3), f(num(r.WRMSSE), 3), f(num(r.Pinball90), 3), f(num(r.Cover90), 3))
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "\nmeans over series, then over origins (hourly: over all series-origin pairs); auto is the automatic choice (see go doc ./forecast).")
}

// progressBar returns a progress callback drawing a bar on w when w is a
// terminal, and nil otherwise.
func progressBar(w io.Writer) func(done, total int) {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return func(done, total int) {
		const width = 40
		n := width * done / total
		fmt.Fprintf(w, "\r[%s%s] %d/%d", strings.Repeat("#", n), strings.Repeat(".", width-n), done, total)
		if done == total {
			fmt.Fprint(w, "\r\033[K")
		}
	}
}
