package sim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
)

// NodeSite is a pop-up around which the demo places fulfilment nodes.
type NodeSite struct {
	Name     string // used in node names
	Lat, Lon float64
	TimeZone string
	SKUs     []string // SKU ids the nodes stock (the pop-up's assortment)
	// Perishable lists the SKUs of SKUs that need the cold chain; the
	// site's microfactory makes the first of them.
	Perishable []string
}

// Demo node roles, in the order SeedNodes returns a site's nodes.
const (
	NodeKitting      = iota // internal kitting station; its wave locks a few minutes in
	NodeMicrofactory        // internal cold-chain microfactory
	NodePartner             // external partner's station (the first site only)
)

// SeedNodes creates (or, on a second run, updates) the fulfilment nodes of
// the demo: per site, a kitting station 1.5 km from the pop-up whose
// same-day cutoff is a few minutes after now (so that its first wave's
// bundle locks while the demo runs) and a cold-chain microfactory 3 km away
// with a later cutoff; the first site also gets an external partner's
// station. Every node is open all day, stocks 20 to 60 units of each of
// the site's SKUs, and serves 12 km around it. It returns the nodes per
// site in NodeKitting, NodeMicrofactory, NodePartner order.
func SeedNodes(ctx context.Context, svc fulfil.Service, sites []NodeSite, now time.Time, seed int64) ([][]*fulfil.NodeRecord, error) {
	existing := map[string]*fulfil.NodeRecord{}
	for cursor := ""; ; {
		page, next, err := svc.FindNodes(ctx, fulfil.NodeFilter{Page: popkit.Page{Limit: 100, After: cursor}})
		if err != nil {
			return nil, fmt.Errorf("find demo nodes: %w", err)
		}
		for _, n := range page {
			existing[n.Name] = n
		}
		if next == "" {
			break
		}
		cursor = next
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 17))
	all := make([][]*fulfil.NodeRecord, len(sites))
	for i, s := range sites {
		loc, err := time.LoadLocation(s.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("demo node site %s: %w", s.Name, err)
		}
		local := now.In(loc)
		soon := min(fulfil.ClockOf(local)+4, 23*60+59)
		later := min(fulfil.ClockOf(local)+180, 23*60+59)
		specs := []fulfil.Node{
			{Name: "Kitting station near " + s.Name, Kind: fulfil.KindKittingStation, SameDayCutoff: soon,
				CapacityPerHour: 40, CapacityPerDay: 400, CostPerOrderMinor: 150, CostPerBundleMinor: 900},
			{Name: "Cold-chain microfactory near " + s.Name, Kind: fulfil.KindMicrofactory, SameDayCutoff: later, ColdChain: true,
				CapacityPerHour: 20, CapacityPerDay: 160, CostPerOrderMinor: 250, CostPerBundleMinor: 1200},
		}
		if len(s.Perishable) > 0 {
			specs[1].Makes = s.Perishable[:1]
		}
		if i == 0 {
			specs = append(specs, fulfil.Node{Name: "Partner station near " + s.Name, Kind: fulfil.KindKittingStation, SameDayCutoff: later,
				External: true, CapacityPerHour: 30, CapacityPerDay: 300, CostPerOrderMinor: 120, CostPerBundleMinor: 1000})
		}
		for j, spec := range specs {
			// Nodes sit 1.5, 3 and 4.5 km east of the pop-up.
			spec.Lat = s.Lat
			spec.Lon = s.Lon + float64(j+1)*1.5/(111.32*cosDeg(s.Lat))
			spec.ServiceRadiusKm = 12
			spec.TimeZone = s.TimeZone
			spec.OpeningHours = allWeek()
			rec := &fulfil.NodeRecord{Node: spec}
			if old, ok := existing[spec.Name]; ok {
				rec.ID = old.ID
				if err := svc.UpdateNode(ctx, rec); err != nil {
					return nil, fmt.Errorf("update demo node %s: %w", spec.Name, err)
				}
			} else {
				rec.ID = popkit.NewID()
				if err := svc.CreateNode(ctx, rec); err != nil {
					return nil, fmt.Errorf("create demo node %s: %w", spec.Name, err)
				}
				lines := make([]fulfil.StockLine, len(s.SKUs))
				for k, sku := range s.SKUs {
					lines[k] = fulfil.StockLine{SKUID: sku, OnHand: 20 + rng.IntN(41)}
				}
				if _, err := svc.SetNodeStock(ctx, rec.ID, lines); err != nil {
					return nil, fmt.Errorf("stock demo node %s: %w", spec.Name, err)
				}
			}
			all[i] = append(all[i], rec)
		}
	}
	return all, nil
}

// allWeek is opening hours of 00:00-24:00 every day.
func allWeek() []fulfil.Opening {
	days := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	out := make([]fulfil.Opening, len(days))
	for i, d := range days {
		out[i] = fulfil.Opening{Day: d, Open: 0, Close: 24 * 60}
	}
	return out
}

// cosDeg is the cosine of an angle in degrees.
func cosDeg(deg float64) float64 { return math.Cos(deg * math.Pi / 180) }
