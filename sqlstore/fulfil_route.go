package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
)

// Routing in the order's transaction. A same-day order is routed with the
// fulfil package's default rules over every stored node, the nodes' stock
// of the order's SKUs (available = on_hand − reserved) and their capacity
// used by the fulfilment orders already stored (all but cancelled ones,
// counted in each node's local hour and date; see usage). On PostgreSQL the node_stock
// rows of the order's SKUs are locked (SELECT … FOR UPDATE, in key order)
// before they are read, so that routing sees the stock its reservation
// will take and two orders cannot both count on the last units; on SQLite
// the single writer serialises orders anyway. Capacity: on PostgreSQL
// the nodes routing chose are locked and, when they were not locked yet,
// routing runs again to count their usage under the lock (lockNodes).
//
// Stock: a same-day order reserves the stock of its nodes, not the event's
// (the goods leave from the node); pos and next_day orders reserve event
// stock as before. When no combination of nodes can make an order asked
// for same-day, it is stored as next_day with the refusals as its
// routing_reasons, reserves event stock like any next_day order, and has no
// fulfilment orders.

// routing is the outcome of routing one order.
type routing struct {
	res   *fulfil.Result
	nodes map[string]*fulfil.Node // every node considered, Stock = available units
	locs  map[string]*time.Location
	lines []fulfil.Line // the routed lines
	src   []int         // index in the order's lines of each routed line
	brand []string      // brand of each routed line
}

// deliveryArgs returns the order's delivery columns.
func deliveryArgs(o *popkit.Order) []any {
	reasons := ""
	if len(o.RoutingReasons) > 0 {
		b, _ := json.Marshal(o.RoutingReasons)
		reasons = string(b)
	}
	if o.Delivery == nil {
		return []any{"", 0.0, 0.0, nil, reasons}
	}
	d := o.Delivery
	return []any{d.Mode, d.Lat, d.Lon, nullString(d.PickupNodeID), reasons}
}

