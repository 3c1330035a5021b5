package http

import (
	"context"
	"net/http"

	"github.com/popkit/popkit"
)

// skuInput is the body of POST /api/v1/skus. A brand token may leave
// brand_id out; it defaults to the token's brand.
type skuInput struct {
	BrandID       string `json:"brand_id"`
	Code          string `json:"code"`
	Name          string `json:"name"`
	PriceMinor    int64  `json:"price_minor"`
	UnitCostMinor int64  `json:"unit_cost_minor"`
	Perishable    bool   `json:"perishable"`
	WeightGrams   int    `json:"weight_grams"`
}

func skuVisible(t *popkit.Token, s *popkit.SKU) error  { return readBrand(t, s.BrandID, "sku") }
func skuWritable(t *popkit.Token, s *popkit.SKU) error { return writeBrand(t, s.BrandID) }

func (s *Server) listSKUs() http.HandlerFunc {
	return handleList(s, func(q *query, t *popkit.Token) (popkit.SKUFilter, error) {
		brand, err := scopeFilter(t, "brand_id", q.id("brand_id"))
		return popkit.SKUFilter{BrandID: brand, Page: q.page()}, err
	}, s.SKUs.FindSKUs)
}

// getSKU reads a SKU. A device token (an edge agent's till) may read the
// SKUs of its own event's assortment, for their names and list prices;
// any other SKU is 404 to it.
func (s *Server) getSKU() http.HandlerFunc {
	return handleGet(s, "sku", s.SKUs.FindSKUByID, skuVisible)
}

// getSKUForToken wraps getSKU with the device scope check.
func (s *Server) getSKUForToken() http.HandlerFunc {
	get := s.getSKU()
	return func(w http.ResponseWriter, r *http.Request) {
		if t := token(r); t != nil && t.Role == popkit.RoleDevice {
			id, err := pathID(r, "id", "sku")
			if err == nil {
				_, err = s.Assortment.FindAssortmentItem(r.Context(), t.EventID, id)
			}
			if popkit.ErrorCode(err) == popkit.ENOTFOUND {
				err = popkit.Errorf(popkit.ENOTFOUND, "sku not found")
			}
			if err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		get(w, r)
	}
}

func (s *Server) createSKU() http.HandlerFunc {
	return handleCreate(s, "/api/v1/skus", func(t *popkit.Token, in *skuInput) (*popkit.SKU, error) {
		if in.BrandID == "" && t.Role == popkit.RoleBrand {
			in.BrandID = t.BrandID
		}
		if err := writeBrand(t, in.BrandID); err != nil {
			return nil, err
		}
		return &popkit.SKU{
			BrandID: in.BrandID, Code: in.Code, Name: in.Name, PriceMinor: in.PriceMinor,
			UnitCostMinor: in.UnitCostMinor, Perishable: in.Perishable, WeightGrams: in.WeightGrams,
		}, nil
	}, s.SKUs.CreateSKU, func(v *popkit.SKU) string { return v.ID })
}

func (s *Server) patchSKU() http.HandlerFunc {
	return handlePatch(s, "sku", s.SKUs.FindSKUByID, skuWritable, s.SKUs.UpdateSKU)
}

// assortmentInput is the body of PUT /api/v1/events/{id}/assortment/{sku_id}.
type assortmentInput struct {
	Stock      *int   `json:"stock"`
	PriceMinor *int64 `json:"price_minor"`
}

// adjustmentInput is the body of POST .../assortment/{sku_id}/adjustments.
type adjustmentInput struct {
	Delta *int `json:"delta"`
}

// assortmentEvent reads the event id of an assortment route and holds
// device tokens to their event.
func assortmentEvent(r *http.Request) (string, error) {
	eventID, err := pathID(r, "id", "event")
	if err != nil {
		return "", err
	}
	return eventID, useEvent(token(r), eventID)
}

// assortmentPath reads the event and SKU ids of an assortment item route.
func assortmentPath(r *http.Request) (eventID, skuID string, err error) {
	if eventID, err = assortmentEvent(r); err != nil {
		return "", "", err
	}
	skuID, err = pathID(r, "sku_id", "assortment item")
	return eventID, skuID, err
}

func (s *Server) listAssortment() http.HandlerFunc {
	return handleList(s, func(q *query, t *popkit.Token) (popkit.AssortmentFilter, error) {
		eventID, err := assortmentEvent(q.r)
		if err != nil {
			return popkit.AssortmentFilter{}, err
		}
		brand, err := scopeFilter(t, "brand_id", q.id("brand_id"))
		return popkit.AssortmentFilter{EventID: eventID, BrandID: brand, Page: q.page()}, err
	}, s.Assortment.FindAssortment)
}

// findItem loads the item of the route, applying the caller's scope:
// brand tokens see only their own SKUs' items.
func (s *Server) findItem(r *http.Request) (*popkit.AssortmentItem, error) {
	eventID, skuID, err := assortmentPath(r)
	if err != nil {
		return nil, err
	}
	a, err := s.Assortment.FindAssortmentItem(r.Context(), eventID, skuID)
	if err != nil {
		return nil, err
	}
	if err := readBrand(token(r), a.BrandID, "assortment item"); err != nil {
		return nil, err
	}
	return a, nil
}

func (s *Server) getAssortmentItem(w http.ResponseWriter, r *http.Request) {
	a, err := s.findItem(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, a)
}

// putAssortmentItem adds a SKU to an event or replaces its stock and price.
// A brand token may do so only for its own SKUs.
func (s *Server) putAssortmentItem(w http.ResponseWriter, r *http.Request) {
	eventID, skuID, err := assortmentPath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in assortmentInput
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.Stock == nil {
		s.writeError(w, r, popkit.InvalidField("stock", "is required"))
		return
	}
	if err := s.checkSKUWrite(r.Context(), skuID); err != nil {
		s.writeError(w, r, err)
		return
	}
	a := &popkit.AssortmentItem{EventID: eventID, SKUID: skuID, Stock: *in.Stock, PriceMinor: in.PriceMinor}
	if err := s.Assortment.SetAssortmentItem(r.Context(), a); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.getAssortmentItem(w, r)
}

// checkSKUWrite holds brand tokens to their own SKUs.
func (s *Server) checkSKUWrite(ctx context.Context, skuID string) error {
	t := tokenOf(ctx)
	if t.Role != popkit.RoleBrand {
		return nil
	}
	sku, err := s.SKUs.FindSKUByID(ctx, skuID)
	if err != nil {
		return err
	}
	return writeBrand(t, sku.BrandID)
}

// adjustStock adds a delta to an item's stock.
func (s *Server) adjustStock(w http.ResponseWriter, r *http.Request) {
	eventID, skuID, err := assortmentPath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in adjustmentInput
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.Delta == nil {
		s.writeError(w, r, popkit.InvalidField("delta", "is required"))
		return
	}
	if err := s.checkSKUWrite(r.Context(), skuID); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.Assortment.AdjustStock(r.Context(), eventID, skuID, *in.Delta)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, a)
}

func (s *Server) deleteAssortmentItem(w http.ResponseWriter, r *http.Request) {
	eventID, skuID, err := assortmentPath(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Assortment.RemoveAssortmentItem(r.Context(), eventID, skuID); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
