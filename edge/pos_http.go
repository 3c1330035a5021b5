package edge

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/popkit/popkit"
	"github.com/prometheus/client_golang/prometheus"
)

//go:embed posui/index.html
var posUI embed.FS

// posProblem is an RFC 9457 problem of the POS API; Fields, Shortfalls
// and Cap are extension members.
type posProblem struct {
	Type       string              `json:"type"`
	Title      string              `json:"title"`
	Status     int                 `json:"status"`
	Detail     string              `json:"detail"`
	Fields     []popkit.FieldError `json:"errors,omitempty"`
	Shortfalls []Shortfall         `json:"shortfalls,omitempty"`
	Cap        string              `json:"cap,omitempty"`
	Limit      *int64              `json:"limit_minor,omitempty"`
}

func writePOSProblem(w http.ResponseWriter, p posProblem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

func writePOSJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// mount adds the POS routes to mux.
func (p *pos) mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /pos", p.page)
	mux.HandleFunc("GET /pos/{$}", p.page)
	mux.HandleFunc("GET /pos/api/items", p.getItems)
	mux.HandleFunc("POST /pos/api/sales", p.postSale)
	mux.HandleFunc("GET /pos/api/sales", p.listSales)
	mux.HandleFunc("GET /pos/api/sales/{id}", p.getSale)
	mux.HandleFunc("POST /pos/api/refresh", p.postRefresh)
}

func (p *pos) page(w http.ResponseWriter, r *http.Request) {
	b, err := posUI.ReadFile("posui/index.html")
	if err != nil {
		http.Error(w, "page missing", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:")
	w.Write(b)
}

// itemsView is the answer of GET /pos/api/items.
type itemsView struct {
	EventID     string    `json:"event_id"`
	Till        string    `json:"till"`
	Currency    string    `json:"currency"`
	Online      bool      `json:"online"`       // the last assortment fetch succeeded
	RefreshedAt *string   `json:"refreshed_at"` // time of the cached assortment, RFC 3339; null before the first fetch
	Items       []posItem `json:"items"`
	Unsynced    struct {
		Count            int64 `json:"count"`
		AmountMinor      int64 `json:"amount_minor"`
		CardOfflineMinor int64 `json:"card_offline_minor"`
	} `json:"unsynced"`
	CardOfflineMaxTx    int64 `json:"card_offline_max_tx"`
	CardOfflineMaxTotal int64 `json:"card_offline_max_total"`
}

func (p *pos) getItems(w http.ResponseWriter, r *http.Request) {
	v := itemsView{EventID: p.agent.Config.EventID, Till: p.cfg.Till, Currency: p.currency(), Online: p.online.ok.Load(),
		CardOfflineMaxTx: p.cfg.CardOfflineMaxTx, CardOfflineMaxTotal: p.cfg.CardOfflineMaxTotal}
	items, err := p.items(r.Context(), p.ob.db)
	if err == nil {
		v.Unsynced.Count, v.Unsynced.AmountMinor, v.Unsynced.CardOfflineMinor, err = p.unsynced(r.Context(), p.ob.db)
	}
	if err != nil {
		p.agent.Logger.Error("pos: read items", "err", err)
		writePOSProblem(w, posProblem{Type: "urn:popkit:problem:unavailable", Title: "Not available", Status: http.StatusServiceUnavailable, Detail: "the till could not read its assortment; retry"})
		return
	}
	if items == nil {
		items = []posItem{}
	}
	v.Items = items
	if at, err := posMeta(p.ob.db, r.Context(), "refreshed_at"); err == nil && at > 0 {
		s := time.UnixMicro(at).UTC().Format(time.RFC3339)
		v.RefreshedAt = &s
	}
	writePOSJSON(w, http.StatusOK, v)
}

// postSale rings up a sale. 201 with the receipt once it is durable (200
// for a retry of a stored sale); 400 for an unreadable body; 422 for
// invalid fields and offline card payments over a cap; 409 when local
// stock would go below zero without allow_oversell, or when the id was
// used for another sale; 507 when the outbox is full.
func (p *pos) postSale(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSaleBody))
	if err != nil {
		p.metrics.refuse("too_large")
		writePOSProblem(w, posProblem{Type: "urn:popkit:problem:too_large", Title: "Request too large", Status: http.StatusRequestEntityTooLarge, Detail: "a sale body is at most 64 KiB"})
		return
	}
	req, err := DecodeSaleRequest(body)
	if err != nil {
		p.writeSaleError(w, err)
		return
	}
	rc, err := p.sell(r.Context(), req)
	if err != nil {
		p.writeSaleError(w, err)
		return
	}
	if rc.Replayed {
		writePOSJSON(w, http.StatusOK, rc)
		return
	}
	p.metrics.accepted.WithLabelValues(string(rc.Payment.Method)).Inc()
	w.Header().Set("Location", "/pos/api/sales/"+rc.ID)
	writePOSJSON(w, http.StatusCreated, rc)
}

