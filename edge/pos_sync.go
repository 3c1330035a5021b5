package edge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/popkit/popkit"
)

// The till's assortment comes from GET /api/v1/events/{event}/till in one
// request: every item with its name, its price at the event (the item's
// override, else the SKU's price in the event's currency; null when the
// SKU has none in it) and stock, and the event's currency, which the till
// then shows and sells in (the configured pos.currency is used only until
// the first successful fetch). A server without that route (404 or 405)
// is read the older way: the assortment paged from GET
// /api/v1/events/{event}/assortment and each name and list price from
// GET /api/v1/skus/{id}. When the server refuses those SKU lookups, the
// agent keeps the names and prices it cached before, shows a SKU without
// a name by the start of its id, and refuses to sell a SKU whose price it
// has never known.

// tillAnswer is the server's till assortment; only the fields the till
// needs are decoded.
type tillAnswer struct {
	Currency string `json:"currency"`
	Items    []struct {
		SKUID      string `json:"sku_id"`
		Name       string `json:"name"`
		PriceMinor *int64 `json:"price_minor"`
		Stock      int64  `json:"stock"`
		Reserved   int64  `json:"reserved"`
	} `json:"items"`
}

// assortmentPage is one page of the server's assortment list; only the
// fields the till needs are decoded.
type assortmentPage struct {
	Items []struct {
		SKUID      string `json:"sku_id"`
		PriceMinor *int64 `json:"price_minor"`
		Stock      int64  `json:"stock"`
		Reserved   int64  `json:"reserved"`
	} `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// skuInfo is the part of a SKU the till needs.
type skuInfo struct {
	Name       string `json:"name"`
	PriceMinor int64  `json:"price_minor"`
}

// maxAssortmentPages bounds one fetch (200 items a page).
const maxAssortmentPages = 100

// posOnline is the state of the link as the refresher last saw it.
type posOnline struct {
	ok        atomic.Bool
	refreshed atomic.Int64 // unix micro of the last successful fetch
}

// runRefresh fetches the assortment at start and every Refresh interval
// (sooner, with backoff, after a failure) until ctx ends.
func (p *pos) runRefresh(ctx context.Context) {
	failures := 0
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if err := p.refresh(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			p.online.ok.Store(false)
			p.agent.Logger.Warn("pos: assortment refresh failed; selling from the cache", "err", err, "attempt", failures)
			timer.Reset(min(backoff(time.Second, p.cfg.Refresh, failures), p.cfg.Refresh))
			continue
		}
		failures = 0
		p.online.ok.Store(true)
		timer.Reset(p.cfg.Refresh)
	}
}

// refresh fetches the assortment and replaces the cache.
func (p *pos) refresh(ctx context.Context) error {
	acked := p.ob.Stats().AckedSeq
	items, currency, err := p.fetchTill(ctx)
	var se *statusError
	if errors.As(err, &se) && (se.code == http.StatusNotFound || se.code == http.StatusMethodNotAllowed) {
		items, err = p.fetch(ctx)
	}
	if err != nil {
		return err
	}
	if err := p.replace(ctx, items, currency, acked); err != nil {
		return err
	}
	p.online.refreshed.Store(p.agent.Now().UnixMicro())
	return nil
}

// fetchTill reads the event's whole assortment and its currency from the
// server in one request.
func (p *pos) fetchTill(ctx context.Context) ([]fetchedItem, string, error) {
	c := p.agent.Config
	var t tillAnswer
	if err := p.getJSON(ctx, strings.TrimRight(c.ServerURL, "/")+"/api/v1/events/"+url.PathEscape(c.EventID)+"/till", &t); err != nil {
		return nil, "", fmt.Errorf("fetch till assortment: %w", err)
	}
	if !popkit.ValidCurrency(t.Currency) {
		return nil, "", fmt.Errorf("fetch till assortment: currency %q is not an ISO 4217 code", t.Currency)
	}
	cached, err := p.cached(ctx)
	if err != nil {
		return nil, "", err
	}
	items := make([]fetchedItem, 0, len(t.Items))
	for _, it := range t.Items {
		if !popkit.ValidID(it.SKUID) {
			continue
		}
		name := it.Name
		if name == "" {
			name = cached[it.SKUID].Name
		}
		if name == "" {
			name = "SKU " + it.SKUID[:8]
		}
		items = append(items, fetchedItem{SKUID: it.SKUID, Name: name, PriceMinor: it.PriceMinor, Available: it.Stock - it.Reserved})
	}
	return items, t.Currency, nil
}

// fetch reads the event's whole assortment from a server without the
// till route, one page and one SKU at a time.
func (p *pos) fetch(ctx context.Context) ([]fetchedItem, error) {
	c := p.agent.Config
	base := strings.TrimRight(c.ServerURL, "/") + "/api/v1/events/" + url.PathEscape(c.EventID) + "/assortment?limit=200"
	var items []fetchedItem
	cursor := ""
	for page := 0; ; page++ {
		if page == maxAssortmentPages {
			return nil, fmt.Errorf("assortment has more than %d pages", maxAssortmentPages)
		}
		u := base
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		var pg assortmentPage
		if err := p.getJSON(ctx, u, &pg); err != nil {
			return nil, fmt.Errorf("fetch assortment: %w", err)
		}
		for _, it := range pg.Items {
			if !popkit.ValidID(it.SKUID) {
				continue
			}
			items = append(items, fetchedItem{SKUID: it.SKUID, PriceMinor: it.PriceMinor, Available: it.Stock - it.Reserved})
		}
		if pg.NextCursor == "" {
			break
		}
		cursor = pg.NextCursor
	}
	cached, err := p.cached(ctx)
	if err != nil {
		return nil, err
	}
	skusReadable := true
	for i := range items {
		it := &items[i]
		old, hadOld := cached[it.SKUID]
		if skusReadable {
			var s skuInfo
			err := p.getJSON(ctx, strings.TrimRight(c.ServerURL, "/")+"/api/v1/skus/"+url.PathEscape(it.SKUID), &s)
			var se *statusError
			switch {
			case err == nil:
				it.Name = s.Name
				if it.PriceMinor == nil {
					it.PriceMinor = &s.PriceMinor
				}
			case errors.As(err, &se) && (se.code == http.StatusForbidden || se.code == http.StatusNotFound || se.code == http.StatusUnauthorized):
				skusReadable = se.code == http.StatusNotFound
			default:
				return nil, fmt.Errorf("fetch sku %s: %w", it.SKUID, err)
			}
		}
		if it.Name == "" {
			it.Name = old.Name
		}
		if it.Name == "" {
			it.Name = "SKU " + it.SKUID[:min(8, len(it.SKUID))]
		}
		if it.PriceMinor == nil && hadOld {
			it.PriceMinor = old.PriceMinor
		}
	}
	return items, nil
}

// statusError is a non-2xx answer of the server.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string { return fmt.Sprintf("server answered %d: %s", e.code, e.body) }

func (p *pos) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("new request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+p.agent.Config.Token)
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return &statusError{code: resp.StatusCode, body: strings.TrimSpace(string(body[:min(len(body), 300)]))}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}
