package http_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/popkit/popkit"
)

// object is what every resource has in common.
type object struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// TestCRUD creates, reads, lists page by page and patches each resource.
func TestCRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	day := func(i int) string { return fmt.Sprintf("2026-07-%02d", i+1) }
	tests := []struct {
		name   string
		path   string
		body   func(i int) any
		before int // objects the world already holds
	}{
		{"cities", "/api/v1/cities", func(i int) any { return cityBody(fmt.Sprintf("City %d", i)) }, 1},
		{"venues", "/api/v1/venues", func(i int) any {
			b := venueBody(w.city.ID)
			b["name"] = fmt.Sprintf("Venue %d", i)
			return b
		}, 1},
		{"brands", "/api/v1/brands", func(i int) any {
			return map[string]any{"name": fmt.Sprintf("Brand %d", i), "slug": fmt.Sprintf("brand-%d", i), "contact_email": "hi@example.com"}
		}, 2},
		{"events", "/api/v1/events", func(i int) any {
			return eventBody(w.venue.ID, fmt.Sprintf("crud-%d", i), day(i), w.brandA.ID)
		}, 2},
		{"skus", "/api/v1/skus", func(i int) any { return skuBody(w.brandB.ID, fmt.Sprintf("CRUD-%d", i)) }, 2},
		{"devices", "/api/v1/devices", func(i int) any {
			return map[string]any{"event_id": w.e2.ID, "name": fmt.Sprintf("sensor %d", i)}
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.with(t)
			const n = 5
			var ids []string
			for i := range n {
				res := e.do("POST", tt.path, e.admin, tt.body(i)).want(t, http.StatusCreated)
				o := decodeAs[object](t, res)
				if !popkit.ValidID(o.ID) {
					t.Fatalf("created id %q", o.ID)
				}
				if loc := res.Header.Get("Location"); loc != tt.path+"/"+o.ID {
					t.Errorf("Location %q, want %q", loc, tt.path+"/"+o.ID)
				}
				ids = append(ids, o.ID)
			}

			got := decodeAs[object](t, e.do("GET", tt.path+"/"+ids[2], e.admin, nil).want(t, http.StatusOK))
			if got.ID != ids[2] {
				t.Errorf("GET returned id %q, want %q", got.ID, ids[2])
			}
			e.do("GET", tt.path+"/"+popkit.NewID(), e.admin, nil).want(t, http.StatusNotFound).problem(t)
			e.do("GET", tt.path+"/not-an-id", e.admin, nil).want(t, http.StatusNotFound).problem(t)

			all, pages := listAll[object](e, tt.path, e.admin, 2)
			if len(all) != n+tt.before {
				t.Fatalf("listed %d objects, want %d", len(all), n+tt.before)
			}
			if want := (n + tt.before + 1) / 2; pages < want {
				t.Errorf("%d pages of 2, want at least %d", pages, want)
			}
			listed := make([]string, len(all))
			for i, o := range all {
				listed[i] = o.ID
			}
			if !slices.IsSorted(listed) || len(slices.Compact(slices.Clone(listed))) != len(listed) {
				t.Errorf("list is not in id order without duplicates: %v", listed)
			}
			for _, id := range ids {
				if !slices.Contains(listed, id) {
					t.Errorf("created %s missing from the list", id)
				}
			}
			first := decodeAs[listBody[object]](t, e.do("GET", tt.path+"?limit=200", e.admin, nil).want(t, http.StatusOK))
			if first.NextCursor != "" {
				t.Errorf("next_cursor %q on the last page", first.NextCursor)
			}

			patched := decodeAs[object](t, e.do("PATCH", tt.path+"/"+ids[0], e.admin, map[string]any{"name": "Renamed"}).want(t, http.StatusOK))
			if patched.Name != "Renamed" || patched.ID != ids[0] {
				t.Errorf("PATCH answered %+v", patched)
			}
			again := decodeAs[object](t, e.do("GET", tt.path+"/"+ids[0], e.admin, nil).want(t, http.StatusOK))
			if again.Name != "Renamed" {
				t.Errorf("after PATCH, GET name = %q", again.Name)
			}
			e.do("PATCH", tt.path+"/"+popkit.NewID(), e.admin, map[string]any{"name": "x"}).want(t, http.StatusNotFound).problem(t)
		})
	}
}

