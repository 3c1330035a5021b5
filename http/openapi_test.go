package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/popkit/popkit"
	pkhttp "github.com/popkit/popkit/http"
)

// spec is the served OpenAPI document, loaded and validated once by
// kin-openapi, with a router over its operations.
type spec struct {
	raw    []byte
	doc    *openapi3.T
	router routers.Router
}

var loadSpec = sync.OnceValues(func() (*spec, error) {
	srv := &pkhttp.Server{}
	// The document does not depend on the services; any value will do.
	var svc struct {
		popkit.ProgramService
		popkit.CityService
		popkit.VenueService
		popkit.BrandService
		popkit.EventService
		popkit.SKUService
		popkit.AssortmentService
		popkit.DeviceService
		popkit.TokenService
		popkit.IdempotencyService
		popkit.TelemetryService
		popkit.ListingService
		popkit.TierService
		popkit.MemberService
		popkit.BillingService
		popkit.FunnelService
		popkit.SecretService
		popkit.ReconcileService
		popkit.ColdChainService
		popkit.KPIService
	}
	srv.KPIs = svc
	srv.Reconcile = svc
	srv.ColdChain = svc
	srv.Program, srv.Cities, srv.Venues, srv.Brands, srv.Events = svc, svc, svc, svc, svc
	srv.SKUs, srv.Assortment, srv.Devices, srv.Tokens, srv.Idempotency = svc, svc, svc, svc, svc
	srv.Telemetry = svc
	srv.Listings, srv.Tiers, srv.Members, srv.Billing, srv.Funnel, srv.Secrets = svc, svc, svc, svc, svc, svc
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	if rec.Code != 200 {
		return nil, fmt.Errorf("GET /api/v1/openapi.json: %d", rec.Code)
	}
	raw := rec.Body.Bytes()
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	doc.Servers = nil // match request paths as they are
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	return &spec{raw: raw, doc: doc, router: router}, nil
})

// openAPICheck validates each response against the document, and each
// request the server accepted (2xx) too: a request the server takes but the
// document refuses is a disagreement as well. seen, when set, records the
// operations that answered 2xx.
func openAPICheck(tb testing.TB, seen func(op string)) func(tb testing.TB, req *http.Request, body []byte, res *response) {
	sp, err := loadSpec()
	if err != nil {
		tb.Fatalf("OpenAPI document: %v", err)
	}
	return func(tb testing.TB, req *http.Request, body []byte, res *response) {
		tb.Helper()
		if req.Method == http.MethodHead {
			return
		}
		route, params, err := sp.router.FindRoute(req)
		if err != nil {
			if res.Status != 404 && res.Status != 405 {
				tb.Errorf("%s %s answered %d but is not in the OpenAPI document: %v", req.Method, req.URL.Path, res.Status, err)
			}
			return
		}
		ctx := context.Background()
		in := &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
		}
		if res.Status < 300 {
			if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
				tb.Errorf("%s %s: the server accepted a request the document refuses: %v\nbody: %.300s", req.Method, req.URL, err, body)
			}
			if seen != nil {
				seen(route.Method + " " + route.Path)
			}
		}
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: res.Status, Header: res.Header,
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}
		out.SetBodyBytes(res.Body)
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			tb.Errorf("%s %s: response %d does not match the document: %v\nbody: %.500s", req.Method, req.URL, res.Status, err, res.Body)
		}
	}
}

