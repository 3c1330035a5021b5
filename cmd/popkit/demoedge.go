package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sim"
)

// startDemoEdge starts n simulated edge agents (the real agent code fed by
// simulated sensors) for the first n seeded devices, the last one with a
// flaky internet link. It returns a function that waits for them to stop
// after ctx ends.
func startDemoEdge(ctx context.Context, m *Main, n int, logger *slog.Logger) (int, func(), error) {
	if n <= 0 {
		return 0, func() {}, nil
	}
	devices, _, err := m.DB.FindDevices(ctx, popkit.DeviceFilter{Page: popkit.Page{Limit: n}})
	if err != nil {
		return 0, nil, fmt.Errorf("find demo devices: %w", err)
	}
	var sites []sim.EdgeSite
	for i, d := range devices {
		secret, err := m.DB.CreateToken(ctx, &popkit.Token{Role: popkit.RoleDevice, EventID: d.EventID, Name: "demo edge agent " + d.ID})
		if err != nil {
			return 0, nil, fmt.Errorf("create demo device token: %w", err)
		}
		sites = append(sites, sim.EdgeSite{Name: d.Name, EventID: d.EventID, DeviceID: d.ID, Token: secret, Flaky: i == len(devices)-1 && len(devices) > 1})
	}
	dir := strings.TrimSuffix(m.DSN, filepath.Ext(m.DSN)) + "-edge"
	if strings.Contains(m.DSN, "://") {
		dir = "./popkit-demo-edge"
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := sim.RunEdge(ctx, sim.EdgeSimOptions{ServerURL: m.URL(), DataDir: dir, Sites: sites, Seed: time.Now().UnixNano(), Logger: logger})
		if err != nil {
			logger.Error("simulated edge agents", "err", err)
		}
	}()
	return len(sites), func() { <-done }, nil
}