func (p *pos) writeSaleError(w http.ResponseWriter, err error) {
	var se *stockError
	var ce *capError
	switch {
	case errors.As(err, &se):
		p.metrics.refuse("stock")
		writePOSProblem(w, posProblem{Type: "urn:popkit:problem:insufficient_local_stock", Title: "Not enough local stock", Status: http.StatusConflict,
			Detail: se.Error(), Shortfalls: se.Shortfalls})
	case errors.As(err, &ce):
		p.metrics.refuse(ce.Cap)
		limit := ce.Limit
		writePOSProblem(w, posProblem{Type: "urn:popkit:problem:card_offline_cap", Title: "Offline card cap reached", Status: http.StatusUnprocessableEntity,
			Detail: ce.Error(), Cap: ce.Cap, Limit: &limit})
	case errors.Is(err, ErrOutboxFull):
		p.metrics.refuse("outbox_full")
		writePOSProblem(w, posProblem{Type: "urn:popkit:problem:outbox_full", Title: "Outbox full", Status: http.StatusInsufficientStorage,
			Detail: "the sale was not stored: the agent's outbox is full until the connection drains it; record this sale on paper"})
	case popkit.ErrorCode(err) == popkit.EINVALID && len(popkit.ErrorFields(err)) == 0:
		p.metrics.refuse("invalid")
		writePOSProblem(w, posProblem{Type: "urn:popkit:problem:invalid", Title: "Unreadable body", Status: http.StatusBadRequest, Detail: popkit.ErrorMessage(err)})
	case popkit.ErrorCode(err) == popkit.EINVALID:
		p.metrics.refuse("invalid")
		writePOSProblem(w, posProblem{Type: "urn:popkit:problem:invalid", Title: "Invalid sale", Status: http.StatusUnprocessableEntity,
			Detail: popkit.ErrorMessage(err), Fields: popkit.ErrorFields(err)})
	case errors.Is(err, errSaleIDReused):
		p.metrics.refuse("id_reused")
		writePOSProblem(w, posProblem{Type: "urn:popkit:problem:conflict", Title: "Sale id reused", Status: http.StatusConflict, Detail: popkit.ErrorMessage(err)})
	case errors.Is(err, context.Canceled):
		p.metrics.refuse("error")
		writePOSProblem(w, posProblem{Type: "urn:popkit:problem:unavailable", Title: "Not stored", Status: http.StatusServiceUnavailable, Detail: "the sale was not stored; retry"})
	default:
		p.metrics.refuse("error")
		p.agent.Logger.Error("pos: store sale", "err", err)
		writePOSProblem(w, posProblem{Type: "urn:popkit:problem:unavailable", Title: "Not stored", Status: http.StatusServiceUnavailable, Detail: "the sale was not stored; retry"})
	}
}

