package edge

import (
	"encoding/json"
	"testing"

	"github.com/popkit/popkit"
)

// FuzzDecodeSaleRequest: the POS sale decoder never panics, and what it
// accepts keeps its promises (line count, distinct valid SKU ids,
// quantities in range, a method the till takes).
func FuzzDecodeSaleRequest(f *testing.F) {
	sku := "0195f3a0-0000-7000-8000-000000000001"
	for _, s := range []string{
		`{"lines":[{"sku_id":"` + sku + `","quantity":2}],"payment":{"method":"cash","amount_minor":5000}}`,
		`{"id":"0195f3a0-0000-7000-8000-0000000000aa","till":"t-2","lines":[{"sku_id":"` + sku + `","quantity":1}],"payment":{"method":"external","amount_minor":1,"external_ref":"x"},"allow_oversell":true}`,
		`{"lines":[{"sku_id":"` + sku + `","quantity":1},{"sku_id":"` + sku + `","quantity":1}],"payment":{"method":"card_offline","amount_minor":1}}`,
		`{"lines":null}`, `[]`, `{}`, `{"lines":[{"quantity":1e99}]}`, `{"payment":{"method":"card"}}`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeSaleRequest(b)
		if err != nil {
			if popkit.ErrorCode(err) != popkit.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		if len(r.Lines) < 1 || len(r.Lines) > popkit.MaxOrderLines {
			t.Fatalf("accepted %d lines", len(r.Lines))
		}
		seen := map[string]bool{}
		for _, l := range r.Lines {
			if !popkit.ValidID(l.SKUID) || seen[l.SKUID] || l.Quantity < 1 || l.Quantity > popkit.MaxLineQuantity {
				t.Fatalf("accepted line %+v", l)
			}
			seen[l.SKUID] = true
		}
		switch r.Payment.Method {
		case popkit.PaymentCash, popkit.PaymentCardOffline, popkit.PaymentExternal:
		default:
			t.Fatalf("accepted method %q", r.Payment.Method)
		}
		if r.Payment.AmountMinor < 0 || (r.Payment.Method == popkit.PaymentExternal) == (r.Payment.ExternalRef == "") {
			t.Fatalf("accepted payment %+v", r.Payment)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
	})
}
