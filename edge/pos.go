package edge

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/popkit/popkit"
)

// The offline POS. The agent serves a till page on the shop's LAN (GET
// /pos) and a JSON API under /pos/api. Its state lives in the outbox file
// (tables pos_*), written by the outbox's one writer goroutine, so that a
// sale's uplink record, its receipt and its local stock decrement commit in
// one fsync'd transaction: a sale is either acknowledged to the till and
// durable, or refused with nothing changed.
//
// Local stock of a SKU is the server's available stock (on hand − reserved)
// when the assortment was last fetched, minus the local sales that the
// server had not acknowledged when that fetch started. The server applies a
// sale in the same transaction that acknowledges it, so a sale is counted
// by exactly one of the two terms (or, when acknowledged during the fetch,
// by both until the next fetch: stock shows low, never high).

// POSConfig configures the offline POS.
type POSConfig struct {
	Till     string        `yaml:"till"`     // label of the till on receipts and synced sales
	Currency string        `yaml:"currency"` // ISO 4217 code shown before the first fetch; then the event's
	Refresh  time.Duration `yaml:"refresh"`  // assortment refetch interval while online
	// CardOfflineMaxTx caps one offline card payment (minor units); 0
	// refuses offline card payments.
	CardOfflineMaxTx int64 `yaml:"card_offline_max_tx"`
	// CardOfflineMaxTotal caps the offline card payments of this device
	// that the server has not acknowledged yet (minor units).
	CardOfflineMaxTotal int64 `yaml:"card_offline_max_total"`
}

// DefaultPOSConfig returns the POS defaults: offline card payments up to
// 100.00 each and 500.00 unsynced in all, refreshed every minute.
func DefaultPOSConfig() POSConfig {
	return POSConfig{Till: "till-1", Currency: "EUR", Refresh: time.Minute, CardOfflineMaxTx: 10000, CardOfflineMaxTotal: 50000}
}

func (c *POSConfig) validate(v *popkit.Validation) {
	v.Check(popkit.ValidLabel(c.Till, 64), "pos.till", "must be 1 to 64 of A-Z a-z 0-9 . _ : -")
	v.Check(len(c.Currency) == 3 && strings.ToUpper(c.Currency) == c.Currency && isUpperLetters(c.Currency), "pos.currency", "must be a three-letter ISO 4217 code")
	v.Check(c.Refresh > 0, "pos.refresh", "must be positive")
	v.Check(c.CardOfflineMaxTx >= 0, "pos.card_offline_max_tx", "must not be negative")
	v.Check(c.CardOfflineMaxTotal >= c.CardOfflineMaxTx, "pos.card_offline_max_total", "must be at least pos.card_offline_max_tx")
}

func isUpperLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

const posSchema = `
CREATE TABLE IF NOT EXISTS pos_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pos_items (sku_id TEXT PRIMARY KEY, pos INTEGER NOT NULL, name TEXT NOT NULL, price_minor INTEGER, available INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pos_sales (id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, method TEXT NOT NULL, amount INTEGER NOT NULL, occurred_at INTEGER NOT NULL, request BLOB NOT NULL, receipt BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS pos_lines (seq INTEGER NOT NULL, sku_id TEXT NOT NULL, qty INTEGER NOT NULL, PRIMARY KEY (seq, sku_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pos_lines_sku ON pos_lines (sku_id, seq);
`

// Receipt is what the till shows after a sale, and GET
// /pos/api/sales/{id} answers.
type Receipt struct {
	ID         string         `json:"id"`
	Till       string         `json:"till"`
	Lines      []ReceiptLine  `json:"lines"`
	TotalMinor int64          `json:"total_minor"`
	Currency   string         `json:"currency"`
	Payment    popkit.Payment `json:"payment"`
	OccurredAt time.Time      `json:"occurred_at"`
	Sync       string         `json:"sync"` // "pending" until the server acknowledged the sale, then "synced"
	Oversold   []Shortfall    `json:"oversold,omitempty"`
	Replayed   bool           `json:"replayed,omitempty"` // a retry of a stored sale
	UplinkSeq  int64          `json:"uplink_seq"`
}

// ReceiptLine is one line of a receipt.
type ReceiptLine struct {
	SKUID          string `json:"sku_id"`
	Name           string `json:"name"`
	Quantity       int    `json:"quantity"`
	UnitPriceMinor int64  `json:"unit_price_minor"`
	LineTotalMinor int64  `json:"line_total_minor"`
}