func (p *pos) getSale(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !popkit.ValidID(id) {
		writePOSProblem(w, posProblem{Type: "urn:popkit:problem:invalid", Title: "Invalid id", Status: http.StatusBadRequest, Detail: "the sale id must be a lower-case UUID"})
		return
	}
	rc, err := p.receipt(r.Context(), id)
	if popkit.ErrorCode(err) == popkit.ENOTFOUND {
		writePOSProblem(w, posProblem{Type: "urn:popkit:problem:not_found", Title: "No such sale", Status: http.StatusNotFound, Detail: popkit.ErrorMessage(err)})
		return
	}
	if err != nil {
		p.agent.Logger.Error("pos: read sale", "err", err)
		writePOSProblem(w, posProblem{Type: "urn:popkit:problem:unavailable", Title: "Not available", Status: http.StatusServiceUnavailable, Detail: "could not read the sale; retry"})
		return
	}
	writePOSJSON(w, http.StatusOK, rc)
}

// listSales answers the latest receipts, newest first (limit 1-200,
// default 20).
func (p *pos) listSales(w http.ResponseWriter, r *http.Request) {
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			writePOSProblem(w, posProblem{Type: "urn:popkit:problem:invalid", Title: "Invalid limit", Status: http.StatusBadRequest, Detail: "limit must be an integer between 1 and 200"})
			return
		}
		limit = n
	}
	rcs, err := p.recent(r.Context(), limit)
	if err != nil {
		p.agent.Logger.Error("pos: list sales", "err", err)
		writePOSProblem(w, posProblem{Type: "urn:popkit:problem:unavailable", Title: "Not available", Status: http.StatusServiceUnavailable, Detail: "could not read the sales; retry"})
		return
	}
	writePOSJSON(w, http.StatusOK, map[string]any{"items": rcs})
}

// postRefresh fetches the assortment now (the page's refresh button).
func (p *pos) postRefresh(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	if err := p.refresh(ctx); err != nil {
		p.online.ok.Store(false)
		writePOSProblem(w, posProblem{Type: "urn:popkit:problem:offline", Title: "Server not reachable", Status: http.StatusBadGateway,
			Detail: "could not fetch the assortment; the till keeps selling from its cache: " + err.Error()})
		return
	}
	p.online.ok.Store(true)
	p.getItems(w, r)
}

// posMetrics are the till's Prometheus metrics.
type posMetrics struct {
	accepted *prometheus.CounterVec
	refused  *prometheus.CounterVec
	gauges   []prometheus.Collector
}

func newPOSMetrics(p *pos) *posMetrics {
	m := &posMetrics{
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "popkit_edge_pos_sales_accepted_total", Help: "POS sales stored durably, by payment method."}, []string{"method"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "popkit_edge_pos_sales_refused_total",
			Help: "POS sales refused at the till, by reason (invalid, stock, card_offline_max_tx, card_offline_max_total, outbox_full, id_reused, too_large, error)."}, []string{"reason"}),
	}
	unsynced := func(pick func(n, amount, card int64) int64) func() float64 {
		return func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			n, amount, card, err := p.unsynced(ctx, p.ob.db)
			if err != nil {
				return 0
			}
			return float64(pick(n, amount, card))
		}
	}
	m.gauges = []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "popkit_edge_pos_unsynced_sales", Help: "POS sales not yet acknowledged by the server."},
			unsynced(func(n, _, _ int64) int64 { return n })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "popkit_edge_pos_unsynced_amount_minor", Help: "Total of POS sales not yet acknowledged by the server, minor units."},
			unsynced(func(_, a, _ int64) int64 { return a })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "popkit_edge_pos_unsynced_card_offline_minor", Help: "Offline card payments not yet acknowledged by the server (capped by pos.card_offline_max_total), minor units."},
			unsynced(func(_, _, c int64) int64 { return c })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "popkit_edge_pos_online", Help: "1 while the last assortment fetch from the server succeeded."}, func() float64 {
			if p.online.ok.Load() {
				return 1
			}
			return 0
		}),
	}
	return m
}

func (m *posMetrics) refuse(reason string) { m.refused.WithLabelValues(reason).Inc() }

// Describe implements prometheus.Collector.
func (m *posMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.accepted.Describe(ch)
	m.refused.Describe(ch)
	for _, g := range m.gauges {
		g.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *posMetrics) Collect(ch chan<- prometheus.Metric) {
	m.accepted.Collect(ch)
	m.refused.Collect(ch)
	for _, g := range m.gauges {
		g.Collect(ch)
	}
}
