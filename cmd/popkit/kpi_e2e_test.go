package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/edge"
)

// TestDwellEndToEnd posts 12 people who each stay 90 s to an edge agent
// as presence enter/exit pairs, lets it uplink to a real server, and reads
// the dwell back from the telemetry series and from the KPI report: 90 s
// both times. It used to read 0 s: the series weighted minutes by visitors
// who entered in them and took the entry minute's "no stay ended" 0 as a
// value.
func TestDwellEndToEnd(t *testing.T) {
	s := newEdgeSite(t)
	ctx := context.Background()
	c := edge.DefaultConfig()
	c.ServerURL, c.Token, c.DeviceID, c.EventID = s.m.URL(), s.token, s.device.ID, s.device.EventID
	c.DataDir, c.Listen = t.TempDir(), "127.0.0.1:0"
	c.BatchSize, c.BatchInterval, c.RollupDelay, c.RetryMin, c.RetryMax = 50, 20*time.Millisecond, 0, 10*time.Millisecond, 100*time.Millisecond
	a := &edge.Agent{Config: c}
	if err := a.Open(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	defer func() { cancel(); <-done }()

	m := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	var lines []string
	for i := range 12 {
		in := m.Add(time.Duration(5+i) * time.Second)
		lines = append(lines,
			fmt.Sprintf(`{"type":"presence","sensor":"ble","ts":%q,"id":"aa:bb:cc:00:00:%02d","action":"enter"}`, in.Format(time.RFC3339Nano), i),
			fmt.Sprintf(`{"type":"presence","sensor":"ble","ts":%q,"id":"aa:bb:cc:00:00:%02d","action":"exit"}`, in.Add(90*time.Second).Format(time.RFC3339Nano), i))
	}
	resp, err := http.Post("http://"+a.Addr()+"/v1/readings", "application/json", strings.NewReader("["+strings.Join(lines, ",")+"]"))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("post readings: %v %v", resp, err)
	}
	resp.Body.Close()

	q := url.Values{"metric": {popkit.MetricDwellMedian}, "step": {"1h"},
		"from": {m.Format(time.RFC3339)}, "to": {m.Add(time.Hour).Format(time.RFC3339)}}
	dwell := func() (float64, bool) {
		var series popkit.Series
		if code := do(t, "GET", s.m.URL()+"/api/v1/events/"+s.device.EventID+"/telemetry?"+q.Encode(), s.admin, nil, &series); code != http.StatusOK {
			t.Fatalf("GET telemetry = %d", code)
		}
		if len(series.Points) != 1 {
			return 0, false
		}
		return series.Points[0].Value, true
	}
	waitUntil(t, 20*time.Second, "the dwell rollups at the server", func() bool {
		_, ok := dwell()
		return ok && a.Outbox.Stats().Backlog == 0
	})
	if got, _ := dwell(); got != 90 {
		t.Fatalf("telemetry dwell_median_seconds = %v, want 90", got)
	}

	kq := url.Values{"scope": {"event"}, "id": {s.device.EventID}, "group": {"hour"},
		"from": {m.Format(time.RFC3339)}, "to": {m.Add(time.Hour).Format(time.RFC3339)}}
	var rep popkit.KPIReport
	if code := do(t, "GET", s.m.URL()+"/api/v1/kpis?"+kq.Encode(), s.admin, nil, &rep); code != http.StatusOK {
		t.Fatalf("GET kpis = %d", code)
	}
	v := rep.Total.Value("dwell_median_seconds")
	if v == nil || v.Value == nil || *v.Value != 90 || v.Inputs["stays"] != 12 {
		t.Fatalf("KPI dwell_median_seconds = %+v, want 90 s over 12 stays", v)
	}
}
