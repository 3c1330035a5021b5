package fulfil

import (
	"context"
	"time"

	"github.com/popkit/popkit"
)

// The records below are what the store keeps and the API serves. They live
// here rather than in package popkit because they use this package's types
// (Node, State, BundleState) and popkit cannot import fulfil.

// NodeRecord is a stored node: the node (without Stock, which node_stock
// holds) and its times.
type NodeRecord struct {
	Node
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// StockLine is a node's stock of one SKU. Reserved units are held by open
// fulfilment orders; Available = OnHand − Reserved.
type StockLine struct {
	SKUID     string `json:"sku_id"`
	OnHand    int    `json:"on_hand"`
	Reserved  int    `json:"reserved"`
	Available int    `json:"available"`
}

// OrderLine is one line of a fulfilment order; Made lines are produced by
// the node instead of taken from its stock (and reserve no stock).
type OrderLine struct {
	SKUID    string `json:"sku_id"`
	Quantity int    `json:"quantity"`
	Made     bool   `json:"made"`
}

// FulfilmentOrder is the part of an order one node makes.
type FulfilmentOrder struct {
	ID             string      `json:"id"`
	OrderID        string      `json:"order_id"`
	NodeID         string      `json:"node_id"`
	Status         State       `json:"status"`
	HeldFrom       State       `json:"held_from,omitempty"`
	Perishable     bool        `json:"perishable"`
	Units          int         `json:"units"`
	WeightGrams    int64       `json:"weight_grams"`
	Lines          []OrderLine `json:"lines"`
	BundleID       string      `json:"bundle_id,omitempty"`
	CostShareMinor int64       `json:"cost_share_minor"`
	FailureReason  string      `json:"failure_reason,omitempty"`
	CreatedAt      time.Time   `json:"created_at"`
	UpdatedAt      time.Time   `json:"updated_at"`
	// Transitions is the history, oldest first; only reads by id fill it.
	Transitions []Step `json:"transitions,omitempty"`
}

// BundleMember is one fulfilment order's part of a bundle for one brand.
type BundleMember struct {
	OrderID           string `json:"order_id"`
	FulfilmentOrderID string `json:"fulfilment_order_id"`
	BrandID           string `json:"brand_id"`
	Units             int64  `json:"units"`
	WeightGrams       int64  `json:"weight_grams"`
	ShareMinor        int64  `json:"share_minor"`
}

// BundleRecord is a stored bundle.
type BundleRecord struct {
	ID         string         `json:"id"`
	NodeID     string         `json:"node_id"`
	WaveCutoff time.Time      `json:"wave_cutoff"`
	Status     BundleState    `json:"status"`
	Basis      SplitBasis     `json:"basis"`
	CostMinor  int64          `json:"cost_minor"`
	Members    []BundleMember `json:"members"`
	LockedAt   *time.Time     `json:"locked_at,omitempty"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
}

// NodeFilter selects nodes.
type NodeFilter struct {
	popkit.Page
}

// OrderFilter selects fulfilment orders; empty fields match any.
type OrderFilter struct {
	NodeID  string
	Status  State
	OrderID string
	popkit.Page
}

// BundleFilter selects bundles; empty fields match any.
type BundleFilter struct {
	NodeID string
	Status BundleState
	popkit.Page
}

// Service stores nodes, their stock, fulfilment orders and bundles.
// Fulfilment orders are made by popkit.OrderService.CreateOrder.
type Service interface {
	// CreateNode validates and stores a node (Stock is ignored). Returns
	// EINVALID, ECONFLICT when the id is taken.
	CreateNode(ctx context.Context, n *NodeRecord) error
	// FindNodeByID returns a node. Returns ENOTFOUND.
	FindNodeByID(ctx context.Context, id string) (*NodeRecord, error)
	// FindNodes returns a page of nodes in id order and the next cursor.
	FindNodes(ctx context.Context, f NodeFilter) ([]*NodeRecord, string, error)
	// UpdateNode replaces a node's fields. Returns ENOTFOUND, EINVALID.
	UpdateNode(ctx context.Context, n *NodeRecord) error
	// SetNodeStock sets the on-hand quantity of SKUs at a node and returns
	// the node's whole stock. Returns ENOTFOUND for the node,
	// EUNPROCESSABLE for an unknown SKU, ECONFLICT when on hand would fall
	// below what is reserved.
	SetNodeStock(ctx context.Context, nodeID string, lines []StockLine) ([]StockLine, error)
	// NodeStock returns a node's stock in SKU id order. Returns ENOTFOUND.
	NodeStock(ctx context.Context, nodeID string) ([]StockLine, error)

	// FindFulfilmentOrderByID returns a fulfilment order with its history.
	FindFulfilmentOrderByID(ctx context.Context, id string) (*FulfilmentOrder, error)
	// FindFulfilmentOrders returns a page of fulfilment orders in id order.
	FindFulfilmentOrders(ctx context.Context, f OrderFilter) ([]*FulfilmentOrder, string, error)
	// TransitionFulfilmentOrder moves a fulfilment order to another state
	// by Transition's rules, moving node stock and bundle membership.
	// Returns ENOTFOUND, EINVALID, ECONFLICT for an illegal move.
	TransitionFulfilmentOrder(ctx context.Context, id string, to State, actor, reason string) (*FulfilmentOrder, error)

	// FindBundleByID returns a bundle with its members. Returns ENOTFOUND.
	FindBundleByID(ctx context.Context, id string) (*BundleRecord, error)
	// FindBundles returns a page of bundles in id order.
	FindBundles(ctx context.Context, f BundleFilter) ([]*BundleRecord, string, error)
	// TransitionBundle advances a bundle (locked → kitting → dispatched →
	// delivered; forming → locked is LockBundle's). Returns ENOTFOUND,
	// ECONFLICT.
	TransitionBundle(ctx context.Context, id string, to BundleState, actor string) (*BundleRecord, error)
	// LockBundle locks a forming bundle and splits its cost; a no-op when
	// the bundle is already locked or later. Returns ENOTFOUND.
	LockBundle(ctx context.Context, bundleID string) error
	// RerouteOrder routes the open, unaccepted fulfilment orders of an
	// order again, excluding their nodes. Returns ENOTFOUND.
	RerouteOrder(ctx context.Context, orderID, reason string) error
}
