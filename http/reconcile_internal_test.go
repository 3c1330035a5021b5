package http

import (
	"testing"
	"time"

	"github.com/popkit/popkit"
)

// FuzzDecodeExceptionResolution: the resolution decoder never panics,
// fails only with EINVALID, and what it accepts passes Validate.
func FuzzDecodeExceptionResolution(f *testing.F) {
	id := "01930000-0000-7000-8000-000000000001"
	f.Add([]byte(`{"kind":"refund"}`))
	f.Add([]byte(`{"kind":"backorder","node_id":"` + id + `"}`))
	f.Add([]byte(`{"kind":"substitute","sku_id":"` + id + `","quantity":2,"note":"x"}`))
	f.Add([]byte(`{"kind":"dismiss","note":""}`))
	f.Add([]byte(`{"kind":"substitute","quantity":1e99}`))
	f.Add([]byte(`{"Kind":"refund","amount_minor":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeExceptionResolution(body)
		if err != nil {
			if popkit.ErrorCode(err) != popkit.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("accepted an invalid resolution %+v: %v", r, err)
		}
	})
}

// FuzzDecodeStockCount: the stock count decoder never panics, fails only
// with EINVALID, and what it accepts passes Validate.
func FuzzDecodeStockCount(f *testing.F) {
	id := "01930000-0000-7000-8000-000000000001"
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	f.Add([]byte(`{"counted_at":"2026-05-01T10:00:00Z","lines":[{"sku_id":"` + id + `","quantity":3}]}`))
	f.Add([]byte(`{"counted_at":"2026-05-01T10:00:00Z","lines":[{"sku_id":"` + id + `"}]}`))
	f.Add([]byte(`{"counted_at":"9999-05-01T10:00:00Z","lines":[]}`))
	f.Add([]byte(`{"counted_at":null,"lines":[{"quantity":-1}]}`))
	f.Add([]byte(`{"lines":[{"sku_id":"x","quantity":1e20}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := decodeStockCount(body, id, now)
		if err != nil {
			if popkit.ErrorCode(err) != popkit.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		if err := c.Validate(now); err != nil || c.EventID != id {
			t.Fatalf("accepted an invalid count %+v: %v", c, err)
		}
	})
}
