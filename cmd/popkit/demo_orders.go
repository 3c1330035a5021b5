package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
	"github.com/popkit/popkit/sim"
)

// demoSite is an open pop-up of the demo with an edge device: where the
// demo sells at the till and places same-day orders.
type demoSite struct {
	event  *popkit.Event
	venue  *popkit.Venue
	device *popkit.Device
	items  []demoItem
	nodes  []*fulfil.NodeRecord // sim.NodeKitting, sim.NodeMicrofactory, [sim.NodePartner]
}

// demoItem is a SKU of a site's assortment with its event price.
type demoItem struct {
	sku   *popkit.SKU
	price int64
}

// demoOrders is the order side of the demo: nodes, a partner, sensor
// bindings and the orders placed so far.
type demoOrders struct {
	m      *Main
	out    io.Writer
	logger *slog.Logger
	sites  []*demoSite
	rng    *rand.Rand
}

// loadDemoSites returns the open events that have an edge device, with
// their venues and priced assortments.
func loadDemoSites(ctx context.Context, m *Main) ([]*demoSite, error) {
	devices, _, err := m.DB.FindDevices(ctx, popkit.DeviceFilter{Page: popkit.Page{Limit: 50}})
	if err != nil {
		return nil, fmt.Errorf("find demo devices: %w", err)
	}
	var sites []*demoSite
	for _, d := range devices {
		e, err := m.DB.FindEventByID(ctx, d.EventID)
		if err != nil {
			return nil, fmt.Errorf("find demo event: %w", err)
		}
		if e.Status != popkit.EventOpen {
			continue
		}
		v, err := m.DB.FindVenueByID(ctx, e.VenueID)
		if err != nil {
			return nil, fmt.Errorf("find demo venue: %w", err)
		}
		s := &demoSite{event: e, venue: v, device: d}
		// Prices in the event's currency, as its till sees them.
		till, err := m.DB.FindTillAssortment(ctx, e.ID)
		if err != nil {
			return nil, fmt.Errorf("find demo assortment: %w", err)
		}
		for _, it := range till.Items {
			if it.PriceMinor == nil {
				continue
			}
			sku, err := m.DB.FindSKUByID(ctx, it.SKUID)
			if err != nil {
				return nil, fmt.Errorf("find demo sku: %w", err)
			}
			s.items = append(s.items, demoItem{sku: sku, price: *it.PriceMinor})
		}
		sites = append(sites, s)
	}
	return sites, nil
}

// startDemoOrders seeds the fulfilment side of the demo around the open
// pop-ups and places its first orders: nodes near each pop-up, an
// external partner station (a local HTTP server that answers popkit's
// signed webhooks and moves its orders through the API), the first site's
// fridge bound to its cold-chain microfactory, and same-day orders — a
// wave of orders from two brands at the second site's kitting station that
// locks as a shared bundle at its cutoff a few minutes in, orders the
// partner delivers, and a perishable order that the fridge's excursion
// will put on hold. It returns a function that stops the partner.
func startDemoOrders(ctx context.Context, m *Main, sites []*demoSite, out io.Writer, logger *slog.Logger, seed int64) (func(), error) {
	d := &demoOrders{m: m, out: out, logger: logger, sites: sites, rng: rand.New(rand.NewPCG(uint64(seed), 4))}
	if len(sites) == 0 {
		return func() {}, nil
	}
	now := time.Now()
	var nodeSites []sim.NodeSite
	for _, s := range sites {
		ns := sim.NodeSite{Name: s.venue.Name, Lat: s.venue.Lat, Lon: s.venue.Lon, TimeZone: s.venue.TimeZone}
		for _, it := range s.items {
			ns.SKUs = append(ns.SKUs, it.sku.ID)
			if it.sku.Perishable {
				ns.Perishable = append(ns.Perishable, it.sku.ID)
			}
		}
		nodeSites = append(nodeSites, ns)
	}
	nodes, err := sim.SeedNodes(ctx, m.DB, nodeSites, now, seed)
	if err != nil {
		return nil, err
	}
	for i, s := range sites {
		s.nodes = nodes[i]
	}
	stop, err := d.startPartner(ctx)
	if err != nil {
		return nil, err
	}
	if err := d.bindFridge(ctx); err != nil {
		stop()
		return nil, err
	}
	if err := d.placeOrders(ctx); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}

