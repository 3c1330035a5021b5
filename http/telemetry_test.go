package http_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit"
)

// gz compresses b.
func gz(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// ingest posts a batch (a value sent as JSON, or raw bytes) to
// /api/v1/ingest, gzip'd when zip is set. The OpenAPI check sees the
// decompressed body, as the server does.
func (e *env) ingest(token string, body any, zip bool, headers ...header) *response {
	e.tb.Helper()
	raw, ok := body.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			e.tb.Fatal(err)
		}
	}
	sent := raw
	if zip {
		sent = gz(e.tb, raw)
		headers = append([]header{{"Content-Encoding", "gzip"}}, headers...)
	}
	check := e.check
	e.check = nil
	defer func() { e.check = check }()
	res := e.do("POST", "/api/v1/ingest", token, sent, headers...)
	if check != nil {
		req := httptest.NewRequest("POST", "/api/v1/ingest", bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		check(e.tb, req, raw, res)
	}
	return res
}

// ingestBody is a batch of footfall records seq first.. for minutes from
// 10:00 UTC on 2026-05-01, each with in = 1.
func ingestBody(deviceID, eventID, stream string, first, n int) map[string]any {
	recs := make([]map[string]any, n)
	for i := range recs {
		minute := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(first+i) * time.Minute)
		recs[i] = map[string]any{"seq": first + i, "kind": "rollup", "rollup": map[string]any{
			"event_id": eventID, "sensor": "door", "kind": "footfall", "minute": minute.Format(time.RFC3339), "in": 1}}
	}
	return map[string]any{"device_id": deviceID, "stream": stream, "sent_at": time.Now().UTC().Format(time.RFC3339Nano),
		"report": map[string]any{"version": "test", "backlog_count": 0, "backlog_bytes": 0}, "records": recs}
}

