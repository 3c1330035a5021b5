package http

import (
	"context"
	"net/http"
	"slices"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
)

// Fulfilment: nodes (nodes.go), fulfilment orders and bundles. Admin tokens
// see and move everything; a fulfiller token (an internal node's staff or
// an external partner) sees and moves only its own node's fulfilment
// orders and bundles, and another node's is 404. Every move is stored with
// the actor role:token-id. Brand tokens see no fulfilment yet, as they see
// no orders (one order may mix brands).

var fulfilRoutes = []route{
	{method: "POST", path: "/api/v1/nodes", roles: rolesAdmin, idem: idemOptional, handler: plain((*Server).createNode),
		doc: opDoc{id: "createNode", summary: "Create a fulfilment node (kitting station or microfactory).", in: "NodeInput", out: "Node", status: 201, errs: []int{409}}},
	{method: "GET", path: "/api/v1/nodes", roles: rolesNodeView, handler: (*Server).listNodes,
		doc: opDoc{id: "listNodes", summary: "List fulfilment nodes.", note: "Fulfiller tokens see only their own node.", query: page, out: "Node", list: true, status: 200}},
	{method: "GET", path: "/api/v1/nodes/{id}", roles: rolesNodeView, handler: plain((*Server).getNode),
		doc: opDoc{id: "getNode", summary: "Read a fulfilment node.", note: fulfillerNode, out: "Node", status: 200}},
	{method: "PATCH", path: "/api/v1/nodes/{id}", roles: rolesAdmin, handler: plain((*Server).patchNode),
		doc: opDoc{id: "patchNode", summary: "Change a fulfilment node; absent fields keep their value.", in: "NodePatch", out: "Node", status: 200}},
	{method: "PUT", path: "/api/v1/nodes/{id}/stock", roles: rolesFulfiller, handler: plain((*Server).putNodeStock),
		doc: opDoc{id: "putNodeStock", summary: "Set the on-hand stock of SKUs at a node; 409 below what open fulfilment orders reserve.", note: fulfillerNode, in: "NodeStockInput", out: "NodeStock", status: 200, errs: []int{409, 422}}},
	{method: "GET", path: "/api/v1/nodes/{id}/stock", roles: rolesFulfiller, handler: plain((*Server).getNodeStock),
		doc: opDoc{id: "getNodeStock", summary: "Read a node's stock: on hand, reserved and available per SKU.", note: fulfillerNode, out: "NodeStock", status: 200}},

	{method: "GET", path: "/api/v1/fulfilment-orders", roles: rolesFulfiller, handler: (*Server).listFulfilmentOrders,
		doc: opDoc{id: "listFulfilmentOrders", summary: "List fulfilment orders.", note: fulfillerOrders, query: append([]string{"node_id", "fulfilment_status", "order_id"}, page...), out: "FulfilmentOrder", list: true, status: 200}},
	{method: "GET", path: "/api/v1/fulfilment-orders/{id}", roles: rolesFulfiller, handler: plain((*Server).getFulfilmentOrder),
		doc: opDoc{id: "getFulfilmentOrder", summary: "Read a fulfilment order with its transitions.", note: fulfillerOrders, out: "FulfilmentOrder", status: 200}},
	{method: "POST", path: "/api/v1/fulfilment-orders/{id}/transitions", roles: rolesFulfiller, idem: idemOptional, handler: (*Server).transitionFulfilmentOrder,
		doc: opDoc{id: "transitionFulfilmentOrder", summary: "Move a fulfilment order (open → accepted → kitting → ready → out_for_delivery → delivered, or ready → picked_up; on_hold and back; cancelled before dispatch; failed after it, with a reason); 409 when illegal.", note: fulfillerOrders, in: "FulfilmentTransitionInput", out: "FulfilmentOrder", status: 200, errs: []int{409}}},

	{method: "GET", path: "/api/v1/bundles", roles: rolesFulfiller, handler: (*Server).listBundles,
		doc: opDoc{id: "listBundles", summary: "List shared bundles.", note: fulfillerOrders, query: append([]string{"node_id", "bundle_status"}, page...), out: "Bundle", list: true, status: 200}},
	{method: "GET", path: "/api/v1/bundles/{id}", roles: rolesFulfiller, handler: plain((*Server).getBundle),
		doc: opDoc{id: "getBundle", summary: "Read a bundle with its members and cost shares (current shares while it forms).", note: fulfillerOrders, out: "Bundle", status: 200}},
	{method: "POST", path: "/api/v1/bundles/{id}/transitions", roles: rolesFulfiller, idem: idemOptional, handler: (*Server).transitionBundle,
		doc: opDoc{id: "transitionBundle", summary: "Advance a bundle (forming → locked at the cutoff → kitting → dispatched → delivered), moving its members' fulfilment orders with it: kitting starts the open and accepted ones, dispatched sends the ready deliveries out (pick-ups stay ready), delivered delivers those out for delivery. 409 when illegal, or on dispatch while a member is not ready (or on hold).", note: fulfillerOrders, in: "BundleTransitionInput", out: "Bundle", status: 200, errs: []int{409}}},
}

