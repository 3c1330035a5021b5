package http_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/popkit/popkit"
)

// TestRoles runs the role matrix: who may call what, and how scoped tokens
// are held to their brand or event.
func TestRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	unknown := popkit.TokenPrefix + strings.Repeat("A", 43)
	e1, e2 := "/api/v1/events/"+w.e1.ID, "/api/v1/events/"+w.e2.ID
	item := func(ev, sku string) string { return ev + "/assortment/" + sku }
	sku := map[string]any{"code": "NEW-1", "name": "New"}
	skuFor := func(brand string) map[string]any { return skuBody(brand, "NEW-"+brand[len(brand)-4:]) }

	tests := []struct {
		name   string
		token  string
		method string
		path   string
		body   any
		want   int
		ids    []string // for lists: exactly these ids (or sku_ids)
	}{
		{"public healthz", "", "GET", "/healthz", nil, 200, nil},
		{"public openapi", "", "GET", "/api/v1/openapi.json", nil, 200, nil},
		{"no token", "", "GET", "/api/v1/cities", nil, 401, nil},
		{"malformed token", "nope", "GET", "/api/v1/cities", nil, 401, nil},
		{"unknown token", unknown, "GET", "/api/v1/cities", nil, 401, nil},

		{"admin lists tokens", e.admin, "GET", "/api/v1/tokens", nil, 200, nil},
		{"curator reads cities", w.curator, "GET", "/api/v1/cities", nil, 200, nil},
		{"curator reads program", w.curator, "GET", "/api/v1/program", nil, 200, nil},
		{"curator reads assortment", w.curator, "GET", e1 + "/assortment", nil, 200, []string{w.skuA.ID, w.skuB.ID}},
		{"curator cannot create cities", w.curator, "POST", "/api/v1/cities", cityBody("X"), 403, nil},
		{"curator cannot patch events", w.curator, "PATCH", e1, map[string]any{"name": "x"}, 403, nil},
		{"curator cannot put program", w.curator, "PUT", "/api/v1/program", map[string]any{}, 403, nil},
		{"curator cannot list devices", w.curator, "GET", "/api/v1/devices", nil, 403, nil},
		{"curator cannot list tokens", w.curator, "GET", "/api/v1/tokens", nil, 403, nil},
		{"fulfiller reads events", w.fulfiller, "GET", "/api/v1/events", nil, 200, []string{w.e1.ID, w.e2.ID}},
		{"fulfiller cannot create skus", w.fulfiller, "POST", "/api/v1/skus", skuFor(w.brandA.ID), 403, nil},

		{"brand reads brands", w.brand, "GET", "/api/v1/brands", nil, 200, []string{w.brandA.ID, w.brandB.ID}},
		{"brand reads events", w.brand, "GET", e2, nil, 200, nil},
		{"brand lists only own skus", w.brand, "GET", "/api/v1/skus", nil, 200, []string{w.skuA.ID}},
		{"brand lists own skus by filter", w.brand, "GET", "/api/v1/skus?brand_id=" + w.brandA.ID, nil, 200, []string{w.skuA.ID}},
		{"brand cannot filter other brand", w.brand, "GET", "/api/v1/skus?brand_id=" + w.brandB.ID, nil, 403, nil},
		{"brand reads own sku", w.brand, "GET", "/api/v1/skus/" + w.skuA.ID, nil, 200, nil},
		{"brand cannot see other sku", w.brand, "GET", "/api/v1/skus/" + w.skuB.ID, nil, 404, nil},
		{"brand patches own sku", w.brand, "PATCH", "/api/v1/skus/" + w.skuA.ID, map[string]any{"price_minor": 1300}, 200, nil},
		{"brand cannot patch other sku", w.brand, "PATCH", "/api/v1/skus/" + w.skuB.ID, map[string]any{"price_minor": 1}, 403, nil},
		{"brand creates sku for itself", w.brand, "POST", "/api/v1/skus", sku, 201, nil},
		{"brand cannot create for other brand", w.brand, "POST", "/api/v1/skus", skuFor(w.brandB.ID), 403, nil},
		{"brand cannot create cities", w.brand, "POST", "/api/v1/cities", cityBody("X"), 403, nil},
		{"brand cannot patch brands", w.brand, "PATCH", "/api/v1/brands/" + w.brandA.ID, map[string]any{"name": "x"}, 403, nil},
		{"brand sees own assortment only", w.brand, "GET", e1 + "/assortment", nil, 200, []string{w.skuA.ID}},
		{"brand cannot filter other assortment", w.brand, "GET", e1 + "/assortment?brand_id=" + w.brandB.ID, nil, 403, nil},
		{"brand reads own item", w.brand, "GET", item(e1, w.skuA.ID), nil, 200, nil},
		{"brand cannot see other item", w.brand, "GET", item(e1, w.skuB.ID), nil, 404, nil},
		{"brand sets own item", w.brand, "PUT", item(e1, w.skuA.ID), map[string]any{"stock": 7}, 200, nil},
		{"brand cannot set other item", w.brand, "PUT", item(e1, w.skuB.ID), map[string]any{"stock": 7}, 403, nil},
		{"brand adjusts own item", w.brand, "POST", item(e1, w.skuA.ID) + "/adjustments", map[string]any{"delta": 1}, 200, nil},
		{"brand cannot adjust other item", w.brand, "POST", item(e1, w.skuB.ID) + "/adjustments", map[string]any{"delta": 1}, 403, nil},
		{"brand cannot delete items", w.brand, "DELETE", item(e1, w.skuA.ID), nil, 403, nil},
		{"brand cannot list devices", w.brand, "GET", "/api/v1/devices", nil, 403, nil},

		{"device reads program", w.device, "GET", "/api/v1/program", nil, 200, nil},
		{"device reads own event", w.device, "GET", e1, nil, 200, nil},
		{"device cannot read other event", w.device, "GET", e2, nil, 403, nil},
		{"device cannot read missing event", w.device, "GET", "/api/v1/events/" + popkit.NewID(), nil, 403, nil},
		{"device cannot list events", w.device, "GET", "/api/v1/events", nil, 403, nil},
		{"device reads own assortment", w.device, "GET", e1 + "/assortment", nil, 200, []string{w.skuA.ID, w.skuB.ID}},
		{"device reads own item", w.device, "GET", item(e1, w.skuB.ID), nil, 200, nil},
		{"device cannot read other assortment", w.device, "GET", e2 + "/assortment", nil, 403, nil},
		{"device cannot set items", w.device, "PUT", item(e1, w.skuA.ID), map[string]any{"stock": 1}, 403, nil},
		{"device lists own devices", w.device, "GET", "/api/v1/devices", nil, 200, []string{w.dev1.ID}},
		{"device cannot filter other event", w.device, "GET", "/api/v1/devices?event_id=" + w.e2.ID, nil, 403, nil},
		{"device reads own device", w.device, "GET", "/api/v1/devices/" + w.dev1.ID, nil, 200, nil},
		{"device cannot read other device", w.device, "GET", "/api/v1/devices/" + w.dev2.ID, nil, 403, nil},
		{"device patches own device", w.device, "PATCH", "/api/v1/devices/" + w.dev1.ID, map[string]any{"name": "door"}, 200, nil},
		{"device cannot patch other device", w.device, "PATCH", "/api/v1/devices/" + w.dev2.ID, map[string]any{"name": "x"}, 403, nil},
		{"device cannot create devices", w.device, "POST", "/api/v1/devices", map[string]any{"event_id": w.e1.ID, "name": "x"}, 403, nil},
		{"device cannot read cities", w.device, "GET", "/api/v1/cities", nil, 403, nil},
		{"device reads a sku of its assortment", w.device, "GET", "/api/v1/skus/" + w.skuA.ID, nil, 200, nil},
		{"device cannot list skus", w.device, "GET", "/api/v1/skus", nil, 403, nil},
		{"device cannot read venues", w.device, "GET", "/api/v1/venues", nil, 403, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.with(t)
			res := e.do(tt.method, tt.path, tt.token, tt.body).want(t, tt.want)
			if tt.want >= 400 {
				p := res.problem(t)
				wantCode := map[int]string{401: popkit.EUNAUTHORIZED, 403: popkit.EFORBIDDEN, 404: popkit.ENOTFOUND}[tt.want]
				if p.Code != wantCode {
					t.Errorf("code %q, want %q", p.Code, wantCode)
				}
			}
			if tt.want == 401 && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", res.Header.Get("WWW-Authenticate"))
			}
			if tt.ids != nil {
				var got []string
				for _, o := range decodeAs[listBody[map[string]any]](t, res).Items {
					id, _ := o["id"].(string)
					if id == "" {
						id, _ = o["sku_id"].(string)
					}
					got = append(got, id)
				}
				slices.Sort(got)
				if want := slices.Sorted(slices.Values(tt.ids)); !slices.Equal(got, want) {
					t.Errorf("listed %v, want %v", got, want)
				}
			}
		})
	}
}

