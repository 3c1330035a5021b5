package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/popkit/popkit"
	"github.com/spf13/cobra"
)

func newDemoCmd() *cobra.Command {
	m := &Main{}
	var seed int64
	var edgeAgents, posPortBase int
	var logFile string
	history := true
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Seed a realistic pop-up program into a local database and serve it",
		Long: `demo is the whole system on one machine. It creates (or reuses) a local
SQLite file, seeds a program of cities, venues, microbrands and pop-up
events with their assortments (product names and prices from the UCI
Online Retail catalogue) and a year of closed events with their
telemetry, sales, refunds, listings and check-ins, creates an admin
token, prints the URL and the token, and serves until interrupted.
Running it again reuses the data.

Simulated edge agents feed live readings and sell at their tills, each
on a fixed port from --pos-port-base up. Logs go to a file (--log-file,
"-" for stderr); the terminal keeps the URLs and the token and shows a
short live summary line instead.`,
		Example: `  popkit demo
  popkit demo --addr 127.0.0.1:9090 --pos-port-base 9100 --db /tmp/demo.db
  popkit demo --log-file -     # logs on stderr instead of ./popkit-demo.log`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			if _, port, err := net.SplitHostPort(m.Addr); err == nil && port == "0" && !cmd.Flags().Changed("pos-port-base") {
				posPortBase = 0 // --addr picks a free port: so do the tills
			}
			if posPortBase < 0 || posPortBase > 0 && posPortBase+edgeAgents-1 > 65535 {
				return fmt.Errorf("--pos-port-base %d: the tills need ports %d to %d, which must be 1-65535 (0: free ports)", posPortBase, posPortBase, posPortBase+edgeAgents-1)
			}
			logw, logPath, err := openDemoLog(logFile, m.DSN, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer logw.Close()
			m.Logger = newLogger(logw)
			if err := seedDemo(ctx, m.DSN, seed, history, out); err != nil {
				return err
			}
			if err := m.Open(ctx); err != nil {
				return err
			}
			if err := seedDiscovery(ctx, m, out, time.Now()); err != nil {
				return errors.Join(err, m.Close())
			}
			secret, err := m.DB.CreateToken(ctx, &popkit.Token{Role: popkit.RoleAdmin, Name: "demo admin " + time.Now().UTC().Format(time.RFC3339)})
			if err != nil {
				return errors.Join(fmt.Errorf("create demo token: %w", err), m.Close())
			}
			sites, err := loadDemoSites(ctx, m)
			if err != nil {
				return errors.Join(err, m.Close())
			}
			host, _, err := net.SplitHostPort(m.Addr)
			if err != nil {
				return errors.Join(fmt.Errorf("--addr %q: %w", m.Addr, err), m.Close())
			}
			tills := planTills(sites, time.Now(), host, posPortBase, edgeAgents)
			var tillSites []*demoSite
			for _, t := range tills {
				tillSites = append(tillSites, t.site)
			}
			stopOrders, err := startDemoOrders(ctx, m, tillSites, out, m.Logger, seed)
			if err != nil {
				return errors.Join(err, m.Close())
			}
			edgeCtx, stopEdge := context.WithCancel(ctx)
			counts := &demoCounts{}
			if len(tills) > 0 {
				fmt.Fprintf(out, "%d simulated edge agents feed live readings through the real agent code; a cashier at each till serves about a quarter of the visitors (tills from --pos-port-base %d):\n", len(tills), posPortBase)
			}
			waitEdge, err := startDemoEdge(edgeCtx, m, tills, counts, seed, out, m.Logger)
			if err != nil {
				stopEdge()
				stopOrders()
				return errors.Join(err, m.Close())
			}
			if len(tills) > 0 {
				fmt.Fprintf(out, "  footfall follows the Melbourne weekly profile in each venue's local hours: a till sells only while its pop-up is open\n")
				fmt.Fprintf(out, "  the last one has a flaky link and sells while offline (with one oversell to reconcile);\n  the first one's fridge fails a minute in (a cold-chain excursion holds its perishable orders)\n")
			}
			fmt.Fprintf(out, `
popkit demo is running at %[1]s
admin token: %[2]s

microsite:    %[1]s/   (what's on now and next, by city; try it on a phone)
curator page: %[1]s/curator   (sign in with the admin token above)
kitting page: %[1]s/kitting   (staff of a fulfilment node; the admin token works too)

orders, offline sales and fulfilment (same token):
  curl -s -H 'Authorization: Bearer %[2]s' '%[1]s/api/v1/orders?limit=5'
  curl -s -H 'Authorization: Bearer %[2]s' '%[1]s/api/v1/exceptions'          (oversells from the offline till)
  curl -s -H 'Authorization: Bearer %[2]s' '%[1]s/api/v1/fulfilment-orders'
  curl -s -H 'Authorization: Bearer %[2]s' '%[1]s/api/v1/bundles'
  curl -s -H 'Authorization: Bearer %[2]s' '%[1]s/api/v1/excursions'         (the failed fridge)
  curl -s -H 'Authorization: Bearer %[2]s' '%[1]s/api/v1/webhook-deliveries' (to the partner station)

try:
  curl -s -H 'Authorization: Bearer %[2]s' '%[1]s/api/v1/events?limit=5'
  curl -s %[1]s/api/v1/openapi.json
  curl -s %[1]s/metrics

%[4]s
logs: %[3]s
press Ctrl-C to stop
`, m.URL(), secret, logPath, orderExample(m.URL(), secret, sites))
			sumCtx, stopSummary := context.WithCancel(ctx)
			summaryDone := make(chan struct{})
			go func() {
				defer close(summaryDone)
				runDemoSummary(sumCtx, m, tills, counts, out, demoSummaryEvery)
			}()
			err = m.Wait(ctx)
			stopSummary()
			<-summaryDone
			stopEdge()
			waitEdge()
			stopOrders()
			return errors.Join(err, m.Close())
		},
	}
	cmd.Flags().StringVar(&m.Addr, "addr", envDefault("POPKIT_ADDR", "127.0.0.1:8080"), "listen address (env POPKIT_ADDR)")
	addDBFlag(cmd, &m.DSN, "./popkit-demo.db")
	addPublicURLFlag(cmd, m)
	cmd.Flags().Int64Var(&seed, "seed", 1, "random seed of the generated program")
	cmd.Flags().IntVar(&edgeAgents, "edge-agents", 4, "simulated edge agents feeding live readings, one per open pop-up (0: none)")
	cmd.Flags().IntVar(&posPortBase, "pos-port-base", 8090, "port of the first simulated till (and its agent's sensor input); the others follow; 0 picks free ports (the default when --addr has port 0)")
	cmd.Flags().BoolVar(&history, "history", true, "seed a year of closed events with their telemetry and sales on first run (a few seconds)")
	cmd.Flags().StringVar(&logFile, "log-file", "", `where the demo logs (default: beside the database, ./popkit-demo.log; "-": stderr)`)
	return cmd
}
