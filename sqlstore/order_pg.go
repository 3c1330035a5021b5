package sqlstore

import (
	"context"
	"database/sql/driver"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/popkit/popkit"
)

// On PostgreSQL an order costs mostly round trips and statements: each
// statement sent alone costs both processes a wake-up and a few system
// calls, and on a small machine that shares its cores between the server
// and the database that limits orders per second. CreateOrder therefore
// first tries the common order (pos or next_day, every line in the
// assortment at its price and in stock, a new key and id) as two pipelined
// batches on one connection:
//
//	1: BEGIN; claim the key; read the lines' prices and stock, locking the
//	   stock rows in SKU id order
//	2: INSERT the order and its lines; store the key's response; reserve
//	   the stock; COMMIT
//
// The locks are taken in the order of the general path (the key, then the
// stock rows by SKU id), so the two paths cannot deadlock each other, and
// the stock read in batch 1 is exact until COMMIT. Anything else — a key
// already taken, a line not in the assortment or at another price, too
// little stock, any error — rolls batch 1 back and the general path
// (order.go) decides, so every refusal and replay has one implementation.
// Batch 2 holds no decision. Its statements can fail only on an order id
// that is already taken or on the database failing; the server then skips
// the rest of the batch, COMMIT included, and the general path decides.

// createOrderPipelined tries the common order as above. It returns true
// when the order was stored (o and idem are then complete), and false with
// a nil error when the general path must decide; then nothing was written
// and o is unchanged.
func (db *DB) createOrderPipelined(ctx context.Context, o *popkit.Order, idem *popkit.IdempotentWrite) (bool, error) {
	if db.dialect != DialectPostgres || db.noPipeline || o.Delivery != nil || o.Channel == popkit.ChannelSameDay {
		return false, nil
	}
	conn, err := db.wdb.Conn(ctx)
	if err != nil {
		return false, nil // the general path reports it
	}
	defer conn.Close()
	c := *o
	c.Lines = slices.Clone(o.Lines)
	var done bool
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return nil
		}
		pc := sc.Conn()
		var err error
		done, err = pipelineOrder(ctx, pc, db.now(), &c, idem)
		if pc.PgConn().TxStatus() != 'I' {
			// Batch 1 ran and the order did not commit: end the
			// transaction, or let database/sql discard the connection.
			if _, rerr := pc.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil || pc.PgConn().TxStatus() != 'I' {
				done = false
				return driver.ErrBadConn
			}
		}
		return err
	})
	if err != nil && err != driver.ErrBadConn {
		return false, err
	}
	if !done {
		return false, nil
	}
	*o = c
	db.pipelinedOrders.Add(1)
	return true, nil
}

