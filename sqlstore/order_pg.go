package sqlstore

import (
	"cmp"
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
// statement costs the server an executor start and end, and each round
// trip costs both processes a wake-up and a few system calls. On a small
// machine that shares its cores between the server and the database, that
// is what limits orders per second. So the common orders (pos or next_day,
// which need no routing) that wait for the database are written together
// (pgOrderWriters batches at a time, each of up to maxOrderBatch orders),
// in one transaction of two pipelined round trips:
//
//	1: BEGIN; claim every order's key; read the prices and stock of every
//	   line, locking the stock rows in (event, SKU id) order
//	2: INSERT the orders, then their lines; store the keys' responses;
//	   release the keys of orders left out; reserve the stock; COMMIT
//
// Between the two, each order is checked in turn against the prices and
// against the stock the orders before it left. An order that does not
// pass — its key already taken, a line not in the assortment or at
// another price, too little stock, its key or id repeated in the batch —
// is left out, and once the batch has ended it goes through the general
// path (order.go) on its own, which gives every refusal and replay its one
// implementation. If batch 2 fails (an order id already stored, the
// database failing), the server skips the rest of it, COMMIT included, and
// every order of the batch goes through the general path.
//
// The locks are taken as the general path takes them: keys first (sorted,
// where the general path has one), then stock rows in (event, SKU id)
// order, so batches cannot deadlock each other or the general path over
// keys and stock. A batch inserts its orders after taking its stock locks,
// and the general path before; the two could only wait on each other over
// one client-made order id sent twice at once by different paths.
// PostgreSQL's deadlock detector then fails one of the two: a failed batch
// sends its orders through the general path, and the general path runs a
// failed order again (createOrderAlone).

// pgOrderWriters is how many order batches run at once on PostgreSQL.
const pgOrderWriters = 2

// pipelinable reports whether o can be written in a batch: an order that
// needs no routing.
func pipelinable(o *popkit.Order) bool {
	return o.Delivery == nil && o.Channel != popkit.ChannelSameDay && len(o.RoutingReasons) == 0
}

// response is what an order's key is answered with.
type response struct {
	status                int
	contentType, location string
	body                  []byte
}

// stockKey names an assortment item.
type stockKey struct{ event, sku string }

// idemKey names an Idempotency-Key: its token and the key.
type idemKey [2]string

func keyOf(w *popkit.IdempotentWrite) idemKey { return idemKey{w.Record.TokenID, w.Record.Key} }

// writeOrdersPipelined writes a batch of orders as above and sets each
// request's answer, or its fallback to the general path.
func (db *DB) writeOrdersPipelined(batch []*orderReq) {
	live := make([]*orderReq, 0, len(batch))
	for _, r := range batch {
		if r.err = r.ctx.Err(); r.err == nil {
			r.fallback = true // until stored
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	ctx := context.WithoutCancel(db.closing)
	conn, err := db.wdb.Conn(ctx)
	if err != nil {
		return // the general path reports it
	}
	defer conn.Close()
	conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return nil
		}
		pc := sc.Conn()
		stored, err := pipelineOrders(ctx, pc, db.now(), live)
		if err != nil {
			for _, r := range stored {
				r.fallback, r.err = false, err
			}
		} else if len(stored) > 0 {
			db.writtenOrders.Add(int64(len(stored)))
			db.orderBatches.Add(1)
		}
		if pc.PgConn().TxStatus() != 'I' {
			// The batch did not commit: end its transaction, or let
			// database/sql discard the connection.
			if _, err := pc.Exec(ctx, "ROLLBACK"); err != nil || pc.PgConn().TxStatus() != 'I' {
				return driver.ErrBadConn
			}
		}
		return nil
	})
}

