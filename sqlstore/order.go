package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

var _ popkit.OrderService = (*DB)(nil)

// Stock model: assortment_items.stock is the stock on hand at the event and
// assortment_items.reserved the part of it that confirmed orders hold;
// available = stock − reserved, and a CHECK keeps 0 ≤ reserved ≤ stock. An
// order reserves each line with one conditional UPDATE in the transaction
// that inserts it, so the check and the reservation cannot be split by a
// concurrent order: on SQLite writers are serialised by BEGIN IMMEDIATE, on
// PostgreSQL the UPDATE takes the row lock and re-evaluates its WHERE on the
// committed row. Lines are reserved in SKU id order so that two orders never
// lock the same rows in opposite orders (no deadlock).
//
// A same-day order (one with a delivery that routing gives to nodes) holds
// node stock instead: see fulfil_route.go. pos and next_day orders hold
// event stock as above.

// CreateOrder stores a confirmed order and reserves its stock in one
// transaction. See popkit.OrderService.
func (db *DB) CreateOrder(ctx context.Context, o *popkit.Order) (bool, error) {
	now := db.now()
	if err := o.Validate(now); err != nil {
		return false, err
	}
	if o.ID == "" {
		o.ID = popkit.NewID()
	}
	// An Idempotency-Key from the API is claimed, with its response, in
	// the order's transaction (storeKeyInTx): after the order's rows,
	// before the stock is locked.
	idem := popkit.IdempotentWriteFrom(ctx)
	if !db.plainOrders && (db.dialect == DialectSQLite || pipelinable(o)) {
		return db.createOrderBatched(ctx, o, idem)
	}
	return db.createOrderAlone(ctx, o, idem)
}

// createOrderAlone stores o in a transaction of its own: the general path.
// A transaction PostgreSQL ends to break a deadlock is run again, from the
// order as the caller gave it, up to maxOrderAttempts times. Two orders can
// still wait on each other in rare cases: one client-made id sent twice at
// once, once through a batch (stock locked, then the order inserted) and
// once through this path (the order inserted, then the stock locked); or
// two same-day orders re-routed to nodes outside the set they locked first.
func (db *DB) createOrderAlone(ctx context.Context, o *popkit.Order, idem *popkit.IdempotentWrite) (bool, error) {
	given := *o
	given.Lines = slices.Clone(o.Lines)
	for attempt := 1; ; attempt++ {
		existed, err := db.createOrderOnce(ctx, o, idem)
		if err == nil || attempt == maxOrderAttempts || !retryable(err) || ctx.Err() != nil {
			return existed, err
		}
		*o = given
		o.Lines = slices.Clone(given.Lines)
	}
}

// maxOrderAttempts bounds how often createOrderAlone runs an order's
// transaction.
const maxOrderAttempts = 3

// createOrderOnce is one attempt of createOrderAlone.
func (db *DB) createOrderOnce(ctx context.Context, o *popkit.Order, idem *popkit.IdempotentWrite) (bool, error) {
	tx, err := db.begin(ctx, true)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	existed, err := createOrderTx(ctx, tx, o, idem)
	if err != nil {
		return false, err
	}
	if err := tx.commit(); err != nil {
		return false, err
	}
	if idem != nil {
		idem.Completed = true
	}
	return existed, nil
}

