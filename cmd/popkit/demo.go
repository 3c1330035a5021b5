package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sim"
	"github.com/spf13/cobra"
)

func newDemoCmd() *cobra.Command {
	m := &Main{}
	var seed int64
	var edgeAgents int
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Seed a realistic pop-up program into a local database and serve it",
		Long: `demo is the whole system on one machine. It creates (or reuses) a local
SQLite file, seeds a program of cities, venues, microbrands and pop-up
events with their assortments (product names and prices from the UCI
Online Retail catalogue), creates an admin token, prints the URL and the
token, and serves until interrupted. Running it again reuses the data.`,
		Example: `  popkit demo
  popkit demo --addr 127.0.0.1:9090 --db /tmp/demo.db`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			m.Logger = newLogger(cmd.ErrOrStderr())
			if err := m.Open(ctx); err != nil {
				return err
			}
			res, err := sim.Seed(ctx, sim.Services{
				Program:    m.DB,
				Cities:     m.DB,
				Venues:     m.DB,
				Brands:     m.DB,
				Events:     m.DB,
				SKUs:       m.DB,
				Assortment: m.DB,
				Devices:    m.DB,
			}, sim.SeedOptions{
				Now:  time.Now(),
				Seed: seed,
				Log:  func(format string, args ...any) { fmt.Fprintf(out, "  "+format+"\n", args...) },
			})
			if err != nil {
				return errors.Join(fmt.Errorf("seed demo: %w", err), m.Close())
			}
			if res.Skipped {
				fmt.Fprintf(out, "reusing the demo program already in %s\n", m.DSN)
			} else {
				fmt.Fprintf(out, "seeded the demo program (%d events) into %s\n", res.Events, m.DSN)
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
			stopOrders, err := startDemoOrders(ctx, m, sites, out, m.Logger, seed)
			if err != nil {
				return errors.Join(err, m.Close())
			}
			edgeCtx, stopEdge := context.WithCancel(ctx)
			nEdge, waitEdge, err := startDemoEdge(edgeCtx, m, sites, edgeAgents, out, m.Logger)
			if err != nil {
				stopEdge()
				stopOrders()
				return errors.Join(err, m.Close())
			}
			if nEdge > 0 {
				fmt.Fprintf(out, "%d simulated edge agents feed live readings through the real agent code and sell at their tills\n", nEdge)
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

press Ctrl-C to stop
`, m.URL(), secret)
			err = m.Wait(ctx)
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
	cmd.Flags().IntVar(&edgeAgents, "edge-agents", 3, "simulated edge agents feeding live readings (0: none)")
	return cmd
}
