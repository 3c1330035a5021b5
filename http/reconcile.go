package http

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/popkit/popkit"
)

// Reconciliation of offline sales: exceptions, stock counts and the stock
// ledger. Admin tokens see everything. Brand tokens see only exceptions and
// movements of their own brand's SKUs (another brand's exception is 404, an
// exception without a SKU brand is invisible to them), resolve only those,
// and count stock only at events their brand takes part in and only of
// their own SKUs (403 otherwise).

const (
	brandExceptions = "Brand tokens see and resolve only exceptions of their own brand's SKUs (another brand's is 404)."
	brandCounts     = "Brand tokens may count only at events their brand takes part in, and only their own SKUs (403 otherwise)."
	brandMovements  = "Brand tokens see only movements of their own brand's SKUs, at events their brand takes part in (403 otherwise)."
)

var rolesReconcile = []popkit.Role{popkit.RoleAdmin, popkit.RoleBrand}

// reconcileRoutes are the routes of reconciliation.
var reconcileRoutes = []route{
	{method: "GET", path: "/api/v1/exceptions", roles: rolesReconcile, handler: (*Server).listExceptions,
		doc: opDoc{id: "listExceptions", summary: "List reconciliation exceptions (oversells of offline sales, sales naming SKUs not in the assortment, sale ids reused by another order), oldest first.", note: brandExceptions, query: append([]string{"event_id", "exception_status", "exception_kind"}, page...), out: "Exception", list: true, status: 200}},
	{method: "GET", path: "/api/v1/exceptions/{id}", roles: rolesReconcile, handler: plain((*Server).getException),
		doc: opDoc{id: "getException", summary: "Read one exception with its resolution.", note: brandExceptions, out: "Exception", status: 200}},
	{method: "POST", path: "/api/v1/exceptions/{id}/resolution", roles: rolesReconcile, idem: idemOptional, handler: (*Server).resolveException,
		doc: opDoc{id: "resolveException", summary: "Resolve an open exception: an oversell by backorder (node_id: a fulfilment order at that node ships the short units), substitute (sku_id and quantity, taken from that SKU's stock) or refund (shortfall × unit price; the order moves to partially_refunded or refunded); an unknown_sku by apply (the kept sale is applied once its SKUs are in the assortment) or dismiss; a sale_conflict by dismiss; dismiss needs a note. 409 when already resolved, the substitute's or the backorder node's stock is short, or the sale still cannot be applied; 422 for an unknown node, a perishable SKU backordered at a node without cold chain, or a substitute not in the event's assortment.", note: brandExceptions, in: "ExceptionResolutionInput", out: "Exception", status: 200, errs: []int{409, 422}}},
	{method: "POST", path: "/api/v1/events/{id}/stock-counts", roles: rolesReconcile, idem: idemOptional, handler: plain((*Server).createStockCount),
		doc: opDoc{id: "createStockCount", summary: "Record a physical stock count at counted_at, a checkpoint: each SKU's stock on hand becomes the counted quantity less the units known to have left after counted_at (offline sales, substitutes, fulfilled orders), never below what orders reserve. A count older than the SKU's latest one is stored but moves nothing (applied false).", note: brandCounts, in: "StockCountInput", out: "StockCount", status: 201}},
	{method: "GET", path: "/api/v1/events/{id}/stock-movements", roles: rolesReconcile, handler: plain((*Server).listStockMovements),
		doc: opDoc{id: "listStockMovements", summary: "The stock ledger of an event in the order it was written: sales, counts and substitutes with the units that moved and the change applied to stock on hand.", note: brandMovements, query: append([]string{"movement_sku_id"}, page...), out: "StockMovement", list: true, status: 200}},
}

// exceptionResolutionInput is the body of POST /api/v1/exceptions/{id}/resolution.
type exceptionResolutionInput struct {
	Kind     popkit.ResolutionKind `json:"kind"`
	NodeID   string                `json:"node_id"`
	SKUID    string                `json:"sku_id"`
	Quantity int                   `json:"quantity"`
	Note     string                `json:"note"`
}

// decodeExceptionResolution decodes and checks a resolution body.
func decodeExceptionResolution(body []byte) (*popkit.ExceptionResolution, error) {
	var in exceptionResolutionInput
	if err := decodeBytes(body, &in); err != nil {
		return nil, err
	}
	if in.Kind == "" {
		return nil, popkit.InvalidField("kind", "is required")
	}
	r := &popkit.ExceptionResolution{Kind: in.Kind, NodeID: in.NodeID, SKUID: in.SKUID, Quantity: in.Quantity, Note: in.Note}
	return r, r.Validate()
}

// stockCountInput is the body of POST /api/v1/events/{id}/stock-counts.
type stockCountInput struct {
	CountedAt *time.Time            `json:"counted_at"`
	Lines     []stockCountLineInput `json:"lines"`
}

type stockCountLineInput struct {
	SKUID    string `json:"sku_id"`
	Quantity *int   `json:"quantity"`
}