// routeOrder checks the delivery of o and, for a same-day order, routes it;
// an order no node can make same-day becomes next_day with its reasons.
func routeOrder(ctx context.Context, tx *txn, o *popkit.Order) (*routing, error) {
	if o.Channel != popkit.ChannelSameDay {
		if o.Delivery.Mode == popkit.DeliveryPickup {
			if _, err := findNode(ctx, tx, o.Delivery.PickupNodeID); popkit.ErrorCode(err) == popkit.ENOTFOUND {
				return nil, missingRef("delivery.pickup_node_id", "node")
			} else if err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	idx := make([]int, len(o.Lines))
	for i := range idx {
		idx[i] = i
	}
	rt, err := route(ctx, tx, o, idx, nil)
	if err != nil {
		return nil, err
	}
	if rt.res.Outcome != fulfil.OutcomeSameDay {
		o.Channel = popkit.ChannelNextDay
		o.RoutingReasons = reasonsOf(rt.res)
	}
	return rt, nil
}

// reasonsOf lists a next-day result's refusals, or one reason when no node
// was even in range.
func reasonsOf(res *fulfil.Result) []popkit.RoutingReason {
	out := make([]popkit.RoutingReason, 0, len(res.Refusals)+1)
	for _, r := range res.Refusals {
		out = append(out, popkit.RoutingReason{NodeID: r.NodeID, Rule: r.Rule, Reason: r.Reason})
	}
	if res.OutOfRange > 0 {
		out = append(out, popkit.RoutingReason{Rule: fulfil.InRange{}.Name(),
			Reason: fmt.Sprintf("%d nodes do not deliver to this address", res.OutOfRange)})
	}
	if len(out) == 0 {
		out = append(out, popkit.RoutingReason{Rule: "no_node", Reason: "no fulfilment node is available"})
	}
	return out
}

// route routes the lines idx of o over the stored nodes but exclude.
func route(ctx context.Context, tx *txn, o *popkit.Order, idx []int, exclude map[string]bool) (*routing, error) {
	rt := &routing{nodes: map[string]*fulfil.Node{}, locs: map[string]*time.Location{}}
	skuIDs := make([]string, len(idx))
	for k, i := range idx {
		skuIDs[k] = o.Lines[i].SKUID
	}
	// SKU facts: perishable, weight, brand.
	in, args := tx.db.inList("id", skuIDs)
	rows, err := tx.query(ctx, `SELECT id, brand_id, perishable, weight_grams FROM skus WHERE `+in, args...)
	if err != nil {
		return nil, wrap("find skus", err)
	}
	type fact struct {
		brand      string
		perishable bool
		weight     int64
	}
	facts := map[string]fact{}
	for rows.Next() {
		var id string
		var f fact
		if err := rows.Scan(&id, &f.brand, &f.perishable, &f.weight); err != nil {
			rows.Close()
			return nil, wrap("find skus", err)
		}
		facts[id] = f
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("find skus", err)
	}
	for _, i := range idx {
		l := o.Lines[i]
		f := facts[l.SKUID]
		rt.lines = append(rt.lines, fulfil.Line{SKUID: l.SKUID, Quantity: l.Quantity, Perishable: f.perishable, WeightGrams: f.weight * int64(l.Quantity)})
		rt.src = append(rt.src, i)
		rt.brand = append(rt.brand, f.brand)
	}

	// Nodes.
	rows, err = tx.query(ctx, `SELECT `+nodeCols+` FROM nodes ORDER BY id`)
	if err != nil {
		return nil, wrap("find nodes", err)
	}
	recs, err := collect(rows, scanNode)
	if err != nil {
		return nil, wrap("find nodes", err)
	}
	d := o.Delivery
	pickupKnown := false
	nodes := make([]fulfil.Node, 0, len(recs))
	for _, r := range recs {
		if r.ID == d.PickupNodeID {
			pickupKnown = true
		}
		if exclude[r.ID] {
			continue
		}
		r.Stock = map[string]int{}
		nodes = append(nodes, r.Node)
	}
	if d.Mode == popkit.DeliveryPickup && !pickupKnown {
		return nil, missingRef("delivery.pickup_node_id", "node")
	}

	// Stock of the order's SKUs, locked on PostgreSQL.
	in, args = tx.db.inList("sku_id", skuIDs)
	q := `SELECT node_id, sku_id, on_hand - reserved FROM node_stock WHERE ` + in + ` ORDER BY node_id, sku_id`
	if tx.db.dialect == DialectPostgres {
		q += ` FOR UPDATE`
	}
	rows, err = tx.query(ctx, q, args...)
	if err != nil {
		return nil, wrap("find node stock", err)
	}
	byID := make(map[string]*fulfil.Node, len(nodes))
	for i := range nodes {
		byID[nodes[i].ID] = &nodes[i]
	}
	for rows.Next() {
		var node, sku string
		var avail int
		if err := rows.Scan(&node, &sku, &avail); err != nil {
			rows.Close()
			return nil, wrap("find node stock", err)
		}
		if n := byID[node]; n != nil {
			n.Stock[sku] = avail
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("find node stock", err)
	}

	used := &usage{ctx: ctx, tx: tx}
	rules := fulfil.DefaultRules(used)
	if perishable(rt.lines) {
		// Perishable lines stay away from nodes whose cold chain broke.
		broken, err := activeExcursionNodes(ctx, tx)
		if err != nil {
			return nil, err
		}
		if len(broken) > 0 {
			intact := fulfil.ColdChainIntact{Broken: map[string]bool{}}
			for _, id := range broken {
				intact.Broken[id] = true
			}
			rules = slices.Insert(rules, 3, fulfil.Rule(intact))
		}
	}
	router, err := fulfil.NewRouter(nodes, rules)
	if err != nil {
		return nil, fmt.Errorf("route order: %w", err)
	}
	req := &fulfil.Request{OrderID: o.ID, Mode: d.Mode, Lat: d.Lat, Lon: d.Lon, PickupNodeID: d.PickupNodeID, PlacedAt: tx.now, Lines: rt.lines}
	if d.Mode == popkit.DeliveryPickup && exclude[d.PickupNodeID] {
		// The pick-up point itself is excluded: nothing can route.
		rt.res = &fulfil.Result{OrderID: o.ID, Outcome: fulfil.OutcomeNextDay,
			Refusals: []fulfil.Refusal{{NodeID: d.PickupNodeID, Rule: "reroute", Reason: "the pick-up node gave the order up"}}}
		return rt, nil
	}
	locked := map[string]bool{}
	for attempt := 0; ; attempt++ {
		if rt.res, err = router.Route(req); err != nil {
			return nil, err
		}
		if used.err != nil {
			return nil, used.err
		}
		if tx.db.dialect != DialectPostgres || rt.res.Outcome != fulfil.OutcomeSameDay || attempt == maxCapacityRecounts {
			break
		}
		fresh, err := lockNodes(ctx, tx, rt.res.Assignments, locked)
		if err != nil {
			return nil, err
		}
		if len(fresh) == 0 {
			break // every chosen node's usage was counted under its lock
		}
		for _, id := range fresh {
			delete(used.known, id)
		}
	}
	for i := range nodes {
		n := &nodes[i]
		rt.nodes[n.ID] = n
		loc, err := fulfil.LoadLocation(n.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("node %s time zone: %w", n.ID, err)
		}
		rt.locs[n.ID] = loc
	}
	return rt, nil
}

// maxCapacityRecounts bounds how often routing runs again after locking
// the nodes it chose (see lockNodes).
const maxCapacityRecounts = 3

// lockNodes locks, on PostgreSQL, the rows of the assigned nodes that are
// not in locked yet, in id order, adds them to locked and returns them.
// Routing counted those nodes' usage before it held their locks, so a
// concurrent order may have taken their last slot: routing runs again,
// and counts them now under the lock, which every order holds from
// choosing a node until it commits. A node's capacity is therefore never
// overrun, however many orders race for it.
func lockNodes(ctx context.Context, tx *txn, as []fulfil.Assignment, locked map[string]bool) ([]string, error) {
	var ids []string
	for _, a := range as {
		if !locked[a.NodeID] {
			ids = append(ids, a.NodeID)
			locked[a.NodeID] = true
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	in, args := tx.db.inList("id", ids)
	rows, err := tx.query(ctx, `SELECT id FROM nodes WHERE `+in+` ORDER BY id FOR NO KEY UPDATE`, args...)
	if err != nil {
		return nil, wrap("lock nodes", err)
	}
	defer rows.Close()
	for rows.Next() {
	}
	return ids, wrap2("lock nodes", rows.Err())
}

// usage counts the stored fulfilment orders (all but cancelled ones) of a
// node in the local hour and date of an instant, with two indexed counts
// per node asked. The capacity rule runs last, so only nodes that passed
// every other rule are counted. Used cannot fail; the first error is kept
// in err and routing returns it.
type usage struct {
	ctx context.Context
	tx  *txn
	err error
	// Counts already made in this routing, by node; routing again after
	// lockNodes counts only the nodes it locked.
	known map[string][2]int
}

// Used implements fulfil.Usage.
func (u *usage) Used(nodeID string, local time.Time) (thisHour, today int) {
	if u.err != nil {
		return 0, 0
	}
	if c, ok := u.known[nodeID]; ok {
		return c[0], c[1]
	}
	loc := local.Location()
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	hour := time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), 0, 0, 0, loc)
	// On the night clocks change a wall-clock hour may repeat; the ledger
	// counts wall-clock hours, so the span is of the wall clock too.
	hourEnd := time.Date(local.Year(), local.Month(), local.Day(), local.Hour()+1, 0, 0, 0, loc)
	dayEnd := day.AddDate(0, 0, 1)
	err := u.tx.queryRow(u.ctx, `SELECT
			COALESCE(SUM(CASE WHEN created_at >= ? AND created_at < ? THEN 1 ELSE 0 END), 0), COUNT(*)
		FROM fulfilment_orders WHERE node_id = ? AND created_at >= ? AND created_at < ? AND status <> 'cancelled'`,
		u.tx.timeArg(hour), u.tx.timeArg(hourEnd), nodeID, u.tx.timeArg(day), u.tx.timeArg(dayEnd)).Scan(&thisHour, &today)
	if err != nil {
		u.err = wrap("count node usage", err)
		return 0, 0
	}
	if u.known == nil {
		u.known = map[string][2]int{}
	}
	u.known[nodeID] = [2]int{thisHour, today}
	return thisHour, today
}

// wrap2 is wrap that passes nil through.
func wrap2(what string, err error) error {
	if err == nil {
		return nil
	}
	return wrap(what, err)
}

// waveCutoff returns the same-day cutoff instant of the node's local date
// at now (the next one when today's has passed).
func waveCutoff(n *fulfil.Node, loc *time.Location, now time.Time) time.Time {
	l := now.In(loc)
	c := int(n.SameDayCutoff)
	cut := time.Date(l.Year(), l.Month(), l.Day(), c/60, c%60, 0, 0, loc)
	if !now.Before(cut) {
		cut = time.Date(l.Year(), l.Month(), l.Day()+1, c/60, c%60, 0, 0, loc)
	}
	return cut.UTC()
}

// createFulfilment stores one fulfilment order per assigned node, reserves
// the node stock of the lines it takes from stock (lines it makes reserve
// nothing), joins the node's forming bundle for the wave and tells an
// external node.
func createFulfilment(ctx context.Context, tx *txn, o *popkit.Order, rt *routing) error {
	o.FulfilmentOrders = nil
	for _, a := range rt.res.Assignments {
		fo, err := insertFulfilmentOrder(ctx, tx, o.ID, rt, a)
		if err != nil {
			return err
		}
		o.FulfilmentOrders = append(o.FulfilmentOrders, popkit.FulfilmentSummary{ID: fo.ID, NodeID: fo.NodeID, Status: string(fo.Status), BundleID: fo.BundleID})
	}
	return nil
}

// insertFulfilmentOrder stores the fulfilment order of one assignment.
func insertFulfilmentOrder(ctx context.Context, tx *txn, orderID string, rt *routing, a fulfil.Assignment) (*fulfil.FulfilmentOrder, error) {
	n := rt.nodes[a.NodeID]
	fo := &fulfil.FulfilmentOrder{ID: popkit.NewID(), OrderID: orderID, NodeID: n.ID, Status: fulfil.StateOpen, CreatedAt: tx.now, UpdatedAt: tx.now}
	brandUnits := map[string][2]int64{}
	var brands []string
	for _, j := range a.Lines {
		l := rt.lines[j]
		made := n.Stock[l.SKUID] < l.Quantity // the node makes what it does not have
		fo.Lines = append(fo.Lines, fulfil.OrderLine{SKUID: l.SKUID, Quantity: l.Quantity, Made: made})
		fo.Units += l.Quantity
		fo.WeightGrams += l.WeightGrams
		fo.Perishable = fo.Perishable || l.Perishable
		b := rt.brand[j]
		if _, ok := brandUnits[b]; !ok {
			brands = append(brands, b)
		}
		u := brandUnits[b]
		brandUnits[b] = [2]int64{u[0] + int64(l.Quantity), u[1] + l.WeightGrams}
	}
	if _, err := tx.exec(ctx, `INSERT INTO fulfilment_orders (id, order_id, node_id, status, held_from, perishable, units, weight_grams, created_at, updated_at)
		VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?)`, fo.ID, orderID, n.ID, string(fo.Status), fo.Perishable, fo.Units, fo.WeightGrams,
		tx.timeArg(tx.now), tx.timeArg(tx.now)); err != nil {
		return nil, wrap("insert fulfilment order", err)
	}
	lines := slices.Clone(fo.Lines)
	slices.SortFunc(lines, func(x, y fulfil.OrderLine) int { return compareStr(x.SKUID, y.SKUID) })
	for _, l := range lines {
		if _, err := tx.exec(ctx, `INSERT INTO fulfilment_order_lines (fulfilment_order_id, sku_id, quantity, made) VALUES (?, ?, ?, ?)`,
			fo.ID, l.SKUID, l.Quantity, l.Made); err != nil {
			return nil, wrap("insert fulfilment order line", err)
		}
		if l.Made {
			continue
		}
		k, err := tx.execN(ctx, `UPDATE node_stock SET reserved = reserved + ?, updated_at = ? WHERE node_id = ? AND sku_id = ? AND on_hand - reserved >= ?`,
			l.Quantity, tx.timeArg(tx.now), n.ID, l.SKUID, l.Quantity)
		if err != nil {
			return nil, wrap("reserve node stock", err)
		}
		if k == 0 {
			return nil, conflict("lines", "insufficient stock of sku %s at node %s", l.SKUID, n.ID)
		}
	}
	members := make([]fulfil.BundleMember, len(brands))
	for i, b := range brands {
		members[i] = fulfil.BundleMember{OrderID: orderID, FulfilmentOrderID: fo.ID, BrandID: b, Units: brandUnits[b][0], WeightGrams: brandUnits[b][1]}
	}
	bundleID, err := joinBundle(ctx, tx, n, rt.locs[n.ID], members)
	if err != nil {
		return nil, err
	}
	fo.BundleID = bundleID
	if n.External {
		if err := tx.notifyNode(ctx, n.ID, popkit.WebhookFulfilmentOrderCreated, fo); err != nil {
			return nil, err
		}
	}
	return fo, nil
}

// joinBundle adds a fulfilment order's members to the node's forming
// bundle of the current wave, creating it (and its lock job, scheduled at
// the cutoff) when missing. It returns the bundle id, or "" when the wave's
// bundle is no longer forming (locked early): the order then ships alone.
func joinBundle(ctx context.Context, tx *txn, n *fulfil.Node, loc *time.Location, members []fulfil.BundleMember) (string, error) {
	cutoff := waveCutoff(n, loc, tx.now)
	id := popkit.NewID()
	k, err := tx.execN(ctx, `INSERT INTO bundles (id, node_id, wave_cutoff, status, basis, cost_minor, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT (node_id, wave_cutoff) DO NOTHING`,
		id, n.ID, tx.timeArg(cutoff), string(fulfil.BundleForming), string(fulfil.ByUnits), tx.timeArg(tx.now), tx.timeArg(tx.now))
	if err != nil {
		return "", wrap("insert bundle", err)
	}
	if k == 1 {
		if err := tx.enqueue(ctx, popkit.LockBundleArgs{BundleID: id}, &river.InsertOpts{ScheduledAt: cutoff}); err != nil {
			return "", err
		}
	}
	// On PostgreSQL the share lock makes a concurrent LockBundle (which
	// takes the row for update) wait for this join, or this join see the
	// bundle locked.
	var status string
	if err := tx.queryRow(ctx, `SELECT id, status FROM bundles WHERE node_id = ? AND wave_cutoff = ?`+tx.db.forShare(), n.ID, tx.timeArg(cutoff)).Scan(&id, &status); err != nil {
		return "", wrap("find bundle", err)
	}
	if status != string(fulfil.BundleForming) {
		return "", nil
	}
	for _, m := range members {
		if _, err := tx.exec(ctx, `INSERT INTO bundle_members (bundle_id, fulfilment_order_id, brand_id, units, weight_grams) VALUES (?, ?, ?, ?, ?)`,
			id, m.FulfilmentOrderID, m.BrandID, m.Units, m.WeightGrams); err != nil {
			return "", wrap("join bundle", err)
		}
	}
	if len(members) > 0 {
		if _, err := tx.exec(ctx, `UPDATE fulfilment_orders SET bundle_id = ? WHERE id = ?`, id, members[0].FulfilmentOrderID); err != nil {
			return "", wrap("join bundle", err)
		}
	}
	return id, nil
}

// perishable reports whether any line is perishable.
func perishable(lines []fulfil.Line) bool {
	for _, l := range lines {
		if l.Perishable {
			return true
		}
	}
	return false
}
