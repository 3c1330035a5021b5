package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/edge"
	"github.com/popkit/popkit/sim"
)

// Demo till settings.
const (
	demoTillEvery    = 5 * time.Second // the cashier serves the shoppers who came in this often
	demoTillPriced   = 2 * time.Minute // how long to wait for the till's prices
	demoTillPollWait = 500 * time.Millisecond
)

// cashier plays the cashier at a simulated pop-up's till (the agent's POS
// at url).
type cashier struct {
	url      string
	oversell bool          // start with one oversell (the flaky till)
	pending  *atomic.Int64 // door entries not yet served
	counts   *demoCounts
	seed     int64
	logger   *slog.Logger
}

// run waits until the till has priced its assortment; with oversell set it
// first sells more units of one product than the till knows of (confirmed
// at the till, as the goods are in the customer's hands: the server opens
// one oversell exception when the sale syncs). Then, every demoTillEvery,
// it serves the shoppers who entered since: each buys with the event's
// conversion rate (sim.DrawConversion, sim.Buyers) a basket of the shopper
// model, until ctx ends.
func (c *cashier) run(ctx context.Context) {
	rng := rand.New(rand.NewPCG(uint64(c.seed), 9))
	conversion := sim.DrawConversion(rng)
	client := &http.Client{Timeout: 10 * time.Second}
	item, err := waitPriced(ctx, client, c.url)
	if err != nil {
		if ctx.Err() == nil {
			c.logger.Warn("demo till", "err", err)
		}
		return
	}
	if c.oversell {
		q := int(max(item.Stock, 0)) + 2
		req := edge.SaleRequest{
			Lines:         []edge.SaleLineItem{{SKUID: item.SKUID, Quantity: q}},
			Payment:       popkit.Payment{Method: popkit.PaymentCash, AmountMinor: int64(q) * *item.PriceMinor},
			AllowOversell: true,
		}
		if err := postSale(ctx, client, c.url, req); err != nil {
			c.logger.Warn("demo till oversell", "err", err)
		} else {
			c.counts.sales.Add(1)
		}
	}
	t := time.NewTicker(demoTillEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		buyers := sim.Buyers(rng, c.pending.Swap(0), conversion)
		if buyers == 0 {
			continue
		}
		n, err := sim.RingUpSales(ctx, c.url, int(buyers), rng)
		c.counts.sales.Add(int64(n))
		if err != nil && ctx.Err() == nil {
			c.logger.Warn("demo till", "err", err)
		}
	}
}

// tillItem is the part of the till's GET /pos/api/items the demo reads.
type tillItem struct {
	SKUID      string `json:"sku_id"`
	PriceMinor *int64 `json:"price_minor"`
	Stock      int64  `json:"stock"`
}

// waitPriced polls the till until it has priced products and returns the
// priced product with the least stock.
func waitPriced(ctx context.Context, client *http.Client, agentURL string) (*tillItem, error) {
	deadline := time.Now().Add(demoTillPriced)
	for {
		var v struct {
			Items []tillItem `json:"items"`
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, agentURL+"/pos/api/items", nil)
		if err != nil {
			return nil, err
		}
		if resp, err := client.Do(req); err == nil {
			err = json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
			var best *tillItem
			for i := range v.Items {
				it := &v.Items[i]
				if it.PriceMinor != nil && (best == nil || it.Stock < best.Stock) {
					best = it
				}
			}
			if err == nil && best != nil {
				return best, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the till at %s priced nothing within %s", agentURL, demoTillPriced)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(demoTillPollWait):
		}
	}
}

// postSale rings up one sale at the till.
func postSale(ctx context.Context, client *http.Client, agentURL string, sale edge.SaleRequest) error {
	body, err := json.Marshal(sale)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, agentURL+"/pos/api/sales", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		var p struct {
			Detail string `json:"detail"`
		}
		json.NewDecoder(resp.Body).Decode(&p)
		return fmt.Errorf("the till answered %s: %s", resp.Status, p.Detail)
	}
	return nil
}
