package http_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/popkit/popkit"
)

// TestProblems sends malformed and invalid requests: each gets a problem
// with the right status, code and field, and changes nothing.
func TestProblems(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	city := `{"name":"Rome","country":"IT","time_zone":"Europe/Rome"}`
	withCity := func(extra string) string { return strings.TrimSuffix(city, "}") + "," + extra + "}" }
	event := func(mod func(map[string]any)) map[string]any {
		b := eventBody(w.venue.ID, "bad-event", "2026-09-01", w.brandA.ID)
		mod(b)
		return b
	}
	sessions := func(s ...[2]string) func(map[string]any) {
		return func(b map[string]any) {
			var list []map[string]any
			for _, x := range s {
				list = append(list, map[string]any{"start": x[0], "end": x[1]})
			}
			b["sessions"] = list
		}
	}
	item := "/api/v1/events/" + w.e1.ID + "/assortment/" + w.skuA.ID
	json := header{"Content-Type", "application/json"}

	tests := []struct {
		name    string
		method  string
		path    string
		body    any
		headers []header
		status  int
		code    string
		field   string // a field the problem must name; "" for none
		detail  string // a substring of the detail
		list    string // a list whose length must not change
	}{
		{"malformed JSON", "POST", "/api/v1/cities", `{"name":`, nil, 400, popkit.EINVALID, "", "malformed JSON", "/api/v1/cities"},
		{"syntax error", "POST", "/api/v1/cities", `{"name" "Rome"}`, nil, 400, popkit.EINVALID, "", "malformed JSON at byte", "/api/v1/cities"},
		{"empty body", "POST", "/api/v1/cities", "", []header{json}, 400, popkit.EINVALID, "", "body is required", "/api/v1/cities"},
		{"array body", "POST", "/api/v1/cities", `[]`, nil, 400, popkit.EINVALID, "", "JSON object", "/api/v1/cities"},
		{"wrong type", "POST", "/api/v1/cities", `{"name":5,"country":"IT","time_zone":"Europe/Rome"}`, nil, 400, popkit.EINVALID, "name", "", "/api/v1/cities"},
		{"wrong nested type", "POST", "/api/v1/events", event(func(b map[string]any) { b["costs"] = map[string]any{"rent_minor": "lots"} }), nil, 400, popkit.EINVALID, "costs.rent_minor", "", "/api/v1/events"},
		{"number out of range", "POST", "/api/v1/skus", `{"brand_id":"` + w.brandA.ID + `","code":"X","name":"X","price_minor":1e30}`, nil, 400, popkit.EINVALID, "price_minor", "", "/api/v1/skus"},
		{"fraction for integer", "PUT", item, `{"stock":1.5}`, nil, 400, popkit.EINVALID, "stock", "", ""},
		{"unknown field", "POST", "/api/v1/cities", withCity(`"mayor":"x"`), nil, 400, popkit.EINVALID, "mayor", "", "/api/v1/cities"},
		{"read-only field", "POST", "/api/v1/cities", withCity(`"id":"` + popkit.NewID() + `"`), nil, 400, popkit.EINVALID, "id", "", "/api/v1/cities"},
		{"unknown nested field", "POST", "/api/v1/events", event(func(b map[string]any) { b["costs"] = map[string]any{"tips": 1} }), nil, 400, popkit.EINVALID, "costs.tips", "", "/api/v1/events"},
		{"field name in another case", "POST", "/api/v1/cities", `{"NAME":"Rome","country":"IT","time_zone":"Europe/Rome"}`, nil, 400, popkit.EINVALID, "NAME", "", "/api/v1/cities"},
		{"unknown field in a list", "POST", "/api/v1/events", event(func(b map[string]any) {
			b["sessions"] = []map[string]any{{"start": "2026-09-01T10:00", "end": "2026-09-01T11:00", "Start": "x"}}
		}), nil, 400, popkit.EINVALID, "sessions[0].Start", "", "/api/v1/events"},
		{"trailing object", "POST", "/api/v1/cities", city + `{}`, nil, 400, popkit.EINVALID, "", "exactly one JSON object", "/api/v1/cities"},
		{"trailing garbage", "POST", "/api/v1/cities", city + `x`, nil, 400, popkit.EINVALID, "", "exactly one JSON object", "/api/v1/cities"},
		{"NUL in a string", "POST", "/api/v1/cities", `{"name":"Ro\u0000me","country":"IT","time_zone":"Europe/Rome"}`, nil, 400, popkit.EINVALID, "", "NUL", "/api/v1/cities"},
		{"missing fields", "POST", "/api/v1/cities", `{}`, nil, 400, popkit.EINVALID, "time_zone", "", "/api/v1/cities"},
		{"null body", "PATCH", "/api/v1/cities/" + w.city.ID, `null`, nil, 400, popkit.EINVALID, "", "JSON object", ""},
		{"invalid time zone", "POST", "/api/v1/cities", `{"name":"Rome","country":"IT","time_zone":"Mars/Olympus"}`, nil, 400, popkit.EINVALID, "time_zone", "", "/api/v1/cities"},
		{"local time zone", "POST", "/api/v1/venues", map[string]any{"city_id": w.city.ID, "name": "V", "address": "A", "lat": 1, "lon": 1, "time_zone": "Local"}, nil, 400, popkit.EINVALID, "time_zone", "", "/api/v1/venues"},
		{"missing coordinates", "POST", "/api/v1/venues", map[string]any{"city_id": w.city.ID, "name": "V", "address": "A"}, nil, 400, popkit.EINVALID, "lon", "", "/api/v1/venues"},
		{"latitude out of range", "POST", "/api/v1/venues", map[string]any{"city_id": w.city.ID, "name": "V", "address": "A", "lat": 91, "lon": 1}, nil, 400, popkit.EINVALID, "lat", "", "/api/v1/venues"},
		{"overlapping sessions", "POST", "/api/v1/events", event(sessions([2]string{"2026-09-01T10:00", "2026-09-01T14:00"}, [2]string{"2026-09-01T13:00", "2026-09-01T16:00"})), nil, 400, popkit.EINVALID, "sessions[1]", "", "/api/v1/events"},
		{"end before start", "POST", "/api/v1/events", event(sessions([2]string{"2026-09-01T14:00", "2026-09-01T10:00"})), nil, 400, popkit.EINVALID, "sessions[0].end", "", "/api/v1/events"},
		{"bad local time", "POST", "/api/v1/events", event(sessions([2]string{"2026-09-01 10:00", "2026-09-01T14:00"})), nil, 400, popkit.EINVALID, "sessions[0].start", "", "/api/v1/events"},
		{"no sessions", "POST", "/api/v1/events", event(func(b map[string]any) { delete(b, "sessions") }), nil, 400, popkit.EINVALID, "sessions", "", "/api/v1/events"},
		{"negative cost", "POST", "/api/v1/events", event(func(b map[string]any) { b["costs"] = map[string]any{"rent_minor": -1} }), nil, 400, popkit.EINVALID, "costs.rent_minor", "", "/api/v1/events"},
		{"duplicate brand", "POST", "/api/v1/events", event(func(b map[string]any) { b["brand_ids"] = []string{w.brandA.ID, w.brandA.ID} }), nil, 400, popkit.EINVALID, "brand_ids[1]", "", "/api/v1/events"},
		{"negative price", "POST", "/api/v1/skus", map[string]any{"brand_id": w.brandA.ID, "code": "N", "name": "N", "price_minor": -1}, nil, 400, popkit.EINVALID, "price_minor", "", "/api/v1/skus"},
		{"negative price patch", "PATCH", "/api/v1/skus/" + w.skuA.ID, map[string]any{"price_minor": -5}, nil, 400, popkit.EINVALID, "price_minor", "", ""},
		{"stock below zero", "PUT", item, map[string]any{"stock": -1}, nil, 400, popkit.EINVALID, "stock", "", ""},
		{"negative item price", "PUT", item, map[string]any{"stock": 1, "price_minor": -1}, nil, 400, popkit.EINVALID, "price_minor", "", ""},
		{"missing stock", "PUT", item, `{}`, nil, 400, popkit.EINVALID, "stock", "", ""},
		{"missing delta", "POST", item + "/adjustments", `{}`, nil, 400, popkit.EINVALID, "delta", "", ""},
		{"adjust below zero", "POST", item + "/adjustments", map[string]any{"delta": -11}, nil, 409, popkit.ECONFLICT, "", "", ""},
		{"sku of a brand not in the event", "PUT", "/api/v1/events/" + w.e2.ID + "/assortment/" + w.skuB.ID, map[string]any{"stock": 1}, nil, 400, popkit.EINVALID, "sku_id", "", "/api/v1/events/" + w.e2.ID + "/assortment"},
		{"missing city", "POST", "/api/v1/venues", venueBody(popkit.NewID()), nil, 422, popkit.EUNPROCESSABLE, "city_id", "", "/api/v1/venues"},
		{"missing venue", "POST", "/api/v1/events", eventBody(popkit.NewID(), "nv", "2026-09-01", w.brandA.ID), nil, 422, popkit.EUNPROCESSABLE, "", "", "/api/v1/events"},
		{"missing brand", "POST", "/api/v1/events", eventBody(w.venue.ID, "nb", "2026-09-01", popkit.NewID()), nil, 422, popkit.EUNPROCESSABLE, "", "", "/api/v1/events"},
		{"missing brand of sku", "POST", "/api/v1/skus", skuBody(popkit.NewID(), "MB"), nil, 422, popkit.EUNPROCESSABLE, "", "", "/api/v1/skus"},
		{"missing event of device", "POST", "/api/v1/devices", map[string]any{"event_id": popkit.NewID(), "name": "x"}, nil, 422, popkit.EUNPROCESSABLE, "", "", "/api/v1/devices"},
		{"missing brand of token", "POST", "/api/v1/tokens", map[string]any{"role": "brand", "brand_id": popkit.NewID()}, nil, 422, popkit.EUNPROCESSABLE, "brand_id", "", "/api/v1/tokens"},
		{"token without scope", "POST", "/api/v1/tokens", map[string]any{"role": "device"}, nil, 400, popkit.EINVALID, "event_id", "", "/api/v1/tokens"},
		{"missing sku of item", "PUT", "/api/v1/events/" + w.e1.ID + "/assortment/" + popkit.NewID(), map[string]any{"stock": 1}, nil, 404, popkit.ENOTFOUND, "", "", ""},
		{"taken slug", "POST", "/api/v1/brands", map[string]any{"name": "Again", "slug": "brand-a"}, nil, 409, popkit.ECONFLICT, "slug", "", "/api/v1/brands"},
		{"illegal status change", "PATCH", "/api/v1/events/" + w.e2.ID, map[string]any{"status": "closed"}, nil, 409, popkit.ECONFLICT, "", "", ""},
		{"unknown status", "PATCH", "/api/v1/events/" + w.e2.ID, map[string]any{"status": "paused"}, nil, 400, popkit.EINVALID, "status", "", ""},
		{"brand still stocked", "PATCH", "/api/v1/events/" + w.e1.ID, map[string]any{"brand_ids": []string{w.brandA.ID}}, nil, 409, popkit.ECONFLICT, "", "", ""},
		{"no content type", "POST", "/api/v1/cities", city, []header{{"Content-Type", ""}}, 415, "unsupported_media_type", "", "", "/api/v1/cities"},
		{"text content type", "POST", "/api/v1/cities", city, []header{{"Content-Type", "text/plain"}}, 415, "unsupported_media_type", "", "", "/api/v1/cities"},
		{"json with charset", "POST", "/api/v1/cities", `{"name":`, []header{{"Content-Type", "application/json; charset=utf-8"}}, 400, popkit.EINVALID, "", "", "/api/v1/cities"},
		{"too large", "POST", "/api/v1/cities", withCity(`"pad":"` + strings.Repeat("x", 1<<20) + `"`), nil, 413, "too_large", "", "", "/api/v1/cities"},
		{"too large with key", "POST", "/api/v1/cities", withCity(`"pad":"` + strings.Repeat("x", 1<<20) + `"`), []header{{"Idempotency-Key", "big"}}, 413, "too_large", "", "", "/api/v1/cities"},
		{"limit zero", "GET", "/api/v1/cities?limit=0", nil, nil, 400, popkit.EINVALID, "limit", "", ""},
		{"limit too big", "GET", "/api/v1/cities?limit=201", nil, nil, 400, popkit.EINVALID, "limit", "", ""},
		{"limit not a number", "GET", "/api/v1/cities?limit=ten", nil, nil, 400, popkit.EINVALID, "limit", "", ""},
		{"bad cursor", "GET", "/api/v1/cities?cursor=garbage", nil, nil, 400, popkit.EINVALID, "cursor", "", ""},
		{"bad time", "GET", "/api/v1/events?from=yesterday", nil, nil, 400, popkit.EINVALID, "from", "", ""},
		{"to before from", "GET", "/api/v1/events?from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z", nil, nil, 400, popkit.EINVALID, "to", "", ""},
		{"bad status", "GET", "/api/v1/events?status=paused", nil, nil, 400, popkit.EINVALID, "status", "", ""},
		{"bad id filter", "GET", "/api/v1/venues?city_id=berlin", nil, nil, 400, popkit.EINVALID, "city_id", "", ""},
		{"bad slug filter", "GET", "/api/v1/brands?slug=Not%20A%20Slug", nil, nil, 400, popkit.EINVALID, "slug", "", ""},
		{"bad country filter", "GET", "/api/v1/cities?country=de", nil, nil, 400, popkit.EINVALID, "country", "", ""},
		{"bad role filter", "GET", "/api/v1/tokens?role=root", nil, nil, 400, popkit.EINVALID, "role", "", ""},
		{"bad bool filter", "GET", "/api/v1/tokens?include_revoked=maybe", nil, nil, 400, popkit.EINVALID, "include_revoked", "", ""},
		{"unknown route", "GET", "/api/v1/nothing", nil, nil, 404, popkit.ENOTFOUND, "", "", ""},
		{"method not allowed", "DELETE", "/api/v1/cities", nil, nil, 405, "method_not_allowed", "", "", "/api/v1/cities"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.with(t)
			before := -1
			if tt.list != "" {
				before = len(decodeAs[listBody[map[string]any]](t, e.do("GET", tt.list+"?limit=200", e.admin, nil).want(t, 200)).Items)
			}
			res := e.do(tt.method, tt.path, e.admin, tt.body, tt.headers...).want(t, tt.status)
			p := res.problem(t)
			if p.Code != tt.code {
				t.Errorf("code %q, want %q", p.Code, tt.code)
			}
			if p.Type != "urn:popkit:problem:"+tt.code || p.Title != http.StatusText(tt.status) {
				t.Errorf("type %q title %q", p.Type, p.Title)
			}
			if p.Instance != strings.Split(tt.path, "?")[0] {
				t.Errorf("instance %q", p.Instance)
			}
			if tt.field != "" && !p.hasField(tt.field) {
				t.Errorf("problem does not name field %q: %+v", tt.field, p)
			}
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail %q does not contain %q", p.Detail, tt.detail)
			}
			if tt.status == 405 && res.Header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
			if before >= 0 {
				after := len(decodeAs[listBody[map[string]any]](t, e.do("GET", tt.list+"?limit=200", e.admin, nil).want(t, 200)).Items)
				if after != before {
					t.Errorf("%s had %d items before the rejected request and %d after", tt.list, before, after)
				}
			}
		})
	}
}

// TestRejectedPatchChangesNothing checks that an invalid PATCH leaves the
// object as it was.
func TestRejectedPatchChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	before := e.do("GET", "/api/v1/events/"+w.e1.ID, e.admin, nil).want(t, 200).Body
	e.do("PATCH", "/api/v1/events/"+w.e1.ID, e.admin, map[string]any{
		"name":     "Changed",
		"sessions": []map[string]any{{"start": "2026-05-01T12:00", "end": "2026-05-01T11:00"}},
	}).want(t, 400)
	after := e.do("GET", "/api/v1/events/"+w.e1.ID, e.admin, nil).want(t, 200).Body
	if string(before) != string(after) {
		t.Errorf("rejected PATCH changed the event:\n%s\n%s", before, after)
	}
}