// createOrderTx stores o, or finds the stored order with its id, in tx,
// and stores the response under the key of idem when there is one; the
// caller commits and then marks idem completed. It reports whether the
// order already existed.
func createOrderTx(ctx context.Context, tx *txn, o *popkit.Order, idem *popkit.IdempotentWrite) (bool, error) {
	if err := priceLines(ctx, tx, o); err != nil {
		// A line missing from the assortment may mean that the event is
		// unknown; only then is it looked up, to keep the common path short.
		if err := eventExists(ctx, tx, o.EventID); popkit.ErrorCode(err) == popkit.ENOTFOUND {
			return false, missingRef("event_id", "event")
		} else if err != nil {
			return false, err
		}
		return false, err
	}
	occurred := o.OccurredAt
	if occurred.IsZero() {
		occurred = tx.now
	}
	occurred = occurred.UTC().Truncate(time.Microsecond)
	// Same-day orders are routed to nodes first (fulfil_route.go); pos
	// orders skip all of it.
	var rt *routing
	var err error
	asked := o.Channel
	if o.Delivery != nil {
		if rt, err = routeOrder(ctx, tx, o); err != nil {
			return false, err
		}
	}
	n, err := tx.execN(ctx, `INSERT INTO orders (`+orderCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		append([]any{o.ID, o.EventID, string(o.Channel), string(popkit.OrderConfirmed), string(o.Payment.Method), o.Payment.AmountMinor, o.Payment.ExternalRef,
			o.TotalMinor, o.CostMinor, tx.timeArg(occurred), tx.timeArg(tx.now), tx.timeArg(tx.now)}, deliveryArgs(o)...)...)
	if err != nil {
		return false, wrap("insert order", err)
	}
	if n == 0 {
		// The client's id is taken: a retry of the same order, or a misuse.
		o.Channel = asked
		stored, err := findOrder(ctx, tx, o.ID, true)
		if err != nil {
			return false, err
		}
		if !o.SameRequest(stored) {
			return false, conflict("id", "order id already used for a different order")
		}
		*o = *stored
		if idem != nil {
			if err := storeKeyInTx(ctx, tx, idem, true); err != nil {
				return false, err
			}
		}
		return true, nil
	}
	if err := insertLines(ctx, tx, o); err != nil {
		return false, err
	}
	o.Status, o.OccurredAt, o.CreatedAt, o.UpdatedAt, o.Transitions = popkit.OrderConfirmed, occurred, tx.now, tx.now, nil
	if o.Channel == popkit.ChannelSameDay {
		// Same-day orders take their stock from the nodes that make them;
		// the answer names the fulfilment orders, so the key comes last.
		if err := createFulfilment(ctx, tx, o, rt); err != nil {
			return false, err
		}
		if idem != nil {
			if err := storeKeyInTx(ctx, tx, idem, false); err != nil {
				return false, err
			}
		}
	} else {
		// The key before the reservation: a retry waiting on this order's
		// key holds no stock row, and finds the stored answer instead of
		// "insufficient stock".
		if idem != nil {
			if err := storeKeyInTx(ctx, tx, idem, false); err != nil {
				return false, err
			}
		}
		if err := reserve(ctx, tx, o); err != nil {
			return false, err
		}
	}
	return false, nil
}

// insertLines stores the lines of o, all in one statement: one round trip
// to the database.
func insertLines(ctx context.Context, tx *txn, o *popkit.Order) error {
	var q strings.Builder
	args := make([]any, 0, 6*len(o.Lines))
	q.WriteString(`INSERT INTO order_lines (order_id, line_no, sku_id, quantity, unit_price_minor, unit_cost_minor) VALUES `)
	for i, l := range o.Lines {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?)")
		args = append(args, o.ID, i, l.SKUID, l.Quantity, l.UnitPriceMinor, l.UnitCostMinor)
	}
	if _, err := tx.exec(ctx, q.String(), args...); err != nil {
		return wrap("insert order lines", err)
	}
	return nil
}

// priceLines checks every line against the event's assortment and sets its
// unit cost and the order's totals.
func priceLines(ctx context.Context, tx *txn, o *popkit.Order) error {
	ids := make([]string, len(o.Lines))
	for i, l := range o.Lines {
		ids[i] = l.SKUID
	}
	in, args := tx.db.inList("a.sku_id", ids)
	rows, err := tx.query(ctx, `SELECT a.sku_id, `+eventPriceCols+`
		FROM `+eventPriceFrom+` WHERE a.event_id = ? AND `+in, append([]any{o.EventID}, args...)...)
	if err != nil {
		return wrap("find order prices", err)
	}
	prices := map[string]linePrice{}
	defer rows.Close()
	for rows.Next() {
		var id string
		var p linePrice
		if err := rows.Scan(&id, &p.price, &p.cost, &p.currency); err != nil {
			return wrap("find order prices", err)
		}
		prices[id] = p
	}
	if err := rows.Err(); err != nil {
		return wrap("find order prices", err)
	}
	return applyPrices(o, prices)
}