// startPartner serves the external partner's webhook receiver on loopback
// and points the partner node's endpoint at it.
func (d *demoOrders) startPartner(ctx context.Context) (func(), error) {
	node := d.sites[0].nodes[sim.NodePartner]
	token, err := d.m.DB.CreateToken(ctx, &popkit.Token{Role: popkit.RoleFulfiller, NodeID: node.ID, Name: "demo partner " + node.Name})
	if err != nil {
		return nil, fmt.Errorf("create demo partner token: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the demo partner: %w", err)
	}
	ep := &popkit.WebhookEndpoint{NodeID: node.ID, URL: "http://" + ln.Addr().String() + "/webhooks/popkit"}
	if err := d.m.DB.SetWebhookEndpoint(ctx, ep); err != nil {
		ln.Close()
		return nil, fmt.Errorf("set the demo partner's webhook endpoint: %w", err)
	}
	p := &sim.Partner{Secret: ep.Secret, API: d.m.URL(), Token: token, StepDelay: 20 * time.Second, Logger: d.logger.With("partner", node.Name)}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 5 * time.Second}
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	go func() { p.Run(pctx); done <- struct{}{} }()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.logger.Error("demo partner", "err", err)
		}
		done <- struct{}{}
	}()
	return func() {
		cancel()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
		<-done
		<-done
	}, nil
}

// bindFridge binds the first site's fridge to its cold-chain microfactory:
// two minutes above 8 °C open an excursion.
func (d *demoOrders) bindFridge(ctx context.Context) error {
	s := d.sites[0]
	b := &popkit.SensorBinding{NodeID: s.nodes[sim.NodeMicrofactory].ID, ColdBox: "fridge", DeviceID: s.device.ID, Sensor: "fridge-1", LimitC: 8, MinMinutes: 2}
	err := d.m.DB.CreateSensorBinding(ctx, b)
	if popkit.ErrorCode(err) == popkit.ECONFLICT { // bound by an earlier run
		return nil
	}
	if err != nil {
		return fmt.Errorf("bind the demo fridge: %w", err)
	}
	return nil
}

// placeOrders places the demo's same-day orders.
func (d *demoOrders) placeOrders(ctx context.Context) error {
	var placed []*popkit.Order
	place := func(s *demoSite, items []demoItem, del *popkit.Delivery) error {
		if len(items) == 0 {
			return nil
		}
		o := &popkit.Order{EventID: s.event.ID, Channel: popkit.ChannelSameDay, Delivery: del}
		var total int64
		for _, it := range items {
			q := 1 + d.rng.IntN(2)
			o.Lines = append(o.Lines, popkit.OrderLine{SKUID: it.sku.ID, Quantity: q, UnitPriceMinor: it.price})
			total += int64(q) * it.price
		}
		o.Payment = popkit.Payment{Method: popkit.PaymentCard, AmountMinor: total}
		if _, err := d.m.DB.CreateOrder(ctx, o); err != nil {
			return fmt.Errorf("place a demo same-day order: %w", err)
		}
		placed = append(placed, o)
		return nil
	}
	near := func(s *demoSite) *popkit.Delivery {
		return &popkit.Delivery{Mode: popkit.DeliveryToAddress, Lat: s.venue.Lat + (d.rng.Float64()-0.5)*0.04, Lon: s.venue.Lon + (d.rng.Float64()-0.5)*0.04}
	}
	// The first site: orders for its partner station (the cheapest node
	// there), and one perishable order only the microfactory can make.
	s0 := d.sites[0]
	dry, cold := splitPerishable(s0.items)
	for range 2 {
		if err := place(s0, pickBrands(dry, d.rng), near(s0)); err != nil {
			return err
		}
	}
	if len(cold) > 0 {
		if err := place(s0, cold[:1], near(s0)); err != nil {
			return err
		}
	}
	// The second site (or the first again): a wave of orders from two
	// brands at the kitting station, which locks as one bundle.
	s1 := d.sites[min(1, len(d.sites)-1)]
	dry, _ = splitPerishable(s1.items)
	for range 4 {
		if err := place(s1, pickBrands(dry, d.rng), near(s1)); err != nil {
			return err
		}
	}
	var sameDay, fos int
	for _, o := range placed {
		if o.Channel == popkit.ChannelSameDay {
			sameDay++
		}
		fos += len(o.FulfilmentOrders)
	}
	fmt.Fprintf(d.out, "placed %d same-day orders (%d routed same-day, %d fulfilment orders at %d nodes)\n", len(placed), sameDay, fos, countNodes(d.sites))
	return nil
}

// splitPerishable separates the items that need the cold chain.
func splitPerishable(items []demoItem) (dry, cold []demoItem) {
	for _, it := range items {
		if it.sku.Perishable {
			cold = append(cold, it)
		} else {
			dry = append(dry, it)
		}
	}
	return dry, cold
}

// pickBrands picks two items of different brands when it can, else one.
func pickBrands(items []demoItem, rng *rand.Rand) []demoItem {
	if len(items) == 0 {
		return nil
	}
	first := items[rng.IntN(len(items))]
	for _, i := range rng.Perm(len(items)) {
		if items[i].sku.BrandID != first.sku.BrandID {
			return []demoItem{first, items[i]}
		}
	}
	return []demoItem{first}
}

func countNodes(sites []*demoSite) int {
	n := 0
	for _, s := range sites {
		n += len(s.nodes)
	}
	return n
}