// Shortfall is a SKU that a sale takes below zero local stock.
type Shortfall struct {
	SKUID     string `json:"sku_id"`
	Name      string `json:"name"`
	Stock     int64  `json:"stock"` // local stock before the sale
	Requested int    `json:"requested"`
}

// Sync states of a receipt.
const (
	SyncPending = "pending"
	SyncSynced  = "synced"
)

// Errors of a sale that the till shows.
var (
	errSaleIDReused = popkit.Errorf(popkit.ECONFLICT, "this sale id was used for a different sale")
)

// stockError refuses a sale that would take local stock below zero
// without the cashier's confirmation.
type stockError struct{ Shortfalls []Shortfall }

func (e *stockError) Error() string {
	parts := make([]string, len(e.Shortfalls))
	for i, s := range e.Shortfalls {
		parts[i] = fmt.Sprintf("%s: %d in stock, %d sold", s.Name, s.Stock, s.Requested)
	}
	return "not enough local stock (" + strings.Join(parts, "; ") + "); confirm to sell anyway"
}

// capError refuses an offline card payment over a cap.
type capError struct {
	Cap       string // card_offline_max_tx or card_offline_max_total
	Limit     int64
	Unsynced  int64 // unsynced offline card payments before this sale
	Requested int64
	Currency  string
}

func (e *capError) Error() string {
	if e.Cap == "card_offline_max_tx" {
		return fmt.Sprintf("offline card payment of %s is over the per-payment cap of %s (pos.card_offline_max_tx); take cash or use the card terminal online",
			money(e.Requested, e.Currency), money(e.Limit, e.Currency))
	}
	return fmt.Sprintf("offline card payments not yet synced would reach %s, over this till's cap of %s (pos.card_offline_max_total; %s unsynced now); take cash or wait for the connection",
		money(e.Unsynced+e.Requested, e.Currency), money(e.Limit, e.Currency), money(e.Unsynced, e.Currency))
}

func money(minor int64, cur string) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, minor/100, minor%100, cur)
}

// posItem is one cached assortment item with its local stock.
type posItem struct {
	SKUID      string `json:"sku_id"`
	Name       string `json:"name"`
	PriceMinor *int64 `json:"price_minor"` // nil: unknown, not sellable
	Stock      int64  `json:"stock"`       // local: server's available − unacknowledged local sales
}

// pos is the agent's till: its storage in the outbox file and its
// assortment refresher.
type pos struct {
	agent   *Agent
	ob      *Outbox
	cfg     POSConfig
	client  *http.Client
	online  posOnline
	metrics *posMetrics
	// cur is the currency of the cached prices: the event's, as the server
	// last said, else pos.currency from the configuration until the first
	// successful fetch.
	cur atomic.Pointer[string]
}

// currency returns the ISO 4217 code the till's prices and sales are in.
func (p *pos) currency() string { return *p.cur.Load() }

func openPOS(ctx context.Context, a *Agent) (*pos, error) {
	if _, err := a.Outbox.db.ExecContext(ctx, posSchema); err != nil {
		return nil, fmt.Errorf("create pos schema: %w", err)
	}
	p := &pos{agent: a, ob: a.Outbox, cfg: a.Config.POS, client: &http.Client{Timeout: 30 * time.Second}}
	cur := p.cfg.Currency
	if err := a.Outbox.db.QueryRowContext(ctx, "SELECT v FROM pos_meta WHERE k = 'currency'").Scan(&cur); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read pos currency: %w", err)
	}
	p.cur.Store(&cur)
	p.metrics = newPOSMetrics(p)
	if err := a.metrics.reg.Register(p.metrics); err != nil {
		return nil, fmt.Errorf("register pos metrics: %w", err)
	}
	return p, nil
}

// posMeta reads an integer of pos_meta (0 when unset).
func posMeta(q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, ctx context.Context, k string) (int64, error) {
	var s string
	err := q.QueryRowContext(ctx, "SELECT v FROM pos_meta WHERE k = ?", k).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read pos meta %s: %w", k, err)
	}
	return strconv.ParseInt(s, 10, 64)
}