// eventPriceCols and eventPriceFrom select a SKU's price and unit cost at
// an event (alias a for its assortment item) in the event's currency: the
// item's override, else the SKU's price in the currency of the event's
// city; -1 where the SKU has no price in that currency; and the currency.
const (
	eventPriceCols = `COALESCE(a.price_minor, sp.price_minor, -1), COALESCE(sp.unit_cost_minor, -1), c.currency`
	eventPriceFrom = `assortment_items a JOIN events e ON e.id = a.event_id JOIN cities c ON c.id = e.city_id
		LEFT JOIN sku_prices sp ON sp.sku_id = a.sku_id AND sp.currency = c.currency`
)

// linePrice is the price and unit cost of a SKU at an event, in the
// event's currency (-1 when the SKU has none in it), and, where the caller
// locked its row, the stock available.
type linePrice struct {
	price, cost, available int64
	currency               string
}

// applyPrices checks the lines of o against the event's prices and sets
// each line's unit cost and the order's totals. A SKU without a price in
// the event's currency is EUNPROCESSABLE naming the line.
func applyPrices(o *popkit.Order, prices map[string]linePrice) error {
	var v, unpriced popkit.Validation
	o.TotalMinor, o.CostMinor = 0, 0
	for i := range o.Lines {
		l := &o.Lines[i]
		p, ok := prices[l.SKUID]
		if !ok {
			v.Add(fmt.Sprintf("lines[%d].sku_id", i), "is not in the event's assortment")
			continue
		}
		if p.price < 0 || p.cost < 0 {
			unpriced.Add(fmt.Sprintf("lines[%d].sku_id", i), "has no price in %s, the event's currency", p.currency)
			continue
		}
		if l.UnitPriceMinor != p.price {
			v.Add(fmt.Sprintf("lines[%d].unit_price_minor", i), "must equal the event's price %d", p.price)
			continue
		}
		l.UnitCostMinor = p.cost
		o.TotalMinor += int64(l.Quantity) * l.UnitPriceMinor
		o.CostMinor += int64(l.Quantity) * l.UnitCostMinor
	}
	if err := v.Err(); err != nil {
		return err
	}
	if err := unpriced.Err(); err != nil {
		e := err.(*popkit.Error)
		e.Code = popkit.EUNPROCESSABLE
		return e
	}
	return nil
}

// reserve takes the stock of every line of o, in SKU id order, with one
// conditional UPDATE each. It returns ECONFLICT "insufficient stock" naming
// the first line that cannot be served.
func reserve(ctx context.Context, tx *txn, o *popkit.Order) error {
	for _, i := range bySKU(o.Lines) {
		l := o.Lines[i]
		n, err := tx.execN(ctx, `UPDATE assortment_items SET reserved = reserved + ?, updated_at = ? WHERE event_id = ? AND sku_id = ? AND stock - reserved >= ?`,
			l.Quantity, tx.timeArg(tx.now), o.EventID, l.SKUID, l.Quantity)
		if err != nil {
			return wrap("reserve stock", err)
		}
		if n == 0 {
			return conflict(fmt.Sprintf("lines[%d].quantity", i), "insufficient stock for lines[%d] (sku %s)", i, l.SKUID)
		}
	}
	return nil
}

// bySKU returns the indexes of lines in SKU id order, the order in which
// stock rows are locked.
func bySKU(lines []popkit.OrderLine) []int {
	order := make([]int, len(lines))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(lines[a].SKUID, lines[b].SKUID) })
	return order
}

// FindOrderByID returns an order with its lines and transitions. Returns
// ENOTFOUND.
func (db *DB) FindOrderByID(ctx context.Context, id string) (*popkit.Order, error) {
	if !popkit.ValidID(id) {
		return nil, notFound("order")
	}
	tx, err := db.begin(ctx, false)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findOrder(ctx, tx, id, true)
}

// FindOrders returns a page of orders with their lines, in id order.
func (db *DB) FindOrders(ctx context.Context, f popkit.OrderFilter) ([]*popkit.Order, string, error) {
	var w where
	if f.EventID != "" {
		w.and("event_id = ?", f.EventID)
	}
	if f.Status != "" {
		w.and("status = ?", string(f.Status))
	}
	if f.Channel != "" {
		w.and("channel = ?", string(f.Channel))
	}
	return findPageThen(ctx, db, "find orders", f.Page, &w, orderCols, "orders", "id", scanOrder,
		func(o *popkit.Order) string { return o.ID }, loadLines)
}