// pipelineOrder runs the two batches on pc. It returns false, leaving the
// transaction open or failed for the caller to roll back, when the general
// path must decide.
func pipelineOrder(ctx context.Context, pc *pgx.Conn, now time.Time, o *popkit.Order, idem *popkit.IdempotentWrite) (bool, error) {
	skus := make([]string, len(o.Lines))
	for i, l := range o.Lines {
		skus[i] = l.SKUID
	}

	b := &pgx.Batch{}
	b.Queue("BEGIN")
	if idem != nil {
		r := idem.Record
		b.Queue(`INSERT INTO idempotency_keys (token_id, key, method, path, request_hash, status, content_type, location, body, created_at, completed_at)
			VALUES ($1, $2, $3, $4, $5, 0, '', '', NULL, $6, NULL) ON CONFLICT (token_id, key) DO NOTHING`,
			r.TokenID, r.Key, r.Method, r.Path, r.RequestHash, now)
	}
	b.Queue(`SELECT a.sku_id, COALESCE(a.price_minor, s.price_minor), s.unit_cost_minor, a.stock - a.reserved
		FROM assortment_items a JOIN skus s ON s.id = a.sku_id
		WHERE a.event_id = $1 AND a.sku_id = ANY($2)
		ORDER BY a.sku_id COLLATE "C" FOR NO KEY UPDATE OF a`, o.EventID, skus)
	br := pc.SendBatch(ctx, b)
	prices, claimed, err := readBatch1(br, idem != nil)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil || !claimed {
		return false, nil
	}
	if applyPrices(o, prices) != nil {
		return false, nil
	}
	for _, l := range o.Lines {
		if prices[l.SKUID].available < int64(l.Quantity) {
			return false, nil
		}
	}

	occurred := o.OccurredAt
	if occurred.IsZero() {
		occurred = now
	}
	o.Status, o.OccurredAt, o.CreatedAt, o.UpdatedAt, o.Transitions = popkit.OrderConfirmed, occurred.UTC().Truncate(time.Microsecond), now, now, nil
	var status int
	var contentType, location string
	var body []byte
	if idem != nil {
		if idem.Respond == nil {
			return false, popkit.Errorf(popkit.EINTERNAL, "idempotent write without a response renderer")
		}
		if status, contentType, location, body, err = idem.Respond(false); err != nil {
			return false, err
		}
	}

	n := len(o.Lines)
	lineNo, qty := make([]int32, n), make([]int64, n)
	price, cost := make([]int64, n), make([]int64, n)
	for i, l := range o.Lines {
		lineNo[i], qty[i], price[i], cost[i] = int32(i), int64(l.Quantity), l.UnitPriceMinor, l.UnitCostMinor
	}
	b = &pgx.Batch{}
	b.Queue(`INSERT INTO orders (`+orderCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		append([]any{o.ID, o.EventID, string(o.Channel), string(o.Status), string(o.Payment.Method), o.Payment.AmountMinor, o.Payment.ExternalRef,
			o.TotalMinor, o.CostMinor, o.OccurredAt, now, now}, deliveryArgs(o)...)...)
	b.Queue(`INSERT INTO order_lines (order_id, line_no, sku_id, quantity, unit_price_minor, unit_cost_minor)
		SELECT $1, * FROM unnest($2::int[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[])`,
		o.ID, lineNo, skus, qty, price, cost)
	if idem != nil {
		b.Queue(`UPDATE idempotency_keys SET status = $3, content_type = $4, location = $5, body = $6, completed_at = $7 WHERE token_id = $1 AND key = $2`,
			idem.Record.TokenID, idem.Record.Key, status, contentType, location, body, now)
	}
	// The rows are locked since batch 1: one statement reserves them all.
	b.Queue(`UPDATE assortment_items a SET reserved = a.reserved + v.q, updated_at = $2
		FROM unnest($3::text[], $4::bigint[]) AS v(sku, q) WHERE a.event_id = $1 AND a.sku_id = v.sku`,
		o.EventID, now, skus, qty)
	b.Queue("COMMIT")
	br = pc.SendBatch(ctx, b)
	committed, err := readBatch2(br, n, idem != nil)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if committed && err != nil {
		return false, wrap("pipelined order", err)
	}
	if err != nil {
		// Nothing committed, or the answer to COMMIT was lost: the general
		// path stores the order, or finds it and its key.
		return false, nil
	}
	if idem != nil {
		rec := idem.Record
		rec.Status, rec.ContentType, rec.Location, rec.Body, rec.CreatedAt, rec.CompletedAt = status, contentType, location, body, now, &now
		idem.Completed = true
	}
	return true, nil
}

// readBatch1 reads the answers of batch 1: whether the key was claimed
// (true when there is none) and the locked lines' prices and stock.
func readBatch1(br pgx.BatchResults, withKey bool) (map[string]linePrice, bool, error) {
	if _, err := br.Exec(); err != nil {
		return nil, false, err
	}
	claimed := true
	if withKey {
		tag, err := br.Exec()
		if err != nil {
			return nil, false, err
		}
		claimed = tag.RowsAffected() == 1
	}
	rows, err := br.Query()
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	prices := map[string]linePrice{}
	for rows.Next() {
		var id string
		var p linePrice
		if err := rows.Scan(&id, &p.price, &p.cost, &p.available); err != nil {
			return nil, false, err
		}
		prices[id] = p
	}
	return prices, claimed, rows.Err()
}

// readBatch2 checks the answers of batch 2: every statement changed the
// rows it had to, and the transaction committed. A statement that failed
// made the server skip the rest, COMMIT included. A count that is off
// cannot happen with the rows locked in batch 1; it is reported with
// committed true, as COMMIT had already been sent.
func readBatch2(br pgx.BatchResults, lines int, withKey bool) (committed bool, err error) {
	want := []int64{1, int64(lines)}
	if withKey {
		want = append(want, 1)
	}
	want = append(want, int64(lines))
	var off error
	for i, w := range want {
		tag, err := br.Exec()
		if err != nil {
			return false, err
		}
		if tag.RowsAffected() != w && off == nil {
			off = fmt.Errorf("statement %d changed %d rows, want %d", i+1, tag.RowsAffected(), w)
		}
	}
	tag, err := br.Exec()
	if err != nil {
		return false, err
	}
	if tag.String() != "COMMIT" {
		return false, fmt.Errorf("COMMIT answered %q", tag.String())
	}
	return off != nil, off
}
