package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/edge"
	"github.com/popkit/popkit/sim"
)

// demoTill is where a demo site's edge agent (and so its till) listens
// and how its till is labelled.
type demoTill struct {
	site  *demoSite
	addr  string                  // host:port; port 0 picks a free one
	label string                  // the till's label: the venue's slug and "till-1"
	bound *atomic.Pointer[string] // the address the agent listens on, once it does
}

// url returns the till's base URL once its agent listens, else "".
func (t demoTill) url() string {
	if a := t.bound.Load(); a != nil {
		return "http://" + *a
	}
	return ""
}

// planTills chooses the sites that get a simulated edge agent and the
// fixed address of each: the first n sites, those open at now first (so
// that the tills that start selling are in cities where it is daytime),
// on host at ports base, base+1, … (all port 0, free ports, when base is
// 0), each till labelled with its venue.
func planTills(sites []*demoSite, now time.Time, host string, base, n int) []demoTill {
	order := slices.Clone(sites)
	slices.SortStableFunc(order, func(a, b *demoSite) int {
		return cmp.Compare(openRank(a.event, now), openRank(b.event, now))
	})
	n = min(n, len(order))
	tills := make([]demoTill, n)
	for i, s := range order[:n] {
		port := 0
		if base > 0 {
			port = base + i
		}
		tills[i] = demoTill{site: s, addr: net.JoinHostPort(host, strconv.Itoa(port)), label: sim.TillLabel(s.venue.Name), bound: new(atomic.Pointer[string])}
	}
	return tills
}

// openRank is 0 for an event open at now, 1 otherwise.
func openRank(e *popkit.Event, now time.Time) int {
	for _, s := range e.Sessions {
		if !now.Before(s.StartUTC) && now.Before(s.EndUTC) {
			return 0
		}
	}
	return 1
}

// demoCounts is what the demo's live summary line reports from the
// simulated tills.
type demoCounts struct {
	sales   atomic.Int64 // sales rung up at the tills
	entries atomic.Int64 // door entries counted at the tills' sites
}

// startDemoEdge starts a simulated edge agent (the real agent code fed by
// simulated sensors) for each till, the last one with a flaky internet
// link and the first one with a fridge that fails a minute in. A cashier
// serves a share of each site's door entries at its till (see
// sim.Buyers); the flaky one starts with one oversell. It prints each
// till's URL to out and returns a function that waits for them to stop
// after ctx ends.
func startDemoEdge(ctx context.Context, m *Main, tills []demoTill, counts *demoCounts, seed int64, out io.Writer, logger *slog.Logger) (func(), error) {
	if len(tills) == 0 {
		return func() {}, nil
	}
	var edgeSites []sim.EdgeSite
	pending := map[string]*atomic.Int64{} // door entries not yet served, by device
	index := map[string]int{}             // the till's place in tills, by device
	for i, t := range tills {
		d := t.site.device
		secret, err := m.DB.CreateToken(ctx, &popkit.Token{Role: popkit.RoleDevice, EventID: d.EventID, Name: "demo edge agent " + d.ID})
		if err != nil {
			return nil, fmt.Errorf("create demo device token: %w", err)
		}
		loc, err := time.LoadLocation(t.site.venue.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("load the zone of %s: %w", t.site.venue.Name, err)
		}
		site := sim.EdgeSite{Name: t.site.venue.Name, EventID: d.EventID, DeviceID: d.ID, Token: secret, Flaky: i == len(tills)-1 && len(tills) > 1,
			Listen: t.addr, Till: t.label, Location: loc, Sessions: t.site.event.Sessions}
		if i == 0 {
			site.FridgeFailsAfter = time.Minute
		}
		edgeSites = append(edgeSites, site)
		pending[d.ID] = new(atomic.Int64)
		index[d.ID] = i
	}
	dir := strings.TrimSuffix(m.DSN, filepath.Ext(m.DSN)) + "-edge"
	if strings.Contains(m.DSN, "://") {
		dir = "./popkit-demo-edge"
	}
	var cashiers sync.WaitGroup
	var mu sync.Mutex
	ready := func(site sim.EdgeSite, agent *edge.Agent) {
		mu.Lock()
		fmt.Fprintf(out, "  till %-32s http://%s/pos\n", site.Till, agent.Addr())
		mu.Unlock()
		addr := agent.Addr()
		tills[index[site.DeviceID]].bound.Store(&addr)
		c := &cashier{url: "http://" + agent.Addr(), oversell: site.Flaky, pending: pending[site.DeviceID], counts: counts,
			seed: seed + int64(index[site.DeviceID]), logger: logger.With("till", site.Till)}
		cashiers.Go(func() { c.run(ctx) })
	}
	entries := func(site sim.EdgeSite, n int64) {
		pending[site.DeviceID].Add(n)
		counts.entries.Add(n)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := sim.RunEdge(ctx, sim.EdgeSimOptions{ServerURL: m.URL(), DataDir: dir, Sites: edgeSites, Seed: seed, Logger: logger, Ready: ready, Entries: entries})
		if err != nil {
			logger.Error("simulated edge agents", "err", err)
		}
	}()
	return func() { <-done; cashiers.Wait() }, nil
}