// TestIngestHTTP covers the ingest endpoint: gzip and plain bodies,
// replays, scope, and every way a body can be bad.
func TestIngestHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	stream := popkit.NewID()

	res := decodeAs[popkit.IngestResult](t, e.ingest(w.device, ingestBody(w.dev1.ID, w.e1.ID, stream, 1, 5000), true).want(t, 200))
	if res.AckSeq != 5000 || res.Stored != 5000 || res.Duplicates != 0 {
		t.Fatalf("first batch: %+v", res)
	}
	res = decodeAs[popkit.IngestResult](t, e.ingest(w.device, ingestBody(w.dev1.ID, w.e1.ID, stream, 1, 5000), true).want(t, 200))
	if res.AckSeq != 5000 || res.Stored != 0 || res.Duplicates != 5000 {
		t.Fatalf("replay: %+v", res)
	}
	res = decodeAs[popkit.IngestResult](t, e.ingest(w.device, ingestBody(w.dev1.ID, w.e1.ID, stream, 5002, 1), false).want(t, 200))
	if res.AckSeq != 5000 || res.Stored != 1 {
		t.Fatalf("beyond a gap: %+v", res)
	}
	series := decodeAs[popkit.Series](t, e.do("GET", "/api/v1/events/"+w.e1.ID+"/telemetry?metric=footfall_in&from=2026-05-01T00:00:00Z&to=2026-05-09T00:00:00Z&step=1d", w.curator, nil).want(t, 200))
	var total float64
	for _, p := range series.Points {
		total += p.Value
	}
	if total != 5001 {
		t.Fatalf("footfall after a replay = %v, want 5001", total)
	}

	// A record of an unknown kind with fields of its own, and a rollup of
	// the wrong type: both kept and acked.
	odd := []byte(`{"device_id":"` + w.dev1.ID + `","stream":"` + stream + `","sent_at":"2026-05-01T10:00:00Z","report":{"version":"x","backlog_count":0,"backlog_bytes":0},
		"records":[{"seq":5001,"kind":"coupon","coupon":{"total_minor":1200}},{"seq":5003,"kind":"rollup","rollup":{"event_id":"` + w.e1.ID + `","in":"many"}}]}`)
	saved := e.check
	e.check = nil // the document describes rollup field types; the server keeps a mistyped record as rejected
	res = decodeAs[popkit.IngestResult](t, e.ingest(w.device, odd, true).want(t, 200))
	e.check = saved
	if res.AckSeq != 5003 || res.Stored != 2 {
		t.Fatalf("unknown and mistyped records: %+v", res)
	}
	st := decodeAs[popkit.DeviceStatus](t, e.do("GET", "/api/v1/devices/"+w.dev1.ID+"/status", e.admin, nil).want(t, 200))
	if st.RecordsStored != 5001 || st.RecordsRejected != 1 || st.RecordsUnknown != 1 || len(st.Streams) != 1 || st.Streams[0].AckSeq != 5003 {
		t.Fatalf("status: %+v", st)
	}

	bomb := gz(t, bytes.Repeat([]byte(" "), 17<<20))
	e2device := e.newToken(map[string]any{"role": "device", "event_id": w.e2.ID})
	cases := []struct {
		name   string
		token  string
		body   any
		zip    bool
		hdr    []header
		status int
		field  string
	}{
		{"device of another event", w.device, ingestBody(w.dev2.ID, w.e2.ID, popkit.NewID(), 1, 1), true, nil, 403, "device_id"},
		{"token of another event", e2device, ingestBody(w.dev1.ID, w.e1.ID, popkit.NewID(), 1, 1), true, nil, 403, "device_id"},
		{"admin token", e.admin, ingestBody(w.dev1.ID, w.e1.ID, popkit.NewID(), 1, 1), true, nil, 403, ""},
		{"gzip bomb", w.device, bomb, false, []header{{"Content-Encoding", "gzip"}}, 413, ""},
		{"oversize body", w.device, bytes.Repeat([]byte(" "), 8<<20+1), false, nil, 413, ""},
		{"malformed gzip", w.device, []byte("\x1f\x8b\x08\x00garbage"), false, []header{{"Content-Encoding", "gzip"}}, 400, ""},
		{"truncated gzip", w.device, gz(t, []byte(`{"device_id":"x"}`))[:12], false, []header{{"Content-Encoding", "gzip"}}, 400, ""},
		{"malformed JSON", w.device, []byte(`{"device_id":`), true, nil, 400, ""},
		{"unknown field", w.device, []byte(`{"device":"x"}`), true, nil, 400, "device"},
		{"seq missing", w.device, []byte(`{"device_id":"` + w.dev1.ID + `","stream":"` + stream + `","sent_at":"2026-05-01T10:00:00Z","records":[{"kind":"rollup"}]}`), true, nil, 400, "records[0].seq"},
		{"seq not increasing", w.device, []byte(`{"device_id":"` + w.dev1.ID + `","stream":"` + stream + `","sent_at":"2026-05-01T10:00:00Z","records":[{"seq":3,"kind":"x"},{"seq":3,"kind":"x"}]}`), true, nil, 400, "records[1].seq"},
		{"too many records", w.device, ingestBody(w.dev1.ID, w.e1.ID, stream, 1, popkit.MaxIngestRecords+1), true, nil, 400, "records"},
		{"brotli", w.device, ingestBody(w.dev1.ID, w.e1.ID, stream, 1, 1), false, []header{{"Content-Encoding", "br"}}, 415, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := e.with(t).ingest(c.token, c.body, c.zip, c.hdr...).want(t, c.status).problem(t)
			if c.field != "" && !p.hasField(c.field) {
				t.Fatalf("problem does not name %s: %+v", c.field, p)
			}
		})
	}
	st = decodeAs[popkit.DeviceStatus](t, e.do("GET", "/api/v1/devices/"+w.dev1.ID+"/status", e.admin, nil).want(t, 200))
	if st.RecordsStored != 5001 || len(st.Streams) != 1 {
		t.Fatalf("refused batches changed the status: %+v", st)
	}
}

