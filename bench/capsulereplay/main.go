// Command capsulereplay replays the capsule planner on the UCI Online
// Retail data: rolling 7-day events, a capsule of N SKUs chosen by the
// planner from the history before each event against the top-N SKUs by
// last-28-days revenue stocked at their mean 7-day demand, both sold
// against the event's realised demand. It prints one row per event and the
// means.
//
//	go run ./bench/capsulereplay -input ../shared/data/online_retail_top300_sku.csv.gz
package main

import (
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/popkit/popkit/plan"
)

func main() {
	input := flag.String("input", "", "the Online Retail CSV (.csv or .csv.gz)")
	var cfg plan.ReplayConfig
	flag.IntVar(&cfg.SKUs, "n", 20, "SKUs (slots) per capsule")
	flag.IntVar(&cfg.HistoryDays, "history", 56, "planner look-back in days")
	flag.IntVar(&cfg.LevelDays, "level", 0, "rescale the planner's totals to the mean of the last this many days (0: off)")
	flag.Float64Var(&cfg.CostShare, "cost-share", 0.6, "unit cost as a share of the reference price")
	flag.Float64Var(&cfg.SalvageShare, "salvage-share", 0.25, "salvage value as a share of unit cost")
	flag.Parse()
	if *input == "" {
		fmt.Fprintln(os.Stderr, "capsulereplay: -input is required")
		os.Exit(2)
	}
	if err := run(os.Stdout, *input, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "capsulereplay:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, path string, cfg plan.ReplayConfig) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	h, err := plan.ReadOnlineRetail(r)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	rs, err := plan.Replay(h, cfg)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "event\tcandidates\tbaseline stock £\tbaseline margin £\tplanner SKUs\tplanner stock £\tplanner margin £\tplanner expected £\tgap £\t")
	for _, e := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t\n", e.Start.Format("2006-01-02"), e.Candidates,
			e.Baseline.StockCost/100, e.Baseline.Margin/100, e.Planner.SKUs, e.Planner.StockCost/100, e.Planner.Margin/100, e.PlannerExpected/100, e.Gap/100)
	}
	tw.Flush()
	s := plan.Summarise(rs)
	fmt.Fprintf(w, "\n%d events; mean per event: baseline margin £%.2f at stock £%.2f, planner margin £%.2f at stock £%.2f\n",
		s.Events, s.BaselineMargin/100, s.BaselineStockCost/100, s.PlannerMargin/100, s.PlannerStockCost/100)
	fmt.Fprintf(w, "uplift %+.1f%% (95%% bootstrap interval over events %+.1f%% to %+.1f%%); planner ahead in %d of %d events\n",
		100*s.Uplift, 100*s.UpliftLow, 100*s.UpliftHigh, s.Wins, s.Events)
	return nil
}