// foTransitionInput is the body of POST /api/v1/fulfilment-orders/{id}/transitions.
type foTransitionInput struct {
	To     fulfil.State `json:"to"`
	Reason string       `json:"reason"`
}

// maxFOReason bounds a transition's reason.
const maxFOReason = 1000

// decodeFOTransition decodes and checks a fulfilment order transition.
func decodeFOTransition(body []byte) (*foTransitionInput, error) {
	var in foTransitionInput
	if err := decodeBytes(body, &in); err != nil {
		return nil, err
	}
	var v popkit.Validation
	v.Check(in.To.Valid(), "to", "must be one of open, accepted, kitting, ready, out_for_delivery, delivered, picked_up, on_hold, cancelled, failed")
	v.Check(len(in.Reason) <= maxFOReason, "reason", "must be at most %d characters", maxFOReason)
	v.Check(in.To != fulfil.StateFailed || in.Reason != "", "reason", "is required when an order fails")
	return &in, v.Err()
}

// bundleTransitionInput is the body of POST /api/v1/bundles/{id}/transitions.
type bundleTransitionInput struct {
	To fulfil.BundleState `json:"to"`
}

// decodeBundleTransition decodes and checks a bundle transition.
func decodeBundleTransition(body []byte) (*bundleTransitionInput, error) {
	var in bundleTransitionInput
	if err := decodeBytes(body, &in); err != nil {
		return nil, err
	}
	if !slices.Contains(fulfil.BundleStates, in.To) {
		return nil, popkit.InvalidField("to", "must be one of forming, locked, kitting, dispatched, delivered")
	}
	return &in, nil
}

func (s *Server) findFulfilmentOrder(r *http.Request) (*fulfil.FulfilmentOrder, error) {
	return load(r, "id", "fulfilment order", s.Fulfilment.FindFulfilmentOrderByID, func(t *popkit.Token, fo *fulfil.FulfilmentOrder) error {
		return ownNode(t, fo.NodeID, "fulfilment order")
	})
}

func (s *Server) getFulfilmentOrder(w http.ResponseWriter, r *http.Request) {
	fo, err := s.findFulfilmentOrder(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, fo)
}

func (s *Server) listFulfilmentOrders() http.HandlerFunc {
	return handleList(s, func(q *query, t *popkit.Token) (fulfil.OrderFilter, error) {
		status := q.str("status", func(v string) bool { return fulfil.State(v).Valid() }, "must be a fulfilment order status")
		order := q.id("order_id")
		node, err := nodeFilter(t, q.id("node_id"))
		return fulfil.OrderFilter{NodeID: node, Status: fulfil.State(status), OrderID: order, Page: q.page()}, err
	}, func(ctx context.Context, f fulfil.OrderFilter) ([]*fulfil.FulfilmentOrder, string, error) {
		return s.Fulfilment.FindFulfilmentOrders(ctx, f)
	})
}

func (s *Server) transitionFulfilmentOrder() http.HandlerFunc {
	return handleAction(s, s.findFulfilmentOrder, decodeFOTransition, func(r *http.Request, t *popkit.Token, in *foTransitionInput) (*fulfil.FulfilmentOrder, error) {
		return s.Fulfilment.TransitionFulfilmentOrder(r.Context(), r.PathValue("id"), in.To, actorOf(t), in.Reason)
	})
}

func (s *Server) findBundle(r *http.Request) (*fulfil.BundleRecord, error) {
	return load(r, "id", "bundle", s.Fulfilment.FindBundleByID, func(t *popkit.Token, b *fulfil.BundleRecord) error {
		return ownNode(t, b.NodeID, "bundle")
	})
}

func (s *Server) getBundle(w http.ResponseWriter, r *http.Request) {
	b, err := s.findBundle(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, b)
}

func (s *Server) listBundles() http.HandlerFunc {
	return handleList(s, func(q *query, t *popkit.Token) (fulfil.BundleFilter, error) {
		status := q.str("status", func(v string) bool { return slices.Contains(fulfil.BundleStates, fulfil.BundleState(v)) }, "must be a bundle status")
		node, err := nodeFilter(t, q.id("node_id"))
		return fulfil.BundleFilter{NodeID: node, Status: fulfil.BundleState(status), Page: q.page()}, err
	}, func(ctx context.Context, f fulfil.BundleFilter) ([]*fulfil.BundleRecord, string, error) {
		return s.Fulfilment.FindBundles(ctx, f)
	})
}

func (s *Server) transitionBundle() http.HandlerFunc {
	return handleAction(s, s.findBundle, decodeBundleTransition, func(r *http.Request, t *popkit.Token, in *bundleTransitionInput) (*fulfil.BundleRecord, error) {
		return s.Fulfilment.TransitionBundle(r.Context(), r.PathValue("id"), in.To, actorOf(t))
	})
}