// TransitionOrder moves an order to another status and moves its stock.
// See popkit.OrderService.
func (db *DB) TransitionOrder(ctx context.Context, id string, to popkit.OrderStatus, actor, reason string) (*popkit.Order, error) {
	if err := popkit.ValidateTransition(to, reason); err != nil {
		return nil, err
	}
	if !popkit.ValidID(id) {
		return nil, notFound("order")
	}
	tx, err := db.begin(ctx, true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := transitionOrder(ctx, tx, id, to, actor, reason); err != nil {
		return nil, err
	}
	o, err := findOrder(ctx, tx, id, true)
	if err != nil {
		return nil, err
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	return o, nil
}

// transitionOrder moves an order to another status in tx, with its stock
// and, for a same-day order being cancelled, its fulfilment orders.
func transitionOrder(ctx context.Context, tx *txn, id string, to popkit.OrderStatus, actor, reason string) error {
	o, err := findOrder(ctx, tx, id, false)
	if err != nil {
		return err
	}
	from := o.Status
	if !from.CanMoveTo(to) {
		return conflict("to", "an order cannot move from %s to %s", from, to)
	}
	if to == popkit.OrderCancelled && o.Channel == popkit.ChannelSameDay {
		if err := cancelFulfilment(ctx, tx, id, actor, reason); err != nil {
			return err
		}
	}
	// The status update is conditional on the status read, so that two
	// concurrent transitions on PostgreSQL cannot both apply.
	n, err := tx.execN(ctx, `UPDATE orders SET status = ?, updated_at = ? WHERE id = ? AND status = ?`, string(to), tx.timeArg(tx.now), id, string(from))
	if err != nil {
		return wrap("update order status", err)
	}
	if n == 0 {
		return conflict("to", "the order changed concurrently; read it and retry")
	}
	if err := moveStock(ctx, tx, o, from, to); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `INSERT INTO order_transitions (order_id, seq, from_status, to_status, actor, reason, at)
		VALUES (?, (SELECT COUNT(*) FROM order_transitions WHERE order_id = ?), ?, ?, ?, ?, ?)`,
		id, id, string(from), string(to), actor, reason, tx.timeArg(tx.now)); err != nil {
		return wrap("insert order transition", err)
	}
	return nil
}

// moveStock applies the stock effect of a transition: leaving a status that
// holds a reservation for fulfilled consumes it, for cancelled releases it.
func moveStock(ctx context.Context, tx *txn, o *popkit.Order, from, to popkit.OrderStatus) error {
	// A same-day order holds node stock, moved by its fulfilment orders.
	if !from.HoldsReservation() || to.HoldsReservation() || o.Channel == popkit.ChannelSameDay {
		return nil
	}
	stock := "stock"
	switch to {
	case popkit.OrderFulfilled:
		stock = "stock - ?"
	case popkit.OrderCancelled:
	default:
		return nil
	}
	lines := slices.Clone(o.Lines)
	slices.SortFunc(lines, func(a, b popkit.OrderLine) int {
		if a.SKUID < b.SKUID {
			return -1
		}
		return 1
	})
	for _, l := range lines {
		args := []any{}
		if stock != "stock" {
			args = append(args, l.Quantity)
		}
		args = append(args, l.Quantity, tx.timeArg(tx.now), o.EventID, l.SKUID, l.Quantity)
		n, err := tx.execN(ctx, `UPDATE assortment_items SET stock = `+stock+`, reserved = reserved - ?, updated_at = ? WHERE event_id = ? AND sku_id = ? AND reserved >= ?`, args...)
		if err != nil {
			return wrap("move order stock", err)
		}
		if n == 0 {
			return conflict("to", "the reservation of sku %s is gone (the item was removed from the assortment)", l.SKUID)
		}
	}
	return nil
}

const orderCols = `id, event_id, channel, status, payment_method, payment_amount_minor, payment_external_ref, total_minor, cost_minor, occurred_at, created_at, updated_at,
	delivery_mode, delivery_lat, delivery_lon, pickup_node_id, routing_reasons`

func scanOrder(s scanner) (*popkit.Order, error) {
	var o popkit.Order
	var channel, status, method, mode, reasons string
	var d popkit.Delivery
	var pickup sql.NullString
	if err := s.Scan(&o.ID, &o.EventID, &channel, &status, &method, &o.Payment.AmountMinor, &o.Payment.ExternalRef,
		&o.TotalMinor, &o.CostMinor, scanTime(&o.OccurredAt), scanTime(&o.CreatedAt), scanTime(&o.UpdatedAt),
		&mode, &d.Lat, &d.Lon, &pickup, &reasons); err != nil {
		return nil, err
	}
	o.Channel, o.Status, o.Payment.Method = popkit.Channel(channel), popkit.OrderStatus(status), popkit.PaymentMethod(method)
	if mode != "" {
		d.Mode, d.PickupNodeID = mode, pickup.String
		o.Delivery = &d
	}
	if reasons != "" {
		if err := json.Unmarshal([]byte(reasons), &o.RoutingReasons); err != nil {
			return nil, fmt.Errorf("routing reasons: %w", err)
		}
	}
	return &o, nil
}

// findOrder reads one order with its lines and, when history is set, its
// transitions.
func findOrder(ctx context.Context, tx *txn, id string, history bool) (*popkit.Order, error) {
	o, err := scanOrder(tx.queryRow(ctx, `SELECT `+orderCols+` FROM orders WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("order")
	} else if err != nil {
		return nil, wrap("find order", err)
	}
	if err := loadLines(ctx, tx, []*popkit.Order{o}); err != nil {
		return nil, err
	}
	if o.Channel == popkit.ChannelSameDay {
		if o.FulfilmentOrders, err = fulfilmentSummaries(ctx, tx, id); err != nil {
			return nil, err
		}
	}
	if !history {
		return o, nil
	}
	o.Transitions, err = readHistory(ctx, tx, "order_transitions", "order_id", id, func(from, to, actor, reason string, at time.Time) popkit.OrderTransition {
		return popkit.OrderTransition{From: popkit.OrderStatus(from), To: popkit.OrderStatus(to), Actor: actor, Reason: reason, At: at}
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// readHistory reads the stored status changes of one object from table
// (keyed by keyCol, in seq order), oldest first, making each with mk.
func readHistory[T any](ctx context.Context, tx *txn, table, keyCol, id string, mk func(from, to, actor, reason string, at time.Time) T) ([]T, error) {
	rows, err := tx.query(ctx, `SELECT from_status, to_status, actor, reason, at FROM `+table+` WHERE `+keyCol+` = ? ORDER BY seq`, id)
	if err != nil {
		return nil, wrap("find "+table, err)
	}
	out, err := collect(rows, func(s scanner) (T, error) {
		var from, to, actor, reason string
		var at time.Time
		err := s.Scan(&from, &to, &actor, &reason, scanTime(&at))
		return mk(from, to, actor, reason, at), err
	})
	if err != nil {
		return nil, wrap("find "+table, err)
	}
	return out, nil
}

// loadLines fills the lines of orders with one query.
func loadLines(ctx context.Context, tx *txn, orders []*popkit.Order) error {
	if len(orders) == 0 {
		return nil
	}
	byID := make(map[string]*popkit.Order, len(orders))
	ids := make([]string, len(orders))
	for i, o := range orders {
		byID[o.ID], ids[i] = o, o.ID
		o.Lines = []popkit.OrderLine{}
	}
	in, args := tx.db.inList("order_id", ids)
	rows, err := tx.query(ctx, `SELECT order_id, sku_id, quantity, unit_price_minor, unit_cost_minor FROM order_lines WHERE `+in+` ORDER BY order_id, line_no`, args...)
	if err != nil {
		return wrap("find order lines", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var l popkit.OrderLine
		if err := rows.Scan(&id, &l.SKUID, &l.Quantity, &l.UnitPriceMinor, &l.UnitCostMinor); err != nil {
			return wrap("find order lines", err)
		}
		byID[id].Lines = append(byID[id].Lines, l)
	}
	if err := rows.Err(); err != nil {
		return wrap("find order lines", err)
	}
	return nil
}
