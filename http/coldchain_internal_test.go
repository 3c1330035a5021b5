package http

import (
	"math"
	"testing"

	"github.com/popkit/popkit"
)

// FuzzDecodeSensorBinding feeds arbitrary bodies to the binding decoder: it
// must not panic, fail only with EINVALID, and accept only valid bindings
// of the path's node with the defaults filled in.
func FuzzDecodeSensorBinding(f *testing.F) {
	node := popkit.NewID()
	for _, s := range []string{
		`{"device_id":"` + popkit.NewID() + `","sensor":"fridge-1"}`,
		`{"device_id":"` + popkit.NewID() + `","sensor":"fridge-1","cold_box":"b1","limit_c":-18.5,"min_minutes":3}`,
		`{"device_id":"x","sensor":"a b","limit_c":1e999}`, `{"sensor":"s","min_minutes":1.5}`, `{"limit_c":"8"}`,
		`{"node_id":"x"}`, `[]`, ``, `{"sensor":"\u0000"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := decodeSensorBinding(body, node)
		if err != nil {
			if c := popkit.ErrorCode(err); c != popkit.EINVALID {
				t.Fatalf("error %v has code %q, want EINVALID", err, c)
			}
			return
		}
		if b.NodeID != node || b.Validate() != nil || math.IsNaN(b.LimitC) || b.MinMinutes < 1 {
			t.Fatalf("accepted %+v", b)
		}
	})
}

// FuzzDecodeResolution feeds arbitrary bodies to the resolution decoder.
func FuzzDecodeResolution(f *testing.F) {
	for _, s := range []string{`{"action":"release"}`, `{"action":"discard","note":"warm"}`, `{"action":"discard"}`,
		`{"action":"keep"}`, `{"action":"release","actor":"me"}`, `{"Action":"release"}`, `{"note":1}`, `null`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeResolution(body)
		if err != nil {
			if c := popkit.ErrorCode(err); c != popkit.EINVALID {
				t.Fatalf("error %v has code %q, want EINVALID", err, c)
			}
			return
		}
		if r.Action != popkit.ActionRelease && r.Action != popkit.ActionDiscard || r.Actor != "" || r.Action == popkit.ActionDiscard && r.Note == "" {
			t.Fatalf("accepted %+v", r)
		}
	})
}
