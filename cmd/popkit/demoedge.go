package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/edge"
	"github.com/popkit/popkit/sim"
)

// startDemoEdge starts n simulated edge agents (the real agent code fed by
// simulated sensors) for the first n demo sites, the last one with a flaky
// internet link and the first one with a fridge that fails a minute in. A
// cashier sells at each agent's till; the flaky one starts with an
// oversell. It prints each till's URL to out. It returns a function that waits for them to stop after ctx
// ends.
func startDemoEdge(ctx context.Context, m *Main, sites []*demoSite, n int, out io.Writer, logger *slog.Logger) (int, func(), error) {
	n = min(n, len(sites))
	if n <= 0 {
		return 0, func() {}, nil
	}
	var edgeSites []sim.EdgeSite
	for i, s := range sites[:n] {
		d := s.device
		secret, err := m.DB.CreateToken(ctx, &popkit.Token{Role: popkit.RoleDevice, EventID: d.EventID, Name: "demo edge agent " + d.ID})
		if err != nil {
			return 0, nil, fmt.Errorf("create demo device token: %w", err)
		}
		site := sim.EdgeSite{Name: d.Name, EventID: d.EventID, DeviceID: d.ID, Token: secret, Flaky: i == n-1 && n > 1}
		if i == 0 {
			site.FridgeFailsAfter = time.Minute
		}
		edgeSites = append(edgeSites, site)
	}
	dir := strings.TrimSuffix(m.DSN, filepath.Ext(m.DSN)) + "-edge"
	if strings.Contains(m.DSN, "://") {
		dir = "./popkit-demo-edge"
	}
	var tills sync.WaitGroup
	var mu sync.Mutex
	ready := func(site sim.EdgeSite, agent *edge.Agent) {
		mu.Lock()
		fmt.Fprintf(out, "  till of %s: http://%s/pos\n", site.Name, agent.Addr())
		mu.Unlock()
		tills.Go(func() {
			sellAtTill(ctx, "http://"+agent.Addr(), site.Flaky, time.Now().UnixNano(), logger.With("till", site.Name))
		})
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := sim.RunEdge(ctx, sim.EdgeSimOptions{ServerURL: m.URL(), DataDir: dir, Sites: edgeSites, Seed: time.Now().UnixNano(), Logger: logger, Ready: ready})
		if err != nil {
			logger.Error("simulated edge agents", "err", err)
		}
	}()
	return len(edgeSites), func() { <-done; tills.Wait() }, nil
}
