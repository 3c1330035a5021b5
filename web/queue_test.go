package web

import (
	"context"
	"testing"
	"time"

	"github.com/popkit/popkit"
)

// fakeTelemetry answers series queries from fixed points per metric.
type fakeTelemetry struct {
	popkit.TelemetryService
	points map[string][]popkit.Point
}

func (f fakeTelemetry) FindTelemetry(ctx context.Context, q popkit.TelemetryFilter) (*popkit.Series, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var out []popkit.Point
	for _, p := range f.points[q.Metric] {
		if !p.T.Before(q.From) && p.T.Before(q.To) {
			out = append(out, p)
		}
	}
	return &popkit.Series{EventID: q.EventID, Metric: q.Metric, Points: out}, nil
}

func TestTelemetryQueue(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 30, 20, 0, time.UTC)
	minute := func(ago int) time.Time { return now.Truncate(time.Minute).Add(-time.Duration(ago) * time.Minute) }
	steady := make([]popkit.Point, 15)
	for i := range steady {
		steady[i] = popkit.Point{T: minute(i), Value: 2} // 2 people a minute
	}
	tests := []struct {
		name   string
		points map[string][]popkit.Point
		want   time.Duration
		ok     bool
	}{
		{"queue of 6 at 2 a minute", map[string][]popkit.Point{popkit.MetricQueueP50: {{T: minute(1), Value: 6}}, popkit.MetricFootfallIn: steady}, 3 * time.Minute, true},
		{"latest reading wins", map[string][]popkit.Point{popkit.MetricQueueP50: {{T: minute(5), Value: 20}, {T: minute(0), Value: 4}}, popkit.MetricFootfallIn: steady}, 2 * time.Minute, true},
		{"nobody counted in: assume 1 a minute", map[string][]popkit.Point{popkit.MetricQueueP50: {{T: minute(1), Value: 5}}}, 5 * time.Minute, true},
		{"no reading", map[string][]popkit.Point{popkit.MetricFootfallIn: steady}, 0, false},
		{"stale reading", map[string][]popkit.Point{popkit.MetricQueueP50: {{T: minute(12), Value: 5}}}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := &TelemetryQueue{Telemetry: fakeTelemetry{points: tc.points}}
			got, ok, err := q.QueueWait(context.Background(), "0190f1a2-0000-7000-8000-000000000000", now)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.ok || got != tc.want {
				t.Errorf("QueueWait = %s, %v; want %s, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