// pipelineOrders runs the two round trips for reqs on pc. It returns the
// requests it stored, each answered (fallback false, its order and key
// complete); the others keep fallback set and their orders unchanged. A
// non-nil error means the stored ones committed with counts that were off,
// which the locks make impossible.
func pipelineOrders(ctx context.Context, pc *pgx.Conn, now time.Time, reqs []*orderReq) ([]*orderReq, error) {
	// The candidates: the first order with each id and each key; one
	// whose key has no response renderer is the general path's to refuse.
	type cand struct {
		r     *orderReq
		o     popkit.Order // a copy, checked and priced
		saved popkit.Order // the caller's order while o stands in it
		resp  response
	}
	var cands []*cand
	ids, keys := map[string]bool{}, map[idemKey]bool{}
	for _, r := range reqs {
		if ids[r.o.ID] {
			continue
		}
		if r.idem != nil {
			k := keyOf(r.idem)
			if keys[k] || r.idem.Respond == nil {
				continue
			}
			keys[k] = true
		}
		ids[r.o.ID] = true
		c := &cand{r: r, o: *r.o}
		c.o.Lines = slices.Clone(r.o.Lines)
		cands = append(cands, c)
	}

	// Batch 1.
	withKey := slices.DeleteFunc(slices.Clone(cands), func(c *cand) bool { return c.r.idem == nil })
	slices.SortFunc(withKey, func(a, b *cand) int {
		ra, rb := a.r.idem.Record, b.r.idem.Record
		return cmp.Or(cmp.Compare(ra.TokenID, rb.TokenID), cmp.Compare(ra.Key, rb.Key))
	})
	stockSet := map[stockKey]bool{}
	for _, c := range cands {
		for _, l := range c.o.Lines {
			stockSet[stockKey{c.o.EventID, l.SKUID}] = true
		}
	}
	var evs, skus []string
	for k := range stockSet {
		evs, skus = append(evs, k.event), append(skus, k.sku)
	}
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	if len(withKey) > 0 {
		var tok, key, method, path, hash []string
		for _, c := range withKey {
			r := c.r.idem.Record
			tok, key, method, path, hash = append(tok, r.TokenID), append(key, r.Key), append(method, r.Method), append(path, r.Path), append(hash, r.RequestHash)
		}
		b.Queue(`INSERT INTO idempotency_keys (token_id, key, method, path, request_hash, status, content_type, location, body, created_at, completed_at)
			SELECT v.tok, v.key, v.method, v.path, v.hash, 0, '', '', NULL, $1, NULL
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS v(tok, key, method, path, hash, n)
			ORDER BY v.n
			ON CONFLICT (token_id, key) DO NOTHING RETURNING token_id, key`, now, tok, key, method, path, hash)
	}
	b.Queue(`SELECT a.event_id, a.sku_id, `+eventPriceCols+`, a.stock - a.reserved
		FROM `+eventPriceFrom+`
		WHERE (a.event_id, a.sku_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
		ORDER BY a.event_id COLLATE "C", a.sku_id COLLATE "C" FOR NO KEY UPDATE OF a`, evs, skus)
	br := pc.SendBatch(ctx, b)
	claimed, prices, err := readOrdersBatch1(br, len(withKey) > 0)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, nil
	}

	// Each candidate in turn, against the prices and what is left.
	avail := map[stockKey]int64{}
	for k, p := range prices {
		avail[k] = p.available
	}
	var ok []*cand
	var release []idemKey // keys claimed for orders left out
	for _, c := range cands {
		if c.r.idem != nil && !claimed[keyOf(c.r.idem)] {
			continue
		}
		if !fits(&c.o, prices, avail) {
			if c.r.idem != nil {
				release = append(release, keyOf(c.r.idem))
			}
			continue
		}
		ok = append(ok, c)
	}
	if len(ok) == 0 {
		return nil, nil
	}

	// Batch 2.
	var (
		oID, oEv, oCh, oPM, oRef []string
		oPay, oTotal, oCost      []int64
		oAt                      []time.Time
		lOrder, lSKU             []string
		lNo                      []int32
		lQty, lPrice, lCost      []int64
		kTok, kKey, kType, kLoc  []string
		kStatus                  []int64
		kBody                    [][]byte
		rTok, rKey               []string
		sEv, sSKU                []string
		sQty                     []int64
		reserved                 = map[stockKey]int64{}
		nLines                   int
		rendered                 []*cand
	)
	restore := func() {
		for _, c := range rendered {
			*c.r.o = c.saved
		}
	}
	for _, c := range ok {
		o := &c.o
		occurred := o.OccurredAt
		if occurred.IsZero() {
			occurred = now
		}
		o.Status, o.OccurredAt, o.CreatedAt, o.UpdatedAt, o.Transitions = popkit.OrderConfirmed, occurred.UTC().Truncate(time.Microsecond), now, now, nil
		oID, oEv, oCh, oPM, oRef = append(oID, o.ID), append(oEv, o.EventID), append(oCh, string(o.Channel)), append(oPM, string(o.Payment.Method)), append(oRef, o.Payment.ExternalRef)
		oPay, oTotal, oCost, oAt = append(oPay, o.Payment.AmountMinor), append(oTotal, o.TotalMinor), append(oCost, o.CostMinor), append(oAt, o.OccurredAt)
		for i, l := range o.Lines {
			lOrder, lNo, lSKU = append(lOrder, o.ID), append(lNo, int32(i)), append(lSKU, l.SKUID)
			lQty, lPrice, lCost = append(lQty, int64(l.Quantity)), append(lPrice, l.UnitPriceMinor), append(lCost, l.UnitCostMinor)
			reserved[stockKey{o.EventID, l.SKUID}] += int64(l.Quantity)
			nLines++
		}
		if c.r.idem == nil {
			continue
		}
		// The response renders the caller's order: it becomes the stored
		// one now, and is put back if the batch does not commit.
		w := c.r.idem
		c.saved, *c.r.o = *c.r.o, c.o
		rendered = append(rendered, c)
		var err error
		if c.resp.status, c.resp.contentType, c.resp.location, c.resp.body, err = w.Respond(false); err != nil {
			restore()
			return nil, nil // the general path reports it
		}
		kTok, kKey, kStatus, kType, kLoc, kBody = append(kTok, w.Record.TokenID), append(kKey, w.Record.Key), append(kStatus, int64(c.resp.status)),
			append(kType, c.resp.contentType), append(kLoc, c.resp.location), append(kBody, c.resp.body)
	}
	for _, k := range release {
		rTok, rKey = append(rTok, k[0]), append(rKey, k[1])
	}
	for k, q := range reserved {
		sEv, sSKU, sQty = append(sEv, k.event), append(sSKU, k.sku), append(sQty, q)
	}
	b = &pgx.Batch{}
	b.Queue(`INSERT INTO orders (`+orderCols+`)
		SELECT v.id, v.ev, v.ch, $1, v.pm, v.pay, v.ref, v.total, v.cost, v.at, $2, $2, '', 0, 0, NULL, ''
		FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::bigint[], $10::bigint[], $11::timestamptz[])
			AS v(id, ev, ch, pm, pay, ref, total, cost, at)`,
		string(popkit.OrderConfirmed), now, oID, oEv, oCh, oPM, oPay, oRef, oTotal, oCost, oAt)
	b.Queue(`INSERT INTO order_lines (order_id, line_no, sku_id, quantity, unit_price_minor, unit_cost_minor)
		SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[])`,
		lOrder, lNo, lSKU, lQty, lPrice, lCost)
	want := []int64{int64(len(ok)), int64(nLines)}
	if len(kTok) > 0 {
		b.Queue(`UPDATE idempotency_keys k SET status = v.status, content_type = v.ctype, location = v.loc, body = v.body, completed_at = $1
			FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::bytea[]) AS v(tok, key, status, ctype, loc, body)
			WHERE k.token_id = v.tok AND k.key = v.key`, now, kTok, kKey, kStatus, kType, kLoc, kBody)
		want = append(want, int64(len(kTok)))
	}
	if len(rTok) > 0 {
		b.Queue(`DELETE FROM idempotency_keys k USING unnest($1::text[], $2::text[]) AS v(tok, key)
			WHERE k.token_id = v.tok AND k.key = v.key`, rTok, rKey)
		want = append(want, int64(len(rTok)))
	}
	// The stock rows are locked since batch 1: one statement reserves
	// them all.
	b.Queue(`UPDATE assortment_items a SET reserved = a.reserved + v.q, updated_at = $1
		FROM unnest($2::text[], $3::text[], $4::bigint[]) AS v(ev, sku, q) WHERE a.event_id = v.ev AND a.sku_id = v.sku`,
		now, sEv, sSKU, sQty)
	want = append(want, int64(len(sEv)))
	b.Queue("COMMIT")
	br = pc.SendBatch(ctx, b)
	committed, err := readOrdersBatch2(br, want)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil && !committed {
		restore()
		return nil, nil
	}
	stored := make([]*orderReq, len(ok))
	for i, c := range ok {
		r := c.r
		stored[i] = r
		r.fallback, r.existed = false, false
		*r.o = c.o
		if r.idem != nil {
			rec := r.idem.Record
			rec.Status, rec.ContentType, rec.Location, rec.Body = c.resp.status, c.resp.contentType, c.resp.location, c.resp.body
			rec.CreatedAt, rec.CompletedAt = now, &now
			r.idem.Completed = true
		}
	}
	if err != nil {
		return stored, wrap("pipelined orders", err)
	}
	return stored, nil
}

