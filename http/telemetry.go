package http

import (
	"net/http"
	"time"

	"github.com/popkit/popkit"
)

// Who may read telemetry (see policy.go for the general rules):
//   - GET /api/v1/events/{id}/telemetry: admin and curator for any event;
//     a brand token for events its brand takes part in; a device token
//     for its own event. Anything else is 403.
//   - GET /api/v1/devices/{id}/status: admin, and a device token for the
//     devices of its own event (403 otherwise).
const (
	telemetryNote    = "Brand tokens may read only events their brand takes part in, device tokens only their own event (403 otherwise). Buckets are UTC multiples of step (1d buckets are UTC days, not venue days); buckets without data are left out. Aggregations: footfall_in, footfall_out, visitors, energy_kwh: sum; occupancy_max, queue_max, temperature_max: max; temperature_min: min; queue_p50, queue_p95: per-minute quantiles averaged with the minute's sample count as weight (an approximation: quantiles do not merge exactly); dwell_median_seconds: per-minute medians weighted by visitors; temperature_mean: weighted by samples. More than 10,000 buckets is 400."
	deviceStatusNote = "Device tokens may read only devices of their own event (403 otherwise)."
	ingestNote       = "The body is an IngestBatch, usually with Content-Encoding: gzip (at most 8 MiB as sent and 16 MiB decompressed, else 413). The device must belong to the token's event (403). Each (device, stream, seq) is stored once; ack_seq is the highest seq up to which the stream has no gap. Invalid records are stored as rejected and acked, records of unknown kinds stored raw and acked; only an unreadable batch (malformed JSON or gzip, a missing or non-increasing seq) is 400."
)

// defaultStep is the step of a telemetry query that names none.
const defaultStep = "1h"

func (s *Server) getTelemetry(w http.ResponseWriter, r *http.Request) {
	f, err := s.telemetryFilter(r)
	if err == nil {
		var series *popkit.Series
		if series, err = s.Telemetry.FindTelemetry(r.Context(), f); err == nil {
			writeJSON(w, r, http.StatusOK, series)
			return
		}
	}
	s.writeError(w, r, err)
}

// telemetryFilter reads the event and query of a telemetry request and
// applies the caller's scope.
func (s *Server) telemetryFilter(r *http.Request) (popkit.TelemetryFilter, error) {
	var f popkit.TelemetryFilter
	id, err := pathID(r, "id", "event")
	if err != nil {
		return f, err
	}
	t := token(r)
	switch t.Role {
	case popkit.RoleDevice:
		if err := useEvent(t, id); err != nil {
			return f, err
		}
	case popkit.RoleBrand:
		e, err := s.Events.FindEventByID(r.Context(), id)
		if err != nil {
			return f, err
		}
		if !e.HasBrand(t.BrandID) {
			return f, forbidden("a brand token may read telemetry only of events its brand takes part in")
		}
	}
	q := &query{r: r}
	f = popkit.TelemetryFilter{EventID: id, Metric: q.r.URL.Query().Get("metric"), Sensor: q.r.URL.Query().Get("sensor")}
	if f.Metric == "" {
		q.fail("metric", "is required")
	}
	f.From = requiredTime(q, "from")
	f.To = requiredTime(q, "to")
	step := q.r.URL.Query().Get("step")
	if step == "" {
		step = defaultStep
	}
	if d, err := popkit.ParseStep(step); err != nil && q.err == nil {
		q.err = err
	} else {
		f.Step = d
	}
	if q.err != nil {
		return f, q.err
	}
	return f, f.Validate()
}

// requiredTime reads a required RFC 3339 query parameter.
func requiredTime(q *query, param string) time.Time {
	if q.r.URL.Query().Get(param) == "" {
		q.fail(param, "is required (an RFC 3339 time such as 2026-05-01T10:00:00Z)")
		return time.Time{}
	}
	return q.time(param)
}

func (s *Server) getDeviceStatus(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "device")
	if err == nil {
		var st *popkit.DeviceStatus
		if st, err = s.Telemetry.FindDeviceStatus(r.Context(), id); err == nil {
			if err = useEvent(token(r), st.EventID); err == nil {
				writeJSON(w, r, http.StatusOK, st)
				return
			}
		}
	}
	s.writeError(w, r, err)
}