// decodeStockCount decodes and checks a stock count body for an event.
func decodeStockCount(body []byte, eventID string, now time.Time) (*popkit.StockCount, error) {
	var in stockCountInput
	if err := decodeBytes(body, &in); err != nil {
		return nil, err
	}
	if in.CountedAt == nil {
		return nil, popkit.InvalidField("counted_at", "is required")
	}
	c := &popkit.StockCount{EventID: eventID, CountedAt: *in.CountedAt, Lines: make([]popkit.StockCountLine, len(in.Lines))}
	var v popkit.Validation
	for i, l := range in.Lines {
		if l.Quantity == nil {
			v.Add("lines["+strconv.Itoa(i)+"].quantity", "is required")
			continue
		}
		c.Lines[i] = popkit.StockCountLine{SKUID: l.SKUID, Quantity: *l.Quantity}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return c, c.Validate(now)
}

// exceptionScope holds brand tokens to their own brand's exceptions.
func exceptionScope(t *popkit.Token, e *popkit.Exception) error {
	return readBrand(t, e.BrandID, "exception")
}

func (s *Server) listExceptions() http.HandlerFunc {
	return handleList(s, func(q *query, t *popkit.Token) (popkit.ExceptionFilter, error) {
		status := q.str("status", func(v string) bool {
			return v == string(popkit.ExceptionOpen) || v == string(popkit.ExceptionResolved)
		}, "must be open or resolved")
		kind := q.str("kind", func(v string) bool { return slices.Contains(popkit.ExceptionKinds, popkit.ExceptionKind(v)) },
			"must be one of oversell, unknown_sku, sale_conflict")
		f := popkit.ExceptionFilter{EventID: q.id("event_id"), Status: popkit.ExceptionStatus(status), Kind: popkit.ExceptionKind(kind), Page: q.page()}
		if t.Role == popkit.RoleBrand {
			f.BrandID = t.BrandID
		}
		return f, nil
	}, func(ctx context.Context, f popkit.ExceptionFilter) ([]*popkit.Exception, string, error) {
		return s.Reconcile.FindExceptions(ctx, f)
	})
}

func (s *Server) getException(w http.ResponseWriter, r *http.Request) {
	e, err := load(r, "id", "exception", s.Reconcile.FindException, exceptionScope)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, e)
}

func (s *Server) resolveException() http.HandlerFunc {
	find := func(r *http.Request) (*popkit.Exception, error) {
		return load(r, "id", "exception", s.Reconcile.FindException, exceptionScope)
	}
	return handleAction(s, find, decodeExceptionResolution, func(r *http.Request, t *popkit.Token, res *popkit.ExceptionResolution) (*popkit.Exception, error) {
		if t.Role == popkit.RoleBrand && res.Kind == popkit.ResolveSubstitute {
			if err := s.ownSKU(r.Context(), t, res.SKUID, "sku_id"); err != nil {
				return nil, err
			}
		}
		res.Actor = actorOf(t)
		return s.Reconcile.ResolveException(r.Context(), r.PathValue("id"), res)
	})
}

// ownSKU lets a brand token name only its own SKUs: another brand's SKU is
// 403; a SKU that does not exist is left for the store to report.
func (s *Server) ownSKU(ctx context.Context, t *popkit.Token, skuID, field string) error {
	if !popkit.ValidID(skuID) {
		return nil
	}
	sku, err := s.SKUs.FindSKUByID(ctx, skuID)
	if popkit.ErrorCode(err) == popkit.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if sku.BrandID != t.BrandID {
		return &popkit.Error{Code: popkit.EFORBIDDEN, Message: "a brand token may name only its own brand's SKUs",
			Fields: []popkit.FieldError{{Field: field, Message: "is another brand's SKU"}}}
	}
	return nil
}

// createStockCount records a stock count at the event of the path.
func (s *Server) createStockCount(w http.ResponseWriter, r *http.Request) {
	ev, err := load(r, "id", "event", s.Events.FindEventByID, nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	t := token(r)
	if t.Role == popkit.RoleBrand && !slices.Contains(ev.BrandIDs, t.BrandID) {
		s.writeError(w, r, forbidden("a brand token may count stock only at events its brand takes part in"))
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := decodeStockCount(body, ev.ID, s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if t.Role == popkit.RoleBrand {
		for i, l := range c.Lines {
			if err := s.ownSKU(r.Context(), t, l.SKUID, "lines["+strconv.Itoa(i)+"].sku_id"); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
	}
	c.Actor = actorOf(t)
	if err := s.Reconcile.RecordStockCount(r.Context(), c); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/events/"+ev.ID+"/stock-counts/"+c.ID)
	writeJSON(w, r, http.StatusCreated, c)
}

// listStockMovements serves one page of an event's stock ledger.
func (s *Server) listStockMovements(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "event")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := &query{r: r}
	f := popkit.MovementFilter{EventID: id, SKUID: q.id("sku_id"), Page: q.page()}
	if q.err != nil {
		s.writeError(w, r, q.err)
		return
	}
	if t := token(r); t.Role == popkit.RoleBrand {
		// As for stock counts: a brand sees the ledger only of events its
		// brand takes part in, and there only its own SKUs.
		ev, err := load(r, "id", "event", s.Events.FindEventByID, nil)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !slices.Contains(ev.BrandIDs, t.BrandID) {
			s.writeError(w, r, forbidden("a brand token may read stock movements only of events its brand takes part in"))
			return
		}
		f.BrandID = t.BrandID
	}
	items, next, err := s.Reconcile.FindStockMovements(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, list[popkit.StockMovement]{Items: items, NextCursor: next})
}
