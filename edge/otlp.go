package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/popkit/popkit"
)

// otlpPusher pushes rollups as OTLP metrics (OTLP/HTTP with the JSON
// encoding) to an OpenTelemetry endpoint. It is best effort: the outbox,
// not OTLP, is the durable path, so a full queue drops a push.
type otlpPusher struct {
	URL      string
	DeviceID string
	Logger   *slog.Logger
	Client   *http.Client
	metrics  *metrics
	ch       chan []popkit.Rollup
}

func (p *otlpPusher) push(rs []popkit.Rollup) {
	select {
	case p.ch <- rs:
	default:
		p.metrics.otlpErrors.Inc()
	}
}

func (p *otlpPusher) run(ctx context.Context) {
	if p.Client == nil {
		p.Client = &http.Client{Timeout: 10 * time.Second}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case rs := <-p.ch:
			if err := p.send(ctx, rs); err != nil {
				p.metrics.otlpErrors.Inc()
				p.Logger.Warn("otlp push failed", "err", err)
			}
		}
	}
}

type otlpKV struct {
	Key   string            `json:"key"`
	Value map[string]string `json:"value"`
}

type otlpPoint struct {
	TimeUnixNano string   `json:"timeUnixNano"`
	AsDouble     *float64 `json:"asDouble,omitempty"`
	AsInt        string   `json:"asInt,omitempty"`
	Attributes   []otlpKV `json:"attributes"`
}

type otlpMetric struct {
	Name  string `json:"name"`
	Unit  string `json:"unit"`
	Gauge struct {
		DataPoints []otlpPoint `json:"dataPoints"`
	} `json:"gauge"`
}

func kv(k, v string) otlpKV { return otlpKV{Key: k, Value: map[string]string{"stringValue": v}} }

// otlpBody builds an ExportMetricsServiceRequest in OTLP JSON.
func otlpBody(deviceID string, rs []popkit.Rollup) ([]byte, error) {
	byName := map[string]*otlpMetric{}
	var order []string
	add := func(r *popkit.Rollup, name, unit string, isInt bool, v float64) {
		m := byName[name]
		if m == nil {
			m = &otlpMetric{Name: name, Unit: unit}
			byName[name] = m
			order = append(order, name)
		}
		pt := otlpPoint{TimeUnixNano: strconv.FormatInt(r.Minute.UnixNano(), 10),
			Attributes: []otlpKV{kv("popkit.event_id", r.EventID), kv("popkit.sensor", r.Sensor)}}
		if isInt {
			pt.AsInt = strconv.FormatInt(int64(v), 10)
		} else {
			pt.AsDouble = &v
		}
		m.Gauge.DataPoints = append(m.Gauge.DataPoints, pt)
	}
	for i := range rs {
		r := &rs[i]
		switch r.Kind {
		case popkit.RollupFootfall:
			add(r, "popkit.footfall.in", "{person}", true, float64(r.In))
			add(r, "popkit.footfall.out", "{person}", true, float64(r.Out))
		case popkit.RollupOccupancy:
			add(r, "popkit.occupancy.max", "{person}", true, float64(r.OccupancyMax))
		case popkit.RollupQueue:
			add(r, "popkit.queue.p50", "{person}", false, r.QueueP50)
			add(r, "popkit.queue.p95", "{person}", false, r.QueueP95)
			add(r, "popkit.queue.max", "{person}", false, r.QueueMax)
		case popkit.RollupDwell:
			if !r.Suppressed {
				add(r, "popkit.dwell.visitors", "{person}", true, float64(r.Visitors))
				add(r, "popkit.dwell.median", "s", false, r.DwellMedianSeconds)
			}
		case popkit.RollupTemperature:
			add(r, "popkit.temperature.min", "Cel", false, r.TempMin)
			add(r, "popkit.temperature.max", "Cel", false, r.TempMax)
			add(r, "popkit.temperature.mean", "Cel", false, r.TempMean)
		case popkit.RollupEnergy:
			add(r, "popkit.energy.consumed", "kW.h", false, r.KWh)
		}
	}
	metrics := make([]*otlpMetric, 0, len(order))
	for _, n := range order {
		metrics = append(metrics, byName[n])
	}
	return json.Marshal(map[string]any{"resourceMetrics": []any{map[string]any{
		"resource":     map[string]any{"attributes": []otlpKV{kv("service.name", "popkit-edge"), kv("popkit.device_id", deviceID)}},
		"scopeMetrics": []any{map[string]any{"scope": map[string]string{"name": "github.com/popkit/popkit/edge"}, "metrics": metrics}},
	}}})
}

func (p *otlpPusher) send(ctx context.Context, rs []popkit.Rollup) error {
	body, err := otlpBody(p.DeviceID, rs)
	if err != nil {
		return fmt.Errorf("encode otlp: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("new otlp request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post otlp: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("otlp endpoint answered %s", resp.Status)
	}
	return nil
}
