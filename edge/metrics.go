package edge

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the agent's Prometheus metrics, served on /metrics.
type metrics struct {
	reg           *prometheus.Registry
	accepted      *prometheus.CounterVec
	rejected      *prometheus.CounterVec
	refused       prometheus.Counter
	uplinkLatency prometheus.Histogram
	uplinkErrors  prometheus.Counter
	lastSync      prometheus.Gauge
	clockSkew     prometheus.Gauge
	otlpErrors    prometheus.Counter
}

func newMetrics(o func() OutboxStats) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.accepted = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "popkit_edge_readings_accepted_total", Help: "Readings stored durably, by class (reading type)."}, []string{"class"})
	m.rejected = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "popkit_edge_readings_rejected_total", Help: "Invalid readings refused at input, by class (reading type, or unknown)."}, []string{"class"})
	m.refused = prometheus.NewCounter(prometheus.CounterOpts{Name: "popkit_edge_readings_refused_total", Help: "Valid readings refused because the outbox was full."})
	m.uplinkLatency = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "popkit_edge_uplink_latency_seconds", Help: "Time of successful uplink requests.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)})
	m.uplinkErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "popkit_edge_uplink_errors_total", Help: "Failed uplink attempts."})
	m.lastSync = prometheus.NewGauge(prometheus.GaugeOpts{Name: "popkit_edge_last_sync_timestamp_seconds", Help: "Unix time of the last successful uplink."})
	m.clockSkew = prometheus.NewGauge(prometheus.GaugeOpts{Name: "popkit_edge_clock_skew_seconds", Help: "Device clock minus server clock at the last uplink."})
	m.otlpErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "popkit_edge_otlp_errors_total", Help: "Failed OTLP pushes."})
	gauge := func(name, help string, f func(s OutboxStats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(o()) })
	}
	m.reg.MustRegister(m.accepted, m.rejected, m.refused, m.uplinkLatency, m.uplinkErrors, m.lastSync, m.clockSkew, m.otlpErrors,
		gauge("popkit_edge_outbox_depth", "Uplink records waiting for the server's acknowledgement.", func(s OutboxStats) float64 { return float64(s.Backlog) }),
		gauge("popkit_edge_outbox_bytes", "Bytes of uplink records waiting.", func(s OutboxStats) float64 { return float64(s.RecordBytes) }),
		gauge("popkit_edge_raw_bytes", "Bytes of raw readings kept for the retention.", func(s OutboxStats) float64 { return float64(s.RawBytes) }),
		gauge("popkit_edge_outbox_full", "1 while the outbox is at its size limit and input is refused (alarm).", func(s OutboxStats) float64 {
			if s.Full {
				return 1
			}
			return 0
		}),
		gauge("popkit_edge_quarantined_outboxes", "Outbox files quarantined as corrupt since the data dir was made.", func(s OutboxStats) float64 { return float64(s.Quarantined) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "popkit_edge_readings_dropped_total", Help: "Raw readings dropped oldest-first by the size policy (class raw).", ConstLabels: prometheus.Labels{"class": ClassRaw}}, func() float64 { return float64(o().DroppedRaw) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}