func setPOSMeta(tx *sql.Tx, k string, v int64) error {
	if _, err := tx.Exec("INSERT INTO pos_meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", k, strconv.FormatInt(v, 10)); err != nil {
		return fmt.Errorf("write pos meta %s: %w", k, err)
	}
	return nil
}

// queryer is what both *sql.DB and *sql.Tx offer for reads.
type queryer interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// items returns the cached assortment with local stock, in server order.
func (p *pos) items(ctx context.Context, q queryer) ([]posItem, error) {
	fetched, err := posMeta(q, ctx, "fetched_acked")
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT i.sku_id, i.name, i.price_minor, i.available - coalesce((SELECT sum(l.qty) FROM pos_lines l WHERE l.sku_id = i.sku_id AND l.seq > ?), 0)
		FROM pos_items i ORDER BY i.pos`, fetched)
	if err != nil {
		return nil, fmt.Errorf("read pos items: %w", err)
	}
	defer rows.Close()
	var out []posItem
	for rows.Next() {
		var it posItem
		var price sql.NullInt64
		if err := rows.Scan(&it.SKUID, &it.Name, &price, &it.Stock); err != nil {
			return nil, fmt.Errorf("read pos item: %w", err)
		}
		if price.Valid {
			it.PriceMinor = &price.Int64
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// unsynced returns the count and amount of sales, and the amount of
// offline card payments, that the server has not acknowledged.
func (p *pos) unsynced(ctx context.Context, q queryer) (n, amount, cardOffline int64, err error) {
	acked := p.ob.ackedSeq.Load()
	err = q.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(amount), 0), coalesce(sum(CASE WHEN method = ? THEN amount ELSE 0 END), 0)
		FROM pos_sales WHERE seq > ?`, string(popkit.PaymentCardOffline), acked).Scan(&n, &amount, &cardOffline)
	if err != nil {
		err = fmt.Errorf("sum unsynced sales: %w", err)
	}
	return n, amount, cardOffline, err
}

