package popkit

import "context"

// TillItem is one SKU of an event's assortment as a till shows it: its
// name, its price at the event in the event's currency, and its stock.
type TillItem struct {
	SKUID string `json:"sku_id"`
	Name  string `json:"name"`
	// PriceMinor is the item's override, else the SKU's price in the
	// event's currency; nil when the SKU has no price in that currency
	// (the till must not sell it: an order for it is refused).
	PriceMinor *int64 `json:"price_minor"`
	Stock      int    `json:"stock"`
	Reserved   int    `json:"reserved"`
	Perishable bool   `json:"perishable"`
}

// TillAssortment is an event's whole assortment with names and prices, in
// one answer, and the currency every price of it is in.
type TillAssortment struct {
	EventID  string     `json:"event_id"`
	Currency string     `json:"currency"` // ISO 4217, the event's city's
	Items    []TillItem `json:"items"`    // by sku_id
}

// MaxTillItems bounds the assortment one till answer carries.
const MaxTillItems = 20000

// TillService answers an edge agent's till.
type TillService interface {
	// FindTillAssortment returns an event's whole assortment with each
	// SKU's name and price in the event's currency, ordered by SKU id.
	// Returns ENOTFOUND when the event does not exist, and ECONFLICT when
	// the assortment has more than MaxTillItems SKUs.
	FindTillAssortment(ctx context.Context, eventID string) (*TillAssortment, error)
}