// TestTelemetryHTTP covers the query parameters and the scope of the
// telemetry and device status routes.
func TestTelemetryHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	e.ingest(w.device, ingestBody(w.dev1.ID, w.e1.ID, popkit.NewID(), 1, 90), true).want(t, 200)
	brandB := e.newToken(map[string]any{"role": "brand", "brand_id": w.brandB.ID})
	base := "/api/v1/events/" + w.e1.ID + "/telemetry?"
	ok := "metric=footfall_in&from=2026-05-01T00:00:00Z&to=2026-05-02T00:00:00Z"

	s := decodeAs[popkit.Series](t, e.do("GET", base+ok, w.curator, nil).want(t, 200))
	if s.Step != "1h" || s.Aggregation != "sum" || len(s.Points) != 2 || s.Points[0].Value != 59 || s.Points[1].Value != 31 {
		t.Fatalf("default step series: %+v", s)
	}

	cases := []struct {
		name, path, token string
		status            int
		field             string
	}{
		{"admin", base + ok + "&step=15m&sensor=door", e.admin, 200, ""},
		{"own device", base + ok, w.device, 200, ""},
		{"brand of the event", base + ok, brandB, 200, ""},
		{"brand not at the event", "/api/v1/events/" + w.e2.ID + "/telemetry?" + ok, brandB, 403, ""},
		{"device of another event", "/api/v1/events/" + w.e2.ID + "/telemetry?" + ok, w.device, 403, ""},
		{"fulfiller", base + ok, w.fulfiller, 403, ""},
		{"unknown event", "/api/v1/events/" + popkit.NewID() + "/telemetry?" + ok, e.admin, 404, ""},
		{"metric missing", base + "from=2026-05-01T00:00:00Z&to=2026-05-02T00:00:00Z", e.admin, 400, "metric"},
		{"metric unknown", base + strings.Replace(ok, "footfall_in", "sales", 1), e.admin, 400, "metric"},
		{"from malformed", base + "metric=footfall_in&from=yesterday&to=2026-05-02T00:00:00Z", e.admin, 400, "from"},
		{"to missing", base + "metric=footfall_in&from=2026-05-01T00:00:00Z", e.admin, 400, "to"},
		{"to before from", base + "metric=footfall_in&from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z", e.admin, 400, "to"},
		{"step malformed", base + ok + "&step=fortnight", e.admin, 400, "step"},
		{"step not dividing a day", base + ok + "&step=7m", e.admin, 400, "step"},
		{"too many points", base + "metric=footfall_in&from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z&step=1m", e.admin, 400, "step"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := e.with(t).do("GET", c.path, c.token, nil).want(t, c.status)
			if c.status >= 400 {
				if p := res.problem(t); c.field != "" && !p.hasField(c.field) {
					t.Fatalf("problem does not name %s: %+v", c.field, p)
				}
			}
		})
	}

	status := []struct {
		name, device, token string
		want                int
	}{
		{"admin", w.dev2.ID, e.admin, 200},
		{"own event's device", w.dev1.ID, w.device, 200},
		{"another event's device", w.dev2.ID, w.device, 403},
		{"curator", w.dev1.ID, w.curator, 403},
		{"unknown device", popkit.NewID(), e.admin, 404},
	}
	for _, c := range status {
		t.Run("status/"+c.name, func(t *testing.T) {
			e.with(t).do("GET", "/api/v1/devices/"+c.device+"/status", c.token, nil).want(t, c.want)
		})
	}
	st := decodeAs[popkit.DeviceStatus](t, e.do("GET", "/api/v1/devices/"+w.dev1.ID+"/status", w.device, nil).want(t, 200))
	if st.LastSeenAt == nil || st.RecordsStored != 90 || st.Report == nil || st.Report.Version != "test" {
		t.Fatalf("status: %+v", st)
	}
	dev := decodeAs[popkit.Device](t, e.do("GET", "/api/v1/devices/"+w.dev1.ID, e.admin, nil).want(t, 200))
	if dev.LastSeenAt == nil {
		t.Fatal("ingest did not set the device's last_seen_at")
	}
}