// sell stores a sale: its uplink record (class sale), its receipt and its
// stock decrement in one durable transaction. It returns the receipt; a
// retry of a stored sale (same id, same request) returns the stored
// receipt with Replayed set.
func (p *pos) sell(ctx context.Context, req SaleRequest) (*Receipt, error) {
	now := p.agent.Now().UTC().Truncate(time.Microsecond)
	if req.ID == "" {
		req.ID = popkit.NewID()
	}
	if req.Till == "" {
		req.Till = p.cfg.Till
	}
	canon, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode sale request: %w", err)
	}
	var rc *Receipt
	var added, seq int64
	err = p.ob.write(ctx, func(tx *sql.Tx) error {
		rc, added, seq = nil, 0, p.ob.nextSeq
		var stored, receipt []byte
		err := tx.QueryRow("SELECT request, receipt FROM pos_sales WHERE id = ?", req.ID).Scan(&stored, &receipt)
		switch {
		case err == nil:
			if !bytes.Equal(stored, canon) {
				return errSaleIDReused
			}
			rc = &Receipt{}
			if err := json.Unmarshal(receipt, rc); err != nil {
				return fmt.Errorf("decode stored receipt: %w", err)
			}
			rc.Replayed = true
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("find sale: %w", err)
		}
		items, err := p.items(ctx, tx)
		if err != nil {
			return err
		}
		byID := make(map[string]*posItem, len(items))
		for i := range items {
			byID[items[i].SKUID] = &items[i]
		}
		r := &Receipt{ID: req.ID, Till: req.Till, Currency: p.currency(), Payment: req.Payment, OccurredAt: now, Sync: SyncPending, UplinkSeq: seq}
		var v popkit.Validation
		for i, l := range req.Lines {
			it := byID[l.SKUID]
			switch {
			case it == nil:
				v.Add(fmt.Sprintf("lines[%d].sku_id", i), "is not in this event's assortment")
				continue
			case it.PriceMinor == nil:
				v.Add(fmt.Sprintf("lines[%d].sku_id", i), "%s has no known price yet; it can be sold once the agent has fetched it", it.Name)
				continue
			}
			lt := int64(l.Quantity) * *it.PriceMinor
			r.Lines = append(r.Lines, ReceiptLine{SKUID: l.SKUID, Name: it.Name, Quantity: l.Quantity, UnitPriceMinor: *it.PriceMinor, LineTotalMinor: lt})
			r.TotalMinor += lt
			if it.Stock-int64(l.Quantity) < 0 {
				r.Oversold = append(r.Oversold, Shortfall{SKUID: l.SKUID, Name: it.Name, Stock: it.Stock, Requested: l.Quantity})
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if req.Payment.AmountMinor != r.TotalMinor {
			return popkit.InvalidField("payment.amount_minor", "is %s but the total is %s", money(req.Payment.AmountMinor, p.currency()), money(r.TotalMinor, p.currency()))
		}
		if req.Payment.Method == popkit.PaymentCardOffline {
			if r.TotalMinor > p.cfg.CardOfflineMaxTx {
				return &capError{Cap: "card_offline_max_tx", Limit: p.cfg.CardOfflineMaxTx, Requested: r.TotalMinor, Currency: p.currency()}
			}
			_, _, card, err := p.unsynced(ctx, tx)
			if err != nil {
				return err
			}
			if card+r.TotalMinor > p.cfg.CardOfflineMaxTotal {
				return &capError{Cap: "card_offline_max_total", Limit: p.cfg.CardOfflineMaxTotal, Unsynced: card, Requested: r.TotalMinor, Currency: p.currency()}
			}
		}
		if len(r.Oversold) > 0 && !req.AllowOversell {
			return &stockError{Shortfalls: r.Oversold}
		}
		sale := popkit.Sale{ID: req.ID, EventID: p.agent.Config.EventID, Till: req.Till, Payment: req.Payment, OccurredAt: now}
		for _, l := range r.Lines {
			sale.Lines = append(sale.Lines, popkit.OrderLine{SKUID: l.SKUID, Quantity: l.Quantity, UnitPriceMinor: l.UnitPriceMinor})
		}
		body, err := json.Marshal(popkit.UplinkRecord{Seq: seq, Kind: popkit.RecordSale, Sale: &sale})
		if err != nil {
			return fmt.Errorf("encode sale record: %w", err)
		}
		added = int64(len(body))
		if p.ob.opts.MaxBytes > 0 && p.ob.outboxBytes.Load()+added > p.ob.opts.MaxBytes {
			return ErrOutboxFull
		}
		if _, err := tx.Exec("INSERT INTO outbox (seq, class, body) VALUES (?, ?, ?)", seq, ClassSale, body); err != nil {
			return fmt.Errorf("insert sale record: %w", err)
		}
		if err := setMeta(tx, "next_seq", seq+1); err != nil {
			return err
		}
		rb, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode receipt: %w", err)
		}
		if _, err := tx.Exec("INSERT INTO pos_sales (id, seq, method, amount, occurred_at, request, receipt) VALUES (?, ?, ?, ?, ?, ?, ?)",
			req.ID, seq, string(req.Payment.Method), r.TotalMinor, now.UnixMicro(), canon, rb); err != nil {
			return fmt.Errorf("insert sale: %w", err)
		}
		for _, l := range r.Lines {
			if _, err := tx.Exec("INSERT INTO pos_lines (seq, sku_id, qty) VALUES (?, ?, ?)", seq, l.SKUID, l.Quantity); err != nil {
				return fmt.Errorf("insert sale line: %w", err)
			}
		}
		rc = r
		return nil
	}, func() {
		if added == 0 {
			return // a replay
		}
		p.ob.nextSeq = seq + 1
		p.ob.lastSeq.Store(seq)
		p.ob.outboxBytes.Add(added)
	})
	if errors.Is(err, ErrOutboxFull) {
		p.ob.full.Store(true)
	}
	if err != nil {
		return nil, err
	}
	if added > 0 {
		select {
		case p.ob.notify <- struct{}{}:
		default:
		}
	}
	p.setSync(rc)
	return rc, nil
}

// setSync sets a receipt's sync state from the outbox acknowledgement.
func (p *pos) setSync(r *Receipt) {
	r.Sync = SyncPending
	if r.UplinkSeq <= p.ob.ackedSeq.Load() {
		r.Sync = SyncSynced
	}
}

