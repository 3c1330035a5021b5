package http

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/popkit/popkit"
)

// FuzzDecodeIngest feeds arbitrary bodies, plain and gzip'd, through the
// ingest body reader and decoder. Neither may panic; every error is a
// client error (400, 413 or 415); a decoded batch has one record per
// element with its raw JSON, and never a record without a seq.
func FuzzDecodeIngest(f *testing.F) {
	id := "01930000-0000-7000-8000-000000000001"
	f.Add([]byte(`{"device_id":"`+id+`","stream":"`+id+`","sent_at":"2026-05-01T10:00:00Z","report":{"version":"1","backlog_count":0,"backlog_bytes":0},"records":[{"seq":1,"kind":"rollup","rollup":{"event_id":"`+id+`","sensor":"d","kind":"footfall","minute":"2026-05-01T10:00:00Z","in":3}}]}`), false)
	f.Add([]byte(`{"records":[{"seq":1,"kind":"sale","x":[1,2]},{"seq":2,"kind":"rollup","rollup":{"in":"x"}}]}`), true)
	f.Add([]byte(`{"records":[{"kind":"rollup"}]}`), false)
	f.Add([]byte(`{"records":[5]}`), true)
	f.Add([]byte(`{"records":[{"seq":1e400}]}`), false)
	f.Add([]byte("\x1f\x8b\x08\x00"), false)
	f.Fuzz(func(t *testing.T, body []byte, zip bool) {
		sent := body
		req := httptest.NewRequest("POST", ingestPath, nil)
		if zip {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(body)
			zw.Close()
			sent = buf.Bytes()
			req.Header.Set("Content-Encoding", "gzip")
		}
		req.Body = httptest.NewRequest("POST", ingestPath, bytes.NewReader(sent)).Body
		raw, err := readIngestBody(req)
		if err != nil {
			if popkit.ErrorCode(err) != popkit.EINVALID && !errors.Is(err, errUnsupportedEncoding) {
				t.Fatalf("read: %v", err)
			}
			return
		}
		if zip && !bytes.Equal(raw, body) {
			t.Fatal("gunzip changed the body")
		}
		b, err := decodeIngest(raw)
		if err != nil {
			if popkit.ErrorCode(err) != popkit.EINVALID {
				t.Fatalf("decode: error code %q: %v", popkit.ErrorCode(err), err)
			}
			return
		}
		for i, r := range b.Records {
			if len(r.Raw) == 0 {
				t.Fatalf("record %d has no raw JSON", i)
			}
			status, reason := r.Status("01930000-0000-7000-8000-000000000001")
			if status != popkit.RecordStored && reason == "" {
				t.Fatalf("record %d %s without a reason", i, status)
			}
		}
		_ = b.Validate()
	})
}

// TestDecodeIngestSentAt: sent_at is spelled as RFC 3339 requires; the
// error names it.
func TestDecodeIngestSentAt(t *testing.T) {
	id := "01930000-0000-7000-8000-000000000001"
	body := func(sentAt string) []byte {
		return []byte(`{"device_id":"` + id + `","stream":"` + id + `","sent_at":"` + sentAt + `","records":[]}`)
	}
	req, err := decodeIngest(body("2026-05-01T10:00:00.25+02:00"))
	if err != nil || !req.SentAt.Equal(time.Date(2026, 5, 1, 8, 0, 0, 250e6, time.UTC)) {
		t.Fatalf("decodeIngest = %+v, %v", req, err)
	}
	for _, bad := range []string{"2026-05-01T1:00:00Z", "2026-05-01T10:00:00,5Z", "2026-05-01", "tomorrow"} {
		_, err := decodeIngest(body(bad))
		if popkit.ErrorCode(err) != popkit.EINVALID || len(popkit.ErrorFields(err)) != 1 || popkit.ErrorFields(err)[0].Field != "sent_at" {
			t.Errorf("sent_at %q: %v, want an EINVALID naming sent_at", bad, err)
		}
	}
}