// TestOpenAPIRoutes checks that the document describes exactly the routes
// of the table, with their roles and Idempotency-Key, and that the mux
// serves every operation of the document.
func TestOpenAPIRoutes(t *testing.T) {
	t.Parallel()
	sp, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	if sp.doc.OpenAPI != "3.1.0" || !sp.doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi %q, want 3.1.0", sp.doc.OpenAPI)
	}
	table := map[string]pkhttp.TestRoute{}
	for _, rt := range pkhttp.RouteTable() {
		table[rt.Method+" "+rt.Path] = rt
	}
	documented := map[string]*openapi3.Operation{}
	for path, item := range sp.doc.Paths.Map() {
		for method, op := range item.Operations() {
			documented[method+" "+path] = op
		}
	}
	if got, want := sortedKeys(documented), sortedKeys(table); !slices.Equal(got, want) {
		t.Fatalf("documented operations differ from the route table:\ndocument: %v\ntable:    %v", got, want)
	}

	e := newEnv(t)
	pathParam := regexp.MustCompile(`\{[a-z_]+\}`)
	for key, op := range documented {
		rt := table[key]
		t.Run(key, func(t *testing.T) {
			var roles []string
			if raw, ok := op.Extensions["x-popkit-roles"]; ok {
				b, _ := json.Marshal(raw)
				json.Unmarshal(b, &roles)
			}
			if !slices.Equal(roles, rt.Roles) {
				t.Errorf("x-popkit-roles %v, table %v", roles, rt.Roles)
			}
			if public := op.Security != nil && len(*op.Security) == 0; public != (rt.Roles == nil) {
				t.Errorf("document says public=%v, table roles %v", public, rt.Roles)
			}
			hasKey := op.Parameters.GetByInAndName("header", "Idempotency-Key") != nil
			if hasKey != rt.Idempotent {
				t.Errorf("Idempotency-Key documented %v, route idempotent %v", hasKey, rt.Idempotent)
			}
			if (op.RequestBody != nil) != rt.Body {
				t.Errorf("request body documented %v, route takes one %v", op.RequestBody != nil, rt.Body)
			}
			for _, status := range []string{"default"} {
				if op.Responses.Value(status) == nil {
					t.Errorf("no %s response", status)
				}
			}
			// The mux serves the operation: without a token it answers 401
			// (or 200 for public routes), never the unmatched 404/405.
			path := pathParam.ReplaceAllStringFunc(rt.Path, func(string) string { return popkit.NewID() })
			var body any
			if rt.Body {
				body = `{}`
			}
			res := e.with(t).do(rt.Method, path, "", body)
			want := http.StatusUnauthorized
			if rt.Roles == nil {
				want = http.StatusOK
				if st, ok := publicRefusals[key]; ok {
					want = st // public routes that check their own input
				}
			}
			if res.Status != want {
				t.Errorf("%s %s without a token: %d, want %d: %s", rt.Method, path, res.Status, want, res.Body)
			}
		})
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestOpenAPIScenario runs every operation against a real store and
// validates each request and response against the document (newEnv does
// that for every test; this one also checks that every route answered 2xx
// at least once).
func TestOpenAPIScenario(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]int{}
	e := newEnv(t)
	e.check = openAPICheck(t, func(op string) {
		mu.Lock()
		defer mu.Unlock()
		seen[op]++
	})
	w := newWorld(e)
	ev := "/api/v1/events/" + w.e1.ID
	item := ev + "/assortment/" + w.skuA.ID
	steps := []struct {
		method, path, token string
		body                any
		headers             []header
		want                int
	}{
		{"GET", "/healthz", "", nil, nil, 200},
		{"GET", "/readyz", "", nil, nil, 200},
		{"GET", "/metrics", "", nil, nil, 200},
		{"GET", "/api/v1/openapi.json", "", nil, nil, 200},
		{"GET", "/api/v1/program", w.device, nil, nil, 200},
		{"PUT", "/api/v1/program", e.admin, map[string]any{"name": "P", "currency": "EUR", "k_anonymity": 5, "epoch_days": 30}, nil, 200},
		{"GET", "/api/v1/cities?limit=1", w.curator, nil, nil, 200},
		{"GET", "/api/v1/cities/" + w.city.ID, w.fulfiller, nil, nil, 200},
		{"PATCH", "/api/v1/cities/" + w.city.ID, e.admin, map[string]any{"name": "Berlin-Mitte", "country": nil}, nil, 200},
		{"POST", "/api/v1/cities", e.admin, cityBody("Rome"), []header{key("rome")}, 201},
		{"POST", "/api/v1/cities", e.admin, cityBody("Rome"), []header{key("rome")}, 201},
		{"POST", "/api/v1/cities", e.admin, cityBody("Milan"), []header{key("rome")}, 422},
		{"GET", "/api/v1/venues?city_id=" + w.city.ID, w.brand, nil, nil, 200},
		{"GET", "/api/v1/venues/" + w.venue.ID, w.brand, nil, nil, 200},
		{"PATCH", "/api/v1/venues/" + w.venue.ID, e.admin, map[string]any{"lat": 52.52}, nil, 200},
		{"GET", "/api/v1/brands?slug=brand-a", w.brand, nil, nil, 200},
		{"GET", "/api/v1/brands/" + w.brandB.ID, w.brand, nil, nil, 200},
		{"PATCH", "/api/v1/brands/" + w.brandB.ID, e.admin, map[string]any{"contact_email": "b@example.com"}, nil, 200},
		{"GET", "/api/v1/events?status=scheduled&from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z", w.curator, nil, nil, 200},
		{"GET", ev, w.device, nil, nil, 200},
		{"PATCH", ev, e.admin, map[string]any{"status": "open", "costs": map[string]any{"rent_minor": 1}}, nil, 200},
		{"PATCH", ev, e.admin, map[string]any{"sessions": []map[string]any{{"start": "2026-05-01T09:00", "end": "2026-05-01T18:00:00", "cancelled": false}}}, nil, 200},
		{"PATCH", ev, e.admin, map[string]any{"status": "postponed"}, nil, 409},
		{"PATCH", "/api/v1/events/" + w.e2.ID, e.admin, map[string]any{"status": "postponed"}, nil, 200},
		{"GET", "/api/v1/events?status=postponed", w.curator, nil, nil, 200},
		{"PATCH", "/api/v1/events/" + w.e2.ID, e.admin, map[string]any{"status": "scheduled"}, nil, 200},
		{"GET", "/api/v1/skus", w.brand, nil, nil, 200},
		{"GET", "/api/v1/skus/" + w.skuA.ID, w.brand, nil, nil, 200},
		{"PATCH", "/api/v1/skus/" + w.skuA.ID, w.brand, map[string]any{"perishable": true}, nil, 200},
		{"POST", "/api/v1/skus", w.brand, map[string]any{"code": "S-1", "name": "Soap"}, []header{key("soap")}, 201},
		{"GET", ev + "/assortment?brand_id=" + w.brandA.ID, w.device, nil, nil, 200},
		{"GET", item, w.device, nil, nil, 200},
		{"PUT", item, w.brand, map[string]any{"stock": 5, "price_minor": nil}, nil, 200},
		{"POST", item + "/adjustments", w.brand, map[string]any{"delta": 2}, []header{key("adj-1")}, 200},
		{"POST", item + "/adjustments", w.brand, map[string]any{"delta": 2}, []header{key("adj-1")}, 200},
		{"POST", item + "/adjustments", w.brand, map[string]any{"delta": -100}, nil, 409},
		{"DELETE", ev + "/assortment/" + w.skuB.ID, e.admin, nil, nil, 204},
		{"GET", "/api/v1/devices", w.device, nil, nil, 200},
		{"GET", "/api/v1/devices/" + w.dev1.ID, w.device, nil, nil, 200},
		{"PATCH", "/api/v1/devices/" + w.dev1.ID, w.device, map[string]any{"name": "door 2"}, nil, 200},
		{"POST", "/api/v1/devices", e.admin, map[string]any{"event_id": w.e1.ID, "name": "fridge 2"}, []header{key("dev")}, 201},
		{"POST", "/api/v1/ingest", w.device, map[string]any{"device_id": w.dev1.ID, "stream": popkit.NewID(), "sent_at": "2026-05-01T10:00:00Z",
			"report":  map[string]any{"version": "1", "backlog_count": 0, "backlog_bytes": 0},
			"records": []map[string]any{{"seq": 1, "kind": "rollup", "rollup": map[string]any{"event_id": w.e1.ID, "sensor": "door", "kind": "footfall", "minute": "2026-05-01T09:59:00Z", "in": 3}}}}, nil, 200},
		{"GET", ev + "/telemetry?metric=footfall_in&from=2026-05-01T00:00:00Z&to=2026-05-02T00:00:00Z&step=1h", w.brand, nil, nil, 200},
		{"GET", "/api/v1/devices/" + w.dev1.ID + "/status", w.device, nil, nil, 200},
		{"GET", "/api/v1/tokens?include_revoked=true&role=brand", e.admin, nil, nil, 200},
		{"POST", "/api/v1/tokens", e.admin, map[string]any{"role": "device", "event_id": w.e2.ID, "name": "edge"}, nil, 201},
		{"DELETE", "/api/v1/tokens/" + popkit.NewID(), e.admin, nil, nil, 404},
		{"GET", "/api/v1/cities", "", nil, nil, 401},
		{"GET", "/api/v1/tokens", w.curator, nil, nil, 403},
		{"POST", "/api/v1/cities", e.admin, `{"name":1}`, nil, 400},
		{"POST", "/api/v1/cities", e.admin, cityBody("x"), []header{{"Content-Type", "text/plain"}}, 415},
		{"POST", "/api/v1/venues", e.admin, venueBody(popkit.NewID()), nil, 422},
		{"POST", "/api/v1/brands", e.admin, map[string]any{"name": "A", "slug": "brand-a"}, nil, 409},
		{"PUT", "/api/v1/program", e.admin, strings.Repeat(" ", 1<<20+1), nil, 413},
	}
	for _, s := range steps {
		e.do(s.method, s.path, s.token, s.body, s.headers...).want(t, s.want)
	}
	discoveryScenario(t, e, w)
	ordersScenario(t, e, w)
	webhooksScenario(t, e)
	coldChainScenario(t, e, w)
	reconcileScenario(t, e, w)
	fulfilScenario(t, e, w)
	moneyScenario(t, e, w)
	kpiScenario(t, e, w)
	// Revoke a real token last: it is the one DELETE that succeeds.
	tokens := decodeAs[listBody[popkit.Token]](t, e.do("GET", "/api/v1/tokens?role=curator", e.admin, nil).want(t, 200))
	e.do("DELETE", "/api/v1/tokens/"+tokens.Items[0].ID, e.admin, nil).want(t, 204)

	for _, rt := range pkhttp.RouteTable() {
		if seen[rt.Method+" "+rt.Path] == 0 {
			t.Errorf("%s %s never answered 2xx in the scenario", rt.Method, rt.Path)
		}
	}
}
