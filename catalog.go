package popkit

import (
	"context"
	"strings"
	"time"
)

// SKU is one product of one brand.
type SKU struct {
	ID            string    `json:"id"`
	BrandID       string    `json:"brand_id"`
	Code          string    `json:"code"` // the brand's own stock code, unique per brand
	Name          string    `json:"name"`
	PriceMinor    int64     `json:"price_minor"`     // list price incl. tax, minor unit
	UnitCostMinor int64     `json:"unit_cost_minor"` // cost of goods, minor unit
	Perishable    bool      `json:"perishable"`      // needs cold chain
	WeightGrams   int       `json:"weight_grams"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Validate checks a SKU before it is stored.
func (s *SKU) Validate() error {
	var v Validation
	v.Check(ValidID(s.BrandID), "brand_id", "must be a brand id")
	v.Check(strings.TrimSpace(s.Code) != "" && len(s.Code) <= 64, "code", "is required (at most 64 characters)")
	checkName(&v, "name", s.Name)
	v.Check(s.PriceMinor >= 0, "price_minor", "must not be negative")
	v.Check(s.UnitCostMinor >= 0, "unit_cost_minor", "must not be negative")
	v.Check(s.WeightGrams >= 0, "weight_grams", "must not be negative")
	return v.Err()
}

// SKUFilter selects SKUs. A brand token's calls always carry its BrandID.
type SKUFilter struct {
	BrandID string
	Page
}

// SKUUpdate holds the fields a SKU update may change. The brand of a SKU
// never changes.
type SKUUpdate struct {
	Code          *string `json:"code"`
	Name          *string `json:"name"`
	PriceMinor    *int64  `json:"price_minor"`
	UnitCostMinor *int64  `json:"unit_cost_minor"`
	Perishable    *bool   `json:"perishable"`
	WeightGrams   *int    `json:"weight_grams"`
}

// Apply copies the set fields of u onto s.
func (u SKUUpdate) Apply(s *SKU) {
	setString(&s.Code, u.Code)
	setString(&s.Name, u.Name)
	if u.PriceMinor != nil {
		s.PriceMinor = *u.PriceMinor
	}
	if u.UnitCostMinor != nil {
		s.UnitCostMinor = *u.UnitCostMinor
	}
	if u.Perishable != nil {
		s.Perishable = *u.Perishable
	}
	if u.WeightGrams != nil {
		s.WeightGrams = *u.WeightGrams
	}
}

// SKUService manages SKUs.
type SKUService interface {
	// FindSKUByID returns one SKU. Returns ENOTFOUND.
	FindSKUByID(ctx context.Context, id string) (*SKU, error)
	// FindSKUs returns a page of SKUs and the next cursor.
	FindSKUs(ctx context.Context, f SKUFilter) ([]*SKU, string, error)
	// CreateSKU stores a new SKU. Returns EINVALID; EUNPROCESSABLE when the
	// brand does not exist; ECONFLICT when the brand already has the code.
	CreateSKU(ctx context.Context, s *SKU) error
	// UpdateSKU changes a SKU. Returns ENOTFOUND, EINVALID, ECONFLICT.
	UpdateSKU(ctx context.Context, id string, u SKUUpdate) (*SKU, error)
}

// AssortmentItem is one SKU offered at one event, with its stock there.
type AssortmentItem struct {
	EventID string `json:"event_id"`
	SKUID   string `json:"sku_id"`
	BrandID string `json:"brand_id"` // derived from the SKU
	// PriceMinor overrides the SKU's list price at this event when set.
	PriceMinor *int64 `json:"price_minor,omitempty"`
	Stock      int    `json:"stock"` // on hand
	// Reserved is the part of Stock held by confirmed orders; available =
	// Stock − Reserved. Only orders change it.
	Reserved  int       `json:"reserved"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks an assortment item before it is stored.
func (a *AssortmentItem) Validate() error {
	var v Validation
	v.Check(ValidID(a.EventID), "event_id", "must be an event id")
	v.Check(ValidID(a.SKUID), "sku_id", "must be a SKU id")
	v.Check(a.Stock >= 0, "stock", "must not be below zero")
	v.Check(a.PriceMinor == nil || *a.PriceMinor >= 0, "price_minor", "must not be negative")
	return v.Err()
}

// AssortmentFilter selects items of one event's assortment.
type AssortmentFilter struct {
	EventID string
	BrandID string
	Page    // cursor over sku ids
}

// AssortmentService manages what each event sells and its stock.
type AssortmentService interface {
	// FindAssortment returns a page of an event's assortment and the next
	// cursor. Returns ENOTFOUND when the event does not exist.
	FindAssortment(ctx context.Context, f AssortmentFilter) ([]*AssortmentItem, string, error)
	// FindAssortmentItem returns one item. Returns ENOTFOUND.
	FindAssortmentItem(ctx context.Context, eventID, skuID string) (*AssortmentItem, error)
	// SetAssortmentItem adds a SKU to an event's assortment or replaces its
	// stock and price there. Returns EINVALID (also for a SKU whose brand
	// does not take part in the event, field sku_id), ENOTFOUND when the
	// event or SKU does not exist, ECONFLICT (field stock) when the stock
	// would be below what orders have reserved.
	SetAssortmentItem(ctx context.Context, a *AssortmentItem) error
	// AdjustStock adds delta (which may be negative) to the stock of an
	// item in one transaction and returns the item. Returns ENOTFOUND, and
	// ECONFLICT when the stock would go below zero or below what orders
	// have reserved.
	AdjustStock(ctx context.Context, eventID, skuID string, delta int) (*AssortmentItem, error)
	// RemoveAssortmentItem takes a SKU out of an event. Returns ENOTFOUND,
	// and ECONFLICT while orders hold a reservation of it.
	RemoveAssortmentItem(ctx context.Context, eventID, skuID string) error
}
