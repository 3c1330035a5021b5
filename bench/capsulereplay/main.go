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
	"math"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

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
	explain := flag.String("explain", "", "instead of the replay, print the planner's explained lines for the event starting on this date (YYYY-MM-DD), prices free within ±band of the reference")
	band := flag.Float64("band", 0.2, "with -explain: allowed price range as a share around the reference price")
	flag.Parse()
	if *input == "" {
		fmt.Fprintln(os.Stderr, "capsulereplay: -input is required")
		os.Exit(2)
	}
	if *explain != "" {
		if err := explainEvent(os.Stdout, *input, cfg, *explain, *band); err != nil {
			fmt.Fprintln(os.Stderr, "capsulereplay:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Stdout, *input, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "capsulereplay:", err)
		os.Exit(1)
	}
}

func load(path string) (*plan.RetailHistory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	h, err := plan.ReadOnlineRetail(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

func run(w io.Writer, path string, cfg plan.ReplayConfig) error {
	h, err := load(path)
	if err != nil {
		return err
	}
	rs, err := plan.Replay(h, cfg)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "event\tcandidates\tbaseline stock £\tbaseline margin £\tplanner SKUs\tplanner stock £\tplanner margin £\tplanner expected £\tgap £\ttop-N, planner units: margin £\t")
	for _, e := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", e.Start.Format("2006-01-02"), e.Candidates,
			e.Baseline.StockCost/100, e.Baseline.Margin/100, e.Planner.SKUs, e.Planner.StockCost/100, e.Planner.Margin/100, e.PlannerExpected/100, e.Gap/100, e.TopNUnits.Margin/100)
	}
	tw.Flush()
	s := plan.Summarise(rs)
	fmt.Fprintf(w, "\n%d events; mean per event: baseline margin £%.2f at stock £%.2f, planner margin £%.2f at stock £%.2f\n",
		s.Events, s.BaselineMargin/100, s.BaselineStockCost/100, s.PlannerMargin/100, s.PlannerStockCost/100)
	fmt.Fprintf(w, "uplift %+.1f%% (95%% bootstrap interval over events %+.1f%% to %+.1f%%); planner ahead in %d of %d events\n",
		100*s.Uplift, 100*s.UpliftLow, 100*s.UpliftHigh, s.Wins, s.Events)
	fmt.Fprintf(w, "ablation: the top-N SKUs with the planner's units earn £%.2f per event (%+.1f%% on the baseline)\n",
		s.TopNUnitsMargin/100, 100*(s.TopNUnitsMargin-s.BaselineMargin)/math.Abs(s.BaselineMargin))
	return nil
}

// explainEvent prints the planner's lines for one event: 7 sessions, the
// last 2 marked down if needed, a 30% margin floor on every SKU and on the
// capsule.
func explainEvent(w io.Writer, path string, cfg plan.ReplayConfig, date string, band float64) error {
	start, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return fmt.Errorf("-explain: %q is not YYYY-MM-DD", date)
	}
	if band < 0 || band >= 1 {
		return fmt.Errorf("-band: must be in [0, 1)")
	}
	h, err := load(path)
	if err != nil {
		return err
	}
	p, err := plan.PlanEvent(h, cfg, start, band, plan.Constraints{
		MinMargin: 0.3, MinOverallMargin: 0.3, Sessions: 7, MarkdownSessions: 2,
	})
	if err != nil {
		return err
	}
	sort.SliceStable(p.Lines, func(i, j int) bool {
		if p.Lines[i].In != p.Lines[j].In {
			return p.Lines[i].In
		}
		return p.Lines[i].ExpectedContribution > p.Lines[j].ExpectedContribution
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "sku\tin\tunits\tprice p\tmean\tq50/q80/q90/q95\tservice (critical ratio)\texp. sales\texp. leftover\tmargin\texp. contribution p\tmarkdown\tresponse\twhy")
	shown := 0
	for _, l := range p.Lines {
		if !l.In && shown >= p.SKUs+10 {
			continue
		}
		shown++
		md := "-"
		if l.Markdown != nil {
			md = fmt.Sprintf("%dp last %d (%s)", l.Markdown.Price, l.Markdown.Sessions, l.Markdown.Why)
		}
		fmt.Fprintf(tw, "%s\t%v\t%d\t%d\t%.1f\t%.0f/%.0f/%.0f/%.0f\t%.2f (%.2f)\t%.1f\t%.1f\t%.0f%%\t%.0f\t%s\t%s\t%s\n",
			l.SKU, l.In, l.Units, l.Price, l.Mean, l.Q.Q50, l.Q.Q80, l.Q.Q90, l.Q.Q95, l.ServiceLevel, l.CriticalRatio,
			l.ExpectedSales, l.ExpectedLeftover, 100*l.Margin, l.ExpectedContribution, md, l.Response.Why, l.Why)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d SKUs, %d units, stock cost %dp; expected revenue %.0fp, contribution %.0fp (overall margin %.1f%%); upper bound %.0fp, gap %.0fp\nmethod: %s\n",
		p.SKUs, p.Units, p.StockCost, p.ExpectedRevenue, p.ExpectedContribution, 100*p.OverallMargin, p.UpperBound, p.Gap, p.Method)
	for _, x := range p.Warnings {
		fmt.Fprintln(w, "warning:", x)
	}
	return nil
}