// TestListFilters checks each list's query filters.
func TestListFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	paris := create[popkit.City](e, "/api/v1/cities", "", map[string]any{"name": "Paris", "country": "FR", "time_zone": "Europe/Paris"})
	louvre := create[popkit.Venue](e, "/api/v1/venues", "", venueBody(paris.ID))
	e3 := create[popkit.Event](e, "/api/v1/events", "", eventBody(louvre.ID, "e3", "2026-08-01", w.brandB.ID))
	e.do("PATCH", "/api/v1/events/"+w.e2.ID, e.admin, map[string]any{"status": "cancelled"}).want(t, http.StatusOK)

	tests := []struct {
		name string
		path string
		want []string
	}{
		{"cities by country", "/api/v1/cities?country=FR", []string{paris.ID}},
		{"venues by city", "/api/v1/venues?city_id=" + paris.ID, []string{louvre.ID}},
		{"brands by slug", "/api/v1/brands?slug=brand-b", []string{w.brandB.ID}},
		{"events by city", "/api/v1/events?city=" + paris.ID, []string{e3.ID}},
		{"events by venue", "/api/v1/events?venue_id=" + w.venue.ID, []string{w.e1.ID, w.e2.ID}},
		{"events by brand", "/api/v1/events?brand_id=" + w.brandB.ID, []string{w.e1.ID, e3.ID}},
		{"events by status", "/api/v1/events?status=cancelled", []string{w.e2.ID}},
		{"events by time", "/api/v1/events?from=2026-05-31T00:00:00Z&to=2026-06-30T00:00:00Z", []string{w.e2.ID}},
		{"events from", "/api/v1/events?from=2026-07-01T00:00:00%2B02:00", []string{e3.ID}},
		{"skus by brand", "/api/v1/skus?brand_id=" + w.brandA.ID, []string{w.skuA.ID}},
		{"assortment by brand", "/api/v1/events/" + w.e1.ID + "/assortment?brand_id=" + w.brandB.ID, []string{w.skuB.ID}},
		{"devices by event", "/api/v1/devices?event_id=" + w.e2.ID, []string{w.dev2.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.with(t)
			var got []string
			for _, o := range decodeAs[listBody[map[string]any]](t, e.do("GET", tt.path, e.admin, nil).want(t, http.StatusOK)).Items {
				id, _ := o["id"].(string)
				if id == "" {
					id, _ = o["sku_id"].(string)
				}
				got = append(got, id)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

// TestProgram reads and replaces the program settings.
func TestProgram(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := decodeAs[popkit.Program](t, e.do("GET", "/api/v1/program", e.admin, nil).want(t, http.StatusOK))
	if p.Currency == "" {
		t.Fatalf("program %+v", p)
	}
	body := map[string]any{"name": "Summer 2026", "currency": "GBP", "k_anonymity": 10, "epoch_days": 14}
	got := decodeAs[popkit.Program](t, e.do("PUT", "/api/v1/program", e.admin, body).want(t, http.StatusOK))
	if got.Name != "Summer 2026" || got.Currency != "GBP" || got.KAnonymity != 10 || got.EpochDays != 14 {
		t.Errorf("PUT answered %+v", got)
	}
	p = decodeAs[popkit.Program](t, e.do("GET", "/api/v1/program", e.admin, nil).want(t, http.StatusOK))
	if p.Name != "Summer 2026" {
		t.Errorf("GET after PUT: %+v", p)
	}
	bad := map[string]any{"name": "", "currency": "gbp", "k_anonymity": 0, "epoch_days": 1000}
	pr := e.do("PUT", "/api/v1/program", e.admin, bad).want(t, http.StatusBadRequest).problem(t)
	for _, f := range []string{"name", "currency", "k_anonymity", "epoch_days"} {
		if !pr.hasField(f) {
			t.Errorf("problem does not name %s: %+v", f, pr)
		}
	}
}

// TestAssortment stocks SKUs at an event, pages through them, changes,
// adjusts and removes one.
func TestAssortment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	base := "/api/v1/events/" + w.e1.ID + "/assortment"
	for i := range 4 {
		s := create[popkit.SKU](e, "/api/v1/skus", "", skuBody(w.brandA.ID, fmt.Sprintf("AS-%d", i)))
		e.do("PUT", base+"/"+s.ID, e.admin, map[string]any{"stock": i, "price_minor": 999}).want(t, http.StatusOK)
	}
	items, pages := listAll[popkit.AssortmentItem](e, base, e.admin, 2)
	if len(items) != 6 || pages < 3 {
		t.Fatalf("%d items in %d pages, want 6 in 3", len(items), pages)
	}

	item := base + "/" + w.skuA.ID
	got := decodeAs[popkit.AssortmentItem](t, e.do("GET", item, e.admin, nil).want(t, http.StatusOK))
	if got.Stock != 10 || got.BrandID != w.brandA.ID || got.PriceMinor != nil {
		t.Errorf("item %+v", got)
	}
	got = decodeAs[popkit.AssortmentItem](t, e.do("PUT", item, e.admin, map[string]any{"stock": 3, "price_minor": 1500}).want(t, http.StatusOK))
	if got.Stock != 3 || got.PriceMinor == nil || *got.PriceMinor != 1500 {
		t.Errorf("after PUT %+v", got)
	}
	got = decodeAs[popkit.AssortmentItem](t, e.do("POST", item+"/adjustments", e.admin, map[string]any{"delta": -2}).want(t, http.StatusOK))
	if got.Stock != 1 {
		t.Errorf("after adjusting by -2, stock %d", got.Stock)
	}
	p := e.do("POST", item+"/adjustments", e.admin, map[string]any{"delta": -2}).want(t, http.StatusConflict).problem(t)
	if p.Code != popkit.ECONFLICT {
		t.Errorf("problem %+v", p)
	}
	e.do("DELETE", item, e.admin, nil).want(t, http.StatusNoContent)
	e.do("GET", item, e.admin, nil).want(t, http.StatusNotFound).problem(t)
	e.do("DELETE", item, e.admin, nil).want(t, http.StatusNotFound).problem(t)
	e.do("GET", "/api/v1/events/"+popkit.NewID()+"/assortment", e.admin, nil).want(t, http.StatusNotFound).problem(t)
}

// TestTokens creates, lists and revokes tokens; a revoked token is 401.
func TestTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	newWorld(e) // holds a curator token
	res := e.do("POST", "/api/v1/tokens", e.admin, map[string]any{"role": "curator", "name": "ops"}).want(t, http.StatusCreated)
	created := decodeAs[struct {
		popkit.Token
		Secret string `json:"secret"`
	}](t, res)
	if !popkit.LooksLikeToken(created.Secret) || created.Role != popkit.RoleCurator {
		t.Fatalf("created %+v", created)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	e.do("GET", "/api/v1/cities", created.Secret, nil).want(t, http.StatusOK)

	list := decodeAs[listBody[map[string]any]](t, e.do("GET", "/api/v1/tokens?role=curator", e.admin, nil).want(t, http.StatusOK))
	if len(list.Items) != 2 {
		t.Errorf("%d curator tokens, want 2", len(list.Items))
	}
	for _, tok := range list.Items {
		if _, ok := tok["secret"]; ok {
			t.Errorf("token list shows a secret: %v", tok)
		}
		if _, ok := tok["hash"]; ok {
			t.Errorf("token list shows a hash: %v", tok)
		}
	}

	e.do("DELETE", "/api/v1/tokens/"+created.ID, e.admin, nil).want(t, http.StatusNoContent)
	e.do("DELETE", "/api/v1/tokens/"+created.ID, e.admin, nil).want(t, http.StatusNoContent)
	e.do("DELETE", "/api/v1/tokens/"+popkit.NewID(), e.admin, nil).want(t, http.StatusNotFound)
	r := e.do("GET", "/api/v1/cities", created.Secret, nil).want(t, http.StatusUnauthorized)
	r.problem(t)
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	live := decodeAs[listBody[map[string]any]](t, e.do("GET", "/api/v1/tokens?role=curator", e.admin, nil).want(t, http.StatusOK))
	withRevoked := decodeAs[listBody[map[string]any]](t, e.do("GET", "/api/v1/tokens?role=curator&include_revoked=true", e.admin, nil).want(t, http.StatusOK))
	if len(live.Items) != 1 || len(withRevoked.Items) != 2 {
		t.Errorf("%d live and %d with revoked curator tokens, want 1 and 2", len(live.Items), len(withRevoked.Items))
	}
}
