package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/popkit/popkit"
	"github.com/popkit/popkit/edge"
)

// tillItem is the part of GET /pos/api/items the simulated cashier reads.
type tillItem struct {
	SKUID      string `json:"sku_id"`
	Name       string `json:"name"`
	PriceMinor *int64 `json:"price_minor"`
	Stock      int64  `json:"stock"`
}

type tillView struct {
	Items    []tillItem `json:"items"`
	Unsynced struct {
		CardOfflineMinor int64 `json:"card_offline_minor"`
	} `json:"unsynced"`
	CardOfflineMaxTx    int64 `json:"card_offline_max_tx"`
	CardOfflineMaxTotal int64 `json:"card_offline_max_total"`
}

// RingUpSales serves n customers at the till of the edge agent at baseURL
// (e.g. "http://127.0.0.1:8181") through its POS JSON API, as a cashier
// would. Each customer takes a basket of the shopper model (see
// shopper.go): one to three products in stock, chosen in proportion to
// their UCI demand, mostly one unit each; paid about 60% on the card
// terminal (external, with a reference), 25% cash and 15% card taken
// offline while the offline card caps allow it (else cash). A customer
// finds only what is on the shelf: products the till shows out of stock
// are not offered, and a basket the till says would take stock below zero
// is put back, never confirmed, so the cashier opens no oversell. Each
// sale carries its own id, so a retry after a lost answer is not counted
// twice. It returns the number of sales stored, fewer than n when the
// shelves run empty.
func RingUpSales(ctx context.Context, baseURL string, n int, rng *rand.Rand) (int, error) {
	base := strings.TrimRight(baseURL, "/")
	client := &http.Client{Timeout: 15 * time.Second}
	done := 0
	for range n {
		var v tillView
		if err := tillGet(ctx, client, base+"/pos/api/items", &v); err != nil {
			return done, err
		}
		if !hasPriced(v.Items) {
			return done, errors.New("the till has no priced products: has the agent fetched its assortment?")
		}
		basket := pickBasket(v.Items, rng)
		if len(basket) == 0 {
			continue // sold out: the customer leaves
		}
		req := edge.SaleRequest{ID: uuid.Must(uuid.NewV7()).String()}
		var total int64
		for _, l := range basket {
			req.Lines = append(req.Lines, edge.SaleLineItem{SKUID: l.sku, Quantity: l.qty})
			total += int64(l.qty) * l.price
		}
		req.Payment = popkit.Payment{Method: popkit.PaymentCash, AmountMinor: total}
		switch x := rng.Float64(); {
		case x < 0.60:
			req.Payment.Method, req.Payment.ExternalRef = popkit.PaymentExternal, fmt.Sprintf("T-%06d", rng.IntN(1_000_000))
		case x < 0.75 && total <= v.CardOfflineMaxTx && v.Unsynced.CardOfflineMinor+total <= v.CardOfflineMaxTotal:
			req.Payment.Method = popkit.PaymentCardOffline
		}
		err := ringUp(ctx, client, base, req)
		if errors.Is(err, errPutBack) {
			continue
		}
		if err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

// basket is the chosen products with their prices and quantities.
type basket []struct {
	sku   string
	price int64
	qty   int
}

// hasPriced reports whether the till prices any product.
func hasPriced(items []tillItem) bool {
	for _, it := range items {
		if it.PriceMinor != nil {
			return true
		}
	}
	return false
}

// pickBasket chooses a basket of the shopper model among the priced
// products in stock, never more units of a product than the till has.
func pickBasket(items []tillItem, rng *rand.Rand) basket {
	var pool []tillItem
	var weights []float64
	for _, it := range items {
		if it.PriceMinor != nil && it.Stock > 0 {
			pool = append(pool, it)
			weights = append(weights, demandWeight(it.Name))
		}
	}
	var b basket
	for _, i := range pickWeighted(rng, weights, basketSize(rng)) {
		q := min(lineQuantity(rng), int(pool[i].Stock))
		b = append(b, struct {
			sku   string
			price int64
			qty   int
		}{pool[i].SKUID, *pool[i].PriceMinor, q})
	}
	return b
}

// errPutBack is ringUp's answer when the till says the basket would take
// stock below zero: the customer puts it back.
var errPutBack = errors.New("basket put back: not enough stock")

// ringUp posts one sale, retrying (same id) after a transport error or a
// 503, a few times. An oversell is never confirmed: errPutBack.
func ringUp(ctx context.Context, client *http.Client, base string, req edge.SaleRequest) error {
	for attempt := 0; attempt < 5; attempt++ {
		body, err := json.Marshal(req)
		if err != nil {
			return fmt.Errorf("encode sale: %w", err)
		}
		hr, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/pos/api/sales", bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("new request: %w", err)
		}
		hr.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(hr)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
			continue
		}
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		var p struct {
			Detail     string `json:"detail"`
			Shortfalls []any  `json:"shortfalls"`
		}
		json.Unmarshal(answer, &p)
		switch {
		case resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK:
			return nil
		case resp.StatusCode == http.StatusConflict && len(p.Shortfalls) > 0:
			return errPutBack
		case resp.StatusCode == http.StatusServiceUnavailable:
			time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
		default:
			return fmt.Errorf("till refused the sale: %s: %s", resp.Status, p.Detail)
		}
	}
	return errors.New("till did not take the sale after 5 attempts")
}

func tillGet(ctx context.Context, client *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("new request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("read the till: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("read the till: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("decode the till's items: %w", err)
	}
	return nil
}
