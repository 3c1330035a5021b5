package sim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/popkit/popkit"
)

// History sensor intervals: the people counters at the two doors report
// entries and exits every 5 minutes (as commercial counters push
// intervals; occupancy follows from them); the till camera (queue), the
// fridge logger and the energy meter every 15 minutes. Each report is one
// rollup at the interval's first minute holding the whole interval, which
// keeps a year of history to a few tens of thousands of rollups.
const (
	historyCountEvery = 5 * time.Minute
	historySlowEvery  = 15 * time.Minute
	historyMeanStay   = 20 * time.Minute
	historyRefundRate = 0.015 // share of till sales refunded after the event
)

// historyTraffic is what one history event produced, in time order.
type historyTraffic struct {
	records []popkit.UplinkRecord // rollups and sales, by time; seq unset
	at      []time.Time           // when each record was made
	sales   []*popkit.Sale
}

// traffic simulates an event's open hours: footfall at two doors shaped
// by the footfall profile at the venue's local hour (listingUplift higher
// after publishedAt, when set), the buyers among the entries, and the
// other sensors.
func (h *historian) traffic(e *popkit.Event, d *popkit.Device, v *venue, items []*popkit.SKU, publishedAt time.Time) *historyTraffic {
	profile := footfallProfile()
	scale := 0.7 + 0.6*h.rng.Float64()
	conversion := DrawConversion(h.rng)
	till := TillLabel(v.Name)
	weights := make([]float64, len(items))
	for i, k := range items {
		weights[i] = demandWeight(k.Name)
	}
	tr := &historyTraffic{}
	add := func(at time.Time, r *popkit.Rollup) {
		r.EventID, r.Minute = e.ID, at.UTC().Truncate(time.Minute)
		tr.records = append(tr.records, popkit.UplinkRecord{Kind: popkit.RecordRollup, Rollup: r})
		tr.at = append(tr.at, at.Add(historyCountEvery))
	}
	kwh := 0.0
	for _, s := range e.Sessions {
		start, err1 := sessionUTC(s.Start, v.loc)
		end, err2 := sessionUTC(s.End, v.loc)
		if err1 != nil || err2 != nil {
			continue
		}
		inside := int64(0)
		for t := start; t.Before(end); t = t.Add(historyCountEvery) {
			rate := historyPeakPerHour * scale * profile.At(t.In(v.loc))
			if !publishedAt.IsZero() && !t.Before(publishedAt) {
				rate *= 1 + listingUplift
			}
			in := poisson(h.rng, rate*historyCountEvery.Hours())
			in1 := binomial(h.rng, in, 0.65)
			leave := 1 - math.Exp(-historyCountEvery.Seconds()/historyMeanStay.Seconds())
			out := binomial(h.rng, inside, leave)
			if !t.Add(historyCountEvery).Before(end) {
				out = inside + in // closing: everyone leaves
			}
			out1 := binomial(h.rng, out, 0.65)
			occ := inside + in
			inside = occ - out
			h.res.Entries += in
			add(t, &popkit.Rollup{Sensor: "door-1", Kind: popkit.RollupFootfall, In: in1, Out: out1})
			add(t, &popkit.Rollup{Sensor: "door-2", Kind: popkit.RollupFootfall, In: in - in1, Out: out - out1})
			if t.Sub(start)%historySlowEvery == 0 {
				q := float64(occ) * 0.12
				add(t, &popkit.Rollup{Sensor: "tills", Kind: popkit.RollupQueue, QueueSamples: 15, QueueP50: math.Floor(q), QueueP95: math.Ceil(q * 1.5), QueueMax: math.Ceil(q*1.5) + 1, OpenTills: 1 + int(occ/25)})
				mean := 3.8 + 0.4*h.rng.NormFloat64()
				add(t, &popkit.Rollup{Sensor: "fridge-1", Kind: popkit.RollupTemperature, TempSamples: 15, TempMin: round2(mean - 0.4), TempMean: round2(mean), TempMax: round2(mean + 0.5)})
				used := (1.5 + 0.02*float64(occ)) * historySlowEvery.Hours()
				kwh += used
				add(t, &popkit.Rollup{Sensor: "meter-1", Kind: popkit.RollupEnergy, KWh: round3(used)})
			}
			for range Buyers(h.rng, in, conversion) {
				at := t.Add(time.Duration(h.rng.Int64N(int64(historyCountEvery))))
				sale := h.sale(e.ID, till, v.city.currency, items, weights, at)
				tr.records = append(tr.records, popkit.UplinkRecord{Kind: popkit.RecordSale, Sale: sale})
				tr.at = append(tr.at, at)
				tr.sales = append(tr.sales, sale)
			}
		}
	}
	return tr
}

// footfallProfile is the embedded profile, parsed once.
var footfallProfile = func() func() *FootfallProfile {
	var p *FootfallProfile
	return func() *FootfallProfile {
		if p == nil {
			var err error
			if p, err = LoadFootfallProfile(); err != nil {
				panic(fmt.Sprintf("sim: embedded footfall profile: %v", err))
			}
		}
		return p
	}
}()