// receipt returns a stored sale's receipt. Returns ENOTFOUND.
func (p *pos) receipt(ctx context.Context, id string) (*Receipt, error) {
	var b []byte
	err := p.ob.db.QueryRowContext(ctx, "SELECT receipt FROM pos_sales WHERE id = ?", id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, popkit.Errorf(popkit.ENOTFOUND, "no sale %s on this till (receipts are kept a day after they sync)", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find sale: %w", err)
	}
	r := &Receipt{}
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("decode receipt: %w", err)
	}
	p.setSync(r)
	return r, nil
}

// recent returns the latest receipts, newest first.
func (p *pos) recent(ctx context.Context, limit int) ([]*Receipt, error) {
	rows, err := p.ob.db.QueryContext(ctx, "SELECT receipt FROM pos_sales ORDER BY seq DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("list sales: %w", err)
	}
	defer rows.Close()
	out := []*Receipt{}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("read sale: %w", err)
		}
		r := &Receipt{}
		if err := json.Unmarshal(b, r); err != nil {
			return nil, fmt.Errorf("decode receipt: %w", err)
		}
		p.setSync(r)
		out = append(out, r)
	}
	return out, rows.Err()
}

// fetchedItem is one assortment item as fetched from the server.
type fetchedItem struct {
	SKUID      string
	Name       string
	PriceMinor *int64
	Available  int64
}

// replace stores a fetched assortment as the cache, with the currency of
// its prices when the server said it (currency not empty). acked is the outbox
// acknowledgement observed before the fetch started: sales up to it are
// in the server's figures. Receipts of sales that are both acknowledged
// and covered by a fetch are kept for a day, then deleted.
func (p *pos) replace(ctx context.Context, items []fetchedItem, currency string, acked int64) error {
	now := p.agent.Now()
	err := p.ob.write(ctx, func(tx *sql.Tx) error {
		if currency != "" {
			if _, err := tx.Exec("INSERT INTO pos_meta (k, v) VALUES ('currency', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", currency); err != nil {
				return fmt.Errorf("write pos currency: %w", err)
			}
		}
		if _, err := tx.Exec("DELETE FROM pos_items"); err != nil {
			return fmt.Errorf("clear pos items: %w", err)
		}
		ins, err := tx.Prepare("INSERT INTO pos_items (sku_id, pos, name, price_minor, available) VALUES (?, ?, ?, ?, ?)")
		if err != nil {
			return fmt.Errorf("prepare pos item insert: %w", err)
		}
		defer ins.Close()
		for i, it := range items {
			var price any
			if it.PriceMinor != nil {
				price = *it.PriceMinor
			}
			if _, err := ins.Exec(it.SKUID, i, it.Name, price, it.Available); err != nil {
				return fmt.Errorf("store pos item: %w", err)
			}
		}
		if err := setPOSMeta(tx, "fetched_acked", acked); err != nil {
			return err
		}
		if err := setPOSMeta(tx, "refreshed_at", now.UnixMicro()); err != nil {
			return err
		}
		cutoff := now.Add(-24 * time.Hour).UnixMicro()
		if _, err := tx.Exec("DELETE FROM pos_lines WHERE seq <= ? AND seq IN (SELECT seq FROM pos_sales WHERE occurred_at < ?)", acked, cutoff); err != nil {
			return fmt.Errorf("prune sale lines: %w", err)
		}
		if _, err := tx.Exec("DELETE FROM pos_sales WHERE seq <= ? AND occurred_at < ?", acked, cutoff); err != nil {
			return fmt.Errorf("prune sales: %w", err)
		}
		return nil
	}, nil)
	if err == nil && currency != "" {
		p.cur.Store(&currency)
	}
	return err
}

// cachedNames returns the cached names and prices, to keep what a fetch
// could not read.
func (p *pos) cached(ctx context.Context) (map[string]fetchedItem, error) {
	rows, err := p.ob.db.QueryContext(ctx, "SELECT sku_id, name, price_minor FROM pos_items")
	if err != nil {
		return nil, fmt.Errorf("read pos items: %w", err)
	}
	defer rows.Close()
	m := map[string]fetchedItem{}
	for rows.Next() {
		var it fetchedItem
		var price sql.NullInt64
		if err := rows.Scan(&it.SKUID, &it.Name, &price); err != nil {
			return nil, fmt.Errorf("read pos item: %w", err)
		}
		if price.Valid {
			it.PriceMinor = &price.Int64
		}
		m[it.SKUID] = it
	}
	return m, rows.Err()
}
