package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
)

// Same-day orders of the history: visitors who order at the pop-up for
// delivery the same day. Each city has a kitting hub 2 km from its first
// venue (open 08:00-20:00 local, same-day cutoff 15:00, stocking every
// catalogue product); orders placed before the cutoff are routed there in
// the order's own transaction, as live orders are. The shares below are
// the demo's assumptions.
const (
	historySameDayPerDay   = 3.0  // mean same-day orders per event day
	historySameDayCancel   = 0.04 // cancelled by the customer before kitting
	historySameDayLate     = 0.08 // delivered the next morning, missing the same day
	historyHubCutoffMinute = 15 * 60
	historyHubStock        = 400 // units of each product at a hub
)

// plannedOrder is a same-day order the history will place.
type plannedOrder struct {
	at    time.Time
	lines []popkit.OrderLine
	lat   float64
	lon   float64
}

// planSameDay plans an event's same-day orders: a Poisson number per
// session, placed between opening and an hour before the hub's cutoff,
// one or two dry products each (a perishable one would need a cold-chain
// node).
func (h *historian) planSameDay(e *popkit.Event, v *venue, items []*popkit.SKU) []plannedOrder {
	var dry []*popkit.SKU
	for _, k := range items {
		if !k.Perishable {
			dry = append(dry, k)
		}
	}
	if len(dry) == 0 {
		return nil
	}
	var out []plannedOrder
	for _, s := range e.Sessions {
		start, err := sessionUTC(s.Start, v.loc)
		if err != nil {
			continue
		}
		local := start.In(v.loc)
		lastMinute := historyHubCutoffMinute - 60 - (local.Hour()*60 + local.Minute())
		if lastMinute <= 0 {
			continue
		}
		for range poisson(h.rng, historySameDayPerDay) {
			p := plannedOrder{at: start.Add(time.Duration(h.rng.IntN(lastMinute)) * time.Minute),
				lat: v.Lat + (h.rng.Float64()-0.5)*0.04, lon: v.Lon + (h.rng.Float64()-0.5)*0.04}
			for _, i := range h.rng.Perm(len(dry))[:min(len(dry), 1+h.rng.IntN(2))] {
				p.lines = append(p.lines, popkit.OrderLine{SKUID: dry[i].ID, Quantity: 1, UnitPriceMinor: listPriceIn(dry[i].PriceMinor, v.city.currency)})
			}
			out = append(out, p)
		}
	}
	return out
}

// seedHubs creates each city's kitting hub and stocks it.
func (h *historian) seedHubs(ctx context.Context) error {
	if h.svc.Fulfilment == nil {
		return nil
	}
	var lines []fulfil.StockLine
	for _, ks := range h.skus {
		for _, k := range ks {
			lines = append(lines, fulfil.StockLine{SKUID: k.ID, OnHand: historyHubStock})
		}
	}
	days := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	for i := range cityPlans {
		cp := &cityPlans[i]
		v := h.venues[cp.venues[0].key]
		n := fulfil.Node{Name: cp.name + " kitting hub", Kind: fulfil.KindKittingStation, Lat: v.Lat, Lon: v.Lon + 2/(111.32*cosDeg(v.Lat)),
			ServiceRadiusKm: 15, TimeZone: cp.zone, SameDayCutoff: historyHubCutoffMinute,
			CapacityPerHour: 20, CapacityPerDay: 150, CostPerOrderMinor: 180, CostPerBundleMinor: 900}
		for _, d := range days {
			n.OpeningHours = append(n.OpeningHours, fulfil.Opening{Day: d, Open: 8 * 60, Close: 20 * 60})
		}
		n.ID = popkit.NewID()
		rec := &fulfil.NodeRecord{Node: n}
		if err := h.svc.Fulfilment.CreateNode(ctx, rec); err != nil {
			return fmt.Errorf("create hub %s: %w", n.Name, err)
		}
		if _, err := h.svc.Fulfilment.SetNodeStock(ctx, rec.ID, lines); err != nil {
			return fmt.Errorf("stock hub %s: %w", n.Name, err)
		}
	}
	return nil
}

// sameDay places the planned orders and moves each as its hub would:
// accepted, kitting, ready, out for delivery and delivered within a few
// hours (historySameDayLate of them only the next morning), or cancelled
// by the customer (historySameDayCancel) before kitting.
func (h *historian) sameDay(ctx context.Context, eventID string, planned []plannedOrder) error {
	if h.svc.Fulfilment == nil {
		return nil
	}
	for _, p := range planned {
		h.opt.SetClock(p.at)
		o := &popkit.Order{EventID: eventID, Channel: popkit.ChannelSameDay, Lines: p.lines,
			Delivery: &popkit.Delivery{Mode: popkit.DeliveryToAddress, Lat: p.lat, Lon: p.lon}}
		for _, l := range p.lines {
			o.Payment.AmountMinor += int64(l.Quantity) * l.UnitPriceMinor
		}
		o.Payment.Method = popkit.PaymentCard
		if _, err := h.svc.Orders.CreateOrder(ctx, o); err != nil {
			return fmt.Errorf("same-day order: %w", err)
		}
		h.res.SameDay++
		if o.Channel != popkit.ChannelSameDay {
			continue // routed to the next day
		}
		if h.rng.Float64() < historySameDayCancel {
			h.opt.SetClock(p.at.Add(15 * time.Minute))
			if _, err := h.svc.Orders.TransitionOrder(ctx, o.ID, popkit.OrderCancelled, "demo history", "customer cancelled"); err != nil {
				return fmt.Errorf("cancel same-day order: %w", err)
			}
			h.res.Cancelled++
			continue
		}
		late := h.rng.Float64() < historySameDayLate
		for _, fo := range o.FulfilmentOrders {
			if err := h.deliver(ctx, fo.ID, p.at, late, h.rng); err != nil {
				return err
			}
		}
		h.res.Delivered++
	}
	return nil
}

// deliver moves one fulfilment order from open to delivered, starting at
// placed.
func (h *historian) deliver(ctx context.Context, id string, placed time.Time, late bool, rng *rand.Rand) error {
	at := placed
	for _, step := range []struct {
		to    fulfil.State
		after time.Duration
	}{
		{fulfil.StateAccepted, 5 * time.Minute},
		{fulfil.StateKitting, 20 * time.Minute},
		{fulfil.StateReady, 30 * time.Minute},
		{fulfil.StateOutForDelivery, 10 * time.Minute},
		{fulfil.StateDelivered, 35 * time.Minute},
	} {
		at = at.Add(step.after + time.Duration(rng.IntN(10))*time.Minute)
		if late && step.to == fulfil.StateDelivered {
			at = at.Add(18 * time.Hour) // the courier came back the next morning
		}
		h.opt.SetClock(at)
		if _, err := h.svc.Fulfilment.TransitionFulfilmentOrder(ctx, id, step.to, "demo history", ""); err != nil {
			return fmt.Errorf("fulfilment order %s to %s: %w", id, step.to, err)
		}
	}
	return nil
}
