package http

import (
	"testing"

	"github.com/popkit/popkit"
)

// FuzzDecodeFOTransition feeds arbitrary bodies to the fulfilment order
// transition decoder: it must not panic, must fail with a popkit error,
// and must only accept valid states.
func FuzzDecodeFOTransition(f *testing.F) {
	for _, s := range []string{`{"to":"accepted"}`, `{"to":"failed","reason":"x"}`, `{"to":"failed"}`, `{"to":1}`, `{"To":"open"}`, `[]`, `{"to":"ready","reason":"\u0000"}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := decodeFOTransition(body)
		if err != nil {
			if popkit.ErrorCode(err) != popkit.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		if !in.To.Valid() || len(in.Reason) > maxFOReason {
			t.Fatalf("accepted %+v", in)
		}
	})
}

// FuzzDecodeNode feeds arbitrary bodies to the node decoder: it must not
// panic, and a node it accepts must be valid.
func FuzzDecodeNode(f *testing.F) {
	f.Add([]byte(`{"name":"n","kind":"kitting_station","lat":52.5,"lon":13.4,"service_radius_km":5,"time_zone":"Europe/Berlin",
		"opening_hours":[{"day":"fri","open":"08:00","close":"24:00"}],"same_day_cutoff":"16:00","capacity_per_hour":1,"capacity_per_day":2}`))
	f.Add([]byte(`{"name":"n","kind":"microfactory","makes":["x"],"same_day_cutoff":"99:99"}`))
	f.Add([]byte(`{"stock":{}}`))
	f.Add([]byte(`{"opening_hours":[{"day":"mon","open":"10:00","close":"09:00","x":1}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := decodeNode(body)
		if err != nil {
			if c := popkit.ErrorCode(err); c != popkit.EINVALID {
				t.Fatalf("error %v has code %q, want EINVALID", err, c)
			}
			return
		}
		if err := n.Validate(); err != nil || n.Stock != nil {
			t.Fatalf("accepted an invalid node %+v: %v", n, err)
		}
	})
}
