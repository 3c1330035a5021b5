package http

import (
	"encoding/json"
	"testing"

	"github.com/popkit/popkit"
)

// FuzzListingDecoder feeds arbitrary bytes to the listing body decoders
// (create and patch) and the content validation behind them, without a
// database, so that it runs many inputs per second: they must never panic,
// every refusal must be EINVALID, and content that validates must survive
// a JSON round trip unchanged.
func FuzzListingDecoder(f *testing.F) {
	f.Add([]byte(`{"event_id":"0190f1a2-0000-7000-8000-000000000000","title":"t","summary":"s","images":[{"url":"/a.png","width":1,"height":1,"alt":"a"}]}`))
	f.Add([]byte(`{"title":"</script><script>alert(1)</script>","summary":"\"\n","price":{"min_minor":1,"max_minor":0}}`))
	f.Add([]byte(`{"members_from":"2026-05-01T10:00:00+02:00","public_from":"2026-05-01T09:00:00Z","clear":["price"]}`))
	f.Add([]byte(`{"member_only_sessions":["2026-05-01T10:00"],"tags":["a","a"]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var in listingInput
		if err := decodeBytes(body, &in); err != nil {
			if popkit.ErrorCode(err) != popkit.EINVALID {
				t.Fatalf("decode error code %s: %v", popkit.ErrorCode(err), err)
			}
		} else {
			c := in.listing().Working
			if err := c.Validate(nil); err != nil {
				if popkit.ErrorCode(err) != popkit.EINVALID || len(popkit.ErrorFields(err)) == 0 {
					t.Fatalf("validation error without fields: %v", err)
				}
			} else {
				b, err := json.Marshal(&c)
				if err != nil {
					t.Fatalf("marshal valid content: %v", err)
				}
				var back popkit.ListingContent
				if err := json.Unmarshal(b, &back); err != nil {
					t.Fatalf("unmarshal valid content: %v", err)
				}
				back.Normalize()
				if d := popkit.DiffListingContent(&c, &back); len(d) != 0 {
					t.Fatalf("content changed in a round trip: %+v", d)
				}
			}
		}
		var u popkit.ListingUpdate
		if err := decodeBytes(body, &u); err != nil {
			if popkit.ErrorCode(err) != popkit.EINVALID {
				t.Fatalf("decode patch error code %s: %v", popkit.ErrorCode(err), err)
			}
			return
		}
		if _, err := u.Apply(popkit.ListingContent{}); err != nil && popkit.ErrorCode(err) != popkit.EINVALID {
			t.Fatalf("apply error code %s: %v", popkit.ErrorCode(err), err)
		}
	})
}