// fits prices o against prices and checks its lines against avail,
// taking them from avail when they all fit.
func fits(o *popkit.Order, prices map[stockKey]linePrice, avail map[stockKey]int64) bool {
	byID := make(map[string]linePrice, len(o.Lines))
	for _, l := range o.Lines {
		if p, ok := prices[stockKey{o.EventID, l.SKUID}]; ok {
			byID[l.SKUID] = p
		}
	}
	if applyPrices(o, byID) != nil {
		return false
	}
	for _, l := range o.Lines {
		if avail[stockKey{o.EventID, l.SKUID}] < int64(l.Quantity) {
			return false
		}
	}
	for _, l := range o.Lines {
		avail[stockKey{o.EventID, l.SKUID}] -= int64(l.Quantity)
	}
	return true
}

// readOrdersBatch1 reads the answers of batch 1: the keys claimed, and the
// locked lines' prices and stock.
func readOrdersBatch1(br pgx.BatchResults, withKeys bool) (map[idemKey]bool, map[stockKey]linePrice, error) {
	if _, err := br.Exec(); err != nil {
		return nil, nil, err
	}
	claimed := map[idemKey]bool{}
	if withKeys {
		rows, err := br.Query()
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var k idemKey
			if err := rows.Scan(&k[0], &k[1]); err != nil {
				rows.Close()
				return nil, nil, err
			}
			claimed[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	rows, err := br.Query()
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	prices := map[stockKey]linePrice{}
	for rows.Next() {
		var k stockKey
		var p linePrice
		if err := rows.Scan(&k.event, &k.sku, &p.price, &p.cost, &p.currency, &p.available); err != nil {
			return nil, nil, err
		}
		prices[k] = p
	}
	return claimed, prices, rows.Err()
}

// readOrdersBatch2 checks the answers of batch 2: every statement changed
// the rows it had to (want), and the transaction committed. A statement
// that failed made the server skip the rest, COMMIT included. A count
// that is off cannot happen with the rows locked in batch 1; it is
// reported with committed true, as COMMIT had already been sent.
func readOrdersBatch2(br pgx.BatchResults, want []int64) (committed bool, err error) {
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