// TestBrandCreatesOwnSKU checks that a brand token's SKU gets its brand.
func TestBrandCreatesOwnSKU(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	s := create[popkit.SKU](e, "/api/v1/skus", w.brand, map[string]any{"code": "OWN-1", "name": "Own"})
	if s.BrandID != w.brandA.ID {
		t.Errorf("brand token created a SKU of brand %s, want %s", s.BrandID, w.brandA.ID)
	}
	// Admin tokens must name the brand.
	p := e.do("POST", "/api/v1/skus", e.admin, map[string]any{"code": "X", "name": "X"}).want(t, http.StatusBadRequest).problem(t)
	if !p.hasField("brand_id") {
		t.Errorf("problem %+v does not name brand_id", p)
	}
}

// TestDeviceReadsOnlyItsAssortmentSKUs: an edge agent's till reads the names
// and list prices of its event's SKUs, and no other SKU.
func TestDeviceReadsOnlyItsAssortmentSKUs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	other := create[popkit.SKU](e, "/api/v1/skus", "", skuBody(w.brandA.ID, "A-2"))
	e.do("GET", "/api/v1/skus/"+w.skuB.ID, w.device, nil).want(t, http.StatusOK)
	e.do("GET", "/api/v1/skus/"+other.ID, w.device, nil).want(t, http.StatusNotFound)
	e.do("GET", "/api/v1/skus/"+popkit.NewID(), w.device, nil).want(t, http.StatusNotFound)
	// Once in the event's assortment, the SKU is readable.
	e.do("PUT", "/api/v1/events/"+w.e1.ID+"/assortment/"+other.ID, e.admin, map[string]any{"stock": 1}).want(t, http.StatusOK)
	e.do("GET", "/api/v1/skus/"+other.ID, w.device, nil).want(t, http.StatusOK)
}
