package http

import (
	"context"
	"net/http"

	"github.com/popkit/popkit"
)

// Money: exchange rates, SKU prices per currency, and the till's whole
// assortment of an event in the event's currency.

const (
	brandPrices = "Brand tokens see and set only their own brand's SKU prices (another brand's SKU is 404 to read and 403 to change)."
	tillNote    = "Device tokens may read only their own event (403 otherwise). The whole assortment in one answer, each price in the event's currency (its city's)."
)

var rolesTill = []popkit.Role{popkit.RoleAdmin, popkit.RoleCurator, popkit.RoleDevice}

// moneyRoutes are the routes of exchange rates, SKU prices and the till.
var moneyRoutes = []route{
	{method: "GET", path: "/api/v1/fx-rates", roles: rolesCatalogRead, handler: (*Server).listFXRates,
		doc: opDoc{id: "listFXRates", summary: "List stored exchange rates by day, base and quote; from and to are days (inclusive).", query: append([]string{"fx_from", "fx_to", "fx_base", "fx_quote"}, page...), out: "FXRate", list: true, status: 200}},
	{method: "PUT", path: "/api/v1/fx-rates", roles: rolesAdmin, handler: plain((*Server).putFXRates),
		doc: opDoc{id: "putFXRates", summary: "Store exchange rates, replacing those of the same day, base and quote; all or none (a bad rate is a 400 naming rates[i].field).", in: "FXRatesInput", out: "FXRate", list: true, status: 200}},
	{method: "GET", path: "/api/v1/fx-rates/lookup", roles: rolesCatalogRead, handler: plain((*Server).lookupFXRate),
		doc: opDoc{id: "lookupFXRate", summary: "The rate converting base into quote on day: the stored rate of that day or the latest earlier one, else the stored inverse (rate p/q, derived inverse), else a cross through EUR (derived cross:EUR, day the older leg's); 404 when none exists on or before day.", query: []string{"fx_day", "fx_base_required", "fx_quote_required"}, out: "FXRate", status: 200}},

	{method: "GET", path: "/api/v1/skus/{id}/prices", roles: rolesCatalogRead, handler: plain((*Server).listSKUPrices),
		doc: opDoc{id: "listSKUPrices", summary: "A SKU's prices per currency, by currency; the program currency's is its list price.", note: brandPrices, out: "SKUPrice", list: true, status: 200}},
	{method: "PUT", path: "/api/v1/skus/{id}/prices/{currency}", roles: rolesBrandWrite, handler: plain((*Server).putSKUPrice),
		doc: opDoc{id: "putSKUPrice", summary: "Set a SKU's price and unit cost in a currency (minor units); the program currency's also sets the SKU's list price.", note: brandPrices, in: "SKUPriceInput", out: "SKUPrice", status: 200}},
	{method: "DELETE", path: "/api/v1/skus/{id}/prices/{currency}", roles: rolesBrandWrite, handler: plain((*Server).deleteSKUPrice),
		doc: opDoc{id: "deleteSKUPrice", summary: "Remove a SKU's price in a currency; the program currency's is 409.", note: brandPrices, status: 204, errs: []int{409}}},

	{method: "GET", path: "/api/v1/events/{id}/till", roles: rolesTill, handler: plain((*Server).getTill),
		doc: opDoc{id: "getTill", summary: "An event's whole assortment for a till: names, prices in the event's currency (null when a SKU has none in it) and stock, with the currency.", note: tillNote, out: "TillAssortment", status: 200, errs: []int{409}}},
}

func (s *Server) listFXRates() http.HandlerFunc {
	return handleList(s, func(q *query, _ *popkit.Token) (popkit.FXRateFilter, error) {
		p := q.page()
		v := q.r.URL.Query()
		f := popkit.FXRateFilter{From: v.Get("from"), To: v.Get("to"), Base: v.Get("base"), Quote: v.Get("quote"), Limit: p.Limit, After: p.After}
		return f, f.Validate()
	}, func(ctx context.Context, f popkit.FXRateFilter) ([]*popkit.FXRate, string, error) {
		return s.FX.FindRates(ctx, f)
	})
}

// fxRatesInput is the body of PUT /api/v1/fx-rates.
type fxRatesInput struct {
	Rates []fxRateInput `json:"rates"`
}

type fxRateInput struct {
	Day   string `json:"day"`
	Base  string `json:"base"`
	Quote string `json:"quote"`
	Rate  string `json:"rate"`
}

// MaxFXRatesPerPut bounds the rates of one PUT.
const MaxFXRatesPerPut = 5000

func (s *Server) putFXRates(w http.ResponseWriter, r *http.Request) {
	var in fxRatesInput
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(in.Rates) == 0 || len(in.Rates) > MaxFXRatesPerPut {
		s.writeError(w, r, popkit.InvalidField("rates", "must hold 1 to %d rates", MaxFXRatesPerPut))
		return
	}
	rates := make([]*popkit.FXRate, len(in.Rates))
	for i, x := range in.Rates {
		rates[i] = &popkit.FXRate{Day: x.Day, Base: x.Base, Quote: x.Quote, Rate: x.Rate}
	}
	if err := s.FX.SetRates(r.Context(), rates); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, list[popkit.FXRate]{Items: rates})
}

func (s *Server) lookupFXRate(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	var val popkit.Validation
	for _, p := range []string{"day", "base", "quote"} {
		val.Check(v.Get(p) != "", p, "is required")
	}
	if err := val.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	rate, err := s.FX.RateOn(r.Context(), v.Get("day"), v.Get("base"), v.Get("quote"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, rate)
}

// loadSKU loads the SKU of the path as the token may see it.
func (s *Server) loadSKU(r *http.Request) (*popkit.SKU, error) {
	return load(r, "id", "sku", s.SKUs.FindSKUByID, skuVisible)
}

func (s *Server) listSKUPrices(w http.ResponseWriter, r *http.Request) {
	sku, err := s.loadSKU(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	prices, err := s.SKUPrices.FindSKUPrices(r.Context(), sku.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, list[popkit.SKUPrice]{Items: prices})
}

// skuPriceInput is the body of PUT /api/v1/skus/{id}/prices/{currency}.
type skuPriceInput struct {
	PriceMinor    *int64 `json:"price_minor"`
	UnitCostMinor *int64 `json:"unit_cost_minor"`
}

func (s *Server) putSKUPrice(w http.ResponseWriter, r *http.Request) {
	sku, err := s.loadSKU(r)
	if err == nil {
		err = skuWritable(token(r), sku)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in skuPriceInput
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	var v popkit.Validation
	v.Check(in.PriceMinor != nil, "price_minor", "is required")
	v.Check(in.UnitCostMinor != nil, "unit_cost_minor", "is required")
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := &popkit.SKUPrice{SKUID: sku.ID, Currency: r.PathValue("currency"), PriceMinor: *in.PriceMinor, UnitCostMinor: *in.UnitCostMinor}
	if err := s.SKUPrices.SetSKUPrice(r.Context(), p); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, p)
}

func (s *Server) deleteSKUPrice(w http.ResponseWriter, r *http.Request) {
	sku, err := s.loadSKU(r)
	if err == nil {
		err = skuWritable(token(r), sku)
	}
	if err == nil {
		err = s.SKUPrices.DeleteSKUPrice(r.Context(), sku.ID, r.PathValue("currency"))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) getTill(w http.ResponseWriter, r *http.Request) {
	eventID, err := assortmentEvent(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	till, err := s.Till.FindTillAssortment(r.Context(), eventID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, till)
}