func round2(f float64) float64 { return math.Round(f*100) / 100 }
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// binomial draws the successes of n trials of probability p.
func binomial(rng *rand.Rand, n int64, p float64) int64 {
	return Buyers(rng, n, p)
}

// sale makes one till sale of the shopper model at the instant at, priced
// in the event's currency.
func (h *historian) sale(eventID, till, currency string, items []*popkit.SKU, weights []float64, at time.Time) *popkit.Sale {
	s := &popkit.Sale{ID: uuid.Must(uuid.NewV7()).String(), EventID: eventID, Till: till, OccurredAt: at.UTC().Truncate(time.Millisecond)}
	var total int64
	for _, i := range pickWeighted(h.rng, weights, basketSize(h.rng)) {
		q := lineQuantity(h.rng)
		price := listPriceIn(items[i].PriceMinor, currency)
		s.Lines = append(s.Lines, popkit.OrderLine{SKUID: items[i].ID, Quantity: q, UnitPriceMinor: price})
		total += int64(q) * price
	}
	s.Payment = popkit.Payment{Method: popkit.PaymentCard, AmountMinor: total}
	switch x := h.rng.Float64(); {
	case x < 0.60:
		s.Payment.Method, s.Payment.ExternalRef = popkit.PaymentExternal, fmt.Sprintf("T-%06d", h.rng.IntN(1_000_000))
	case x < 0.85:
		s.Payment.Method = popkit.PaymentCash
	}
	return s
}

// ingest sends the event's records as the edge device would: in time
// order, one stream, seq from 1, in batches of at most
// popkit.MaxIngestRecords, each sent when its last record was made.
func (h *historian) ingest(ctx context.Context, eventID, deviceID string, tr *historyTraffic) error {
	stream := uuid.Must(uuid.NewV7()).String()
	order := make([]int, len(tr.records))
	for i := range order {
		order[i] = i
	}
	// Records were appended per interval; sales inside an interval may
	// precede its rollups. Sort by the time each was made.
	sortByTime(order, tr.at)
	var seq int64
	for lo := 0; lo < len(order); lo += popkit.MaxIngestRecords {
		hi := min(lo+popkit.MaxIngestRecords, len(order))
		b := &popkit.IngestBatch{DeviceID: deviceID, Stream: stream, Report: popkit.AgentReport{Version: "demo-history"}}
		for _, i := range order[lo:hi] {
			seq++
			r := tr.records[i]
			r.Seq = seq
			b.Records = append(b.Records, r)
			if tr.at[i].After(b.SentAt) {
				b.SentAt = tr.at[i]
			}
		}
		b.SentAt = b.SentAt.UTC().Truncate(time.Millisecond)
		h.opt.SetClock(b.SentAt.Add(time.Second))
		res, err := h.svc.Telemetry.Ingest(ctx, eventID, popkit.NewIngestRequest(b))
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		if res.AckSeq != seq {
			return fmt.Errorf("ingest: acked %d of %d records", res.AckSeq, seq)
		}
	}
	for _, r := range tr.records {
		if r.Kind == popkit.RecordRollup {
			h.res.Rollups++
		}
	}
	h.res.Sales += int64(len(tr.sales))
	return nil
}

// sortByTime sorts the indexes in order by at, stably.
func sortByTime(order []int, at []time.Time) {
	slices.SortStableFunc(order, func(a, b int) int { return at[a].Compare(at[b]) })
}

// refunds refunds about historyRefundRate of the sales, a day or two
// after each, through the order transitions.
func (h *historian) refunds(ctx context.Context, tr *historyTraffic) error {
	for _, s := range tr.sales {
		if h.rng.Float64() >= historyRefundRate {
			continue
		}
		h.opt.SetClock(s.OccurredAt.Add(time.Duration(24+h.rng.IntN(24)) * time.Hour))
		if _, err := h.svc.Orders.TransitionOrder(ctx, s.ID, popkit.OrderRefunded, "demo history", "customer returned the goods"); err != nil {
			return fmt.Errorf("refund sale %s: %w", s.ID, err)
		}
		h.res.Refunds++
	}
	return nil
}

// checkins records members at the door: each member living in the
// event's city comes on a day with probability 0.35, so some come on two
// days of one event (a repeat within 30 days) and a few to two events.
func (h *historian) checkins(ctx context.Context, e *popkit.Event, v *venue, sessions []popkit.Session) error {
	for _, s := range sessions {
		start, err := sessionUTC(s.Start, v.loc)
		if err != nil {
			return err
		}
		for _, m := range h.members {
			if m.city != v.city.name || h.rng.Float64() >= 0.35 {
				continue
			}
			at := start.Add(time.Duration(h.rng.IntN(8*60)) * time.Minute)
			h.opt.SetClock(at)
			c := &popkit.Checkin{MemberID: m.ID, EventID: e.ID, Source: popkit.CheckinDoor, At: at}
			if err := h.svc.Funnel.CreateCheckin(ctx, c); err != nil {
				return fmt.Errorf("check in %s: %w", m.Email, err)
			}
			h.res.Checkins++
		}
	}
	return nil
}
