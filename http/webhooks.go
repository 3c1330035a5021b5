package http

import (
	"context"
	"net/http"

	"github.com/popkit/popkit"
)

// Webhooks to partner nodes: an admin sets a node's endpoint and gets its
// signing secret once; admins and the node's own fulfiller read the
// endpoint (never the secret) and the delivery log. A fulfiller token
// naming another node gets 404 for the endpoint and 403 for a list filter.

const webhookNote = "Fulfiller tokens may read only their own node's endpoint (another node's is 404)."
const deliveryNote = "Fulfiller tokens see only their own node's deliveries; a node_id filter naming another node is 403."

var rolesNodeRead = []popkit.Role{popkit.RoleAdmin, popkit.RoleFulfiller}

// webhookRoutes are the partner-webhook routes.
var webhookRoutes = []route{
	{method: "PUT", path: "/api/v1/nodes/{id}/webhook", roles: rolesAdmin, handler: plain((*Server).putWebhook),
		doc: opDoc{id: "putNodeWebhook", summary: "Set or replace a node's partner endpoint (http or https) with a new signing secret, shown only in this answer; webhooks are signed as Standard Webhooks do (webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>).", in: "WebhookEndpointInput", out: "WebhookEndpointCreated", status: 200}},
	{method: "GET", path: "/api/v1/nodes/{id}/webhook", roles: rolesNodeRead, handler: plain((*Server).getWebhook),
		doc: opDoc{id: "getNodeWebhook", summary: "Read a node's partner endpoint, without its secret.", note: webhookNote, out: "WebhookEndpoint", status: 200}},
	{method: "GET", path: "/api/v1/webhook-deliveries", roles: rolesNodeRead, handler: (*Server).listWebhookDeliveries,
		doc: opDoc{id: "listWebhookDeliveries", summary: "List webhook deliveries to partner nodes, oldest first, with their attempts and outcome.", note: deliveryNote, query: append([]string{"webhook_node_id", "webhook_status"}, page...), out: "WebhookDelivery", list: true, status: 200}},
}

// webhookInput is the body of PUT /api/v1/nodes/{id}/webhook.
type webhookInput struct {
	URL string `json:"url"`
}

// useNode lets a fulfiller token touch only its own node, as if another
// did not exist.
func useNode(t *popkit.Token, nodeID, what string) error {
	if t.Role == popkit.RoleFulfiller && nodeID != t.NodeID {
		return popkit.Errorf(popkit.ENOTFOUND, "%s not found", what)
	}
	return nil
}

func (s *Server) putWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "node")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in webhookInput
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := popkit.ValidateWebhookURL(in.URL); err != nil {
		s.writeError(w, r, err)
		return
	}
	e := &popkit.WebhookEndpoint{NodeID: id, URL: in.URL}
	if err := s.Webhooks.SetWebhookEndpoint(r.Context(), e); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, e)
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "webhook endpoint")
	if err == nil {
		err = useNode(token(r), id, "webhook endpoint")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	e, err := s.Webhooks.FindWebhookEndpoint(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	e.Secret = ""
	writeJSON(w, r, http.StatusOK, e)
}

func (s *Server) listWebhookDeliveries() http.HandlerFunc {
	return handleList(s, func(q *query, t *popkit.Token) (popkit.WebhookDeliveryFilter, error) {
		node := q.id("node_id")
		status := q.str("status", func(v string) bool { return popkit.WebhookStatus(v).Valid() }, "must be one of pending, delivered, failed")
		if t.Role == popkit.RoleFulfiller {
			if node != "" && node != t.NodeID {
				return popkit.WebhookDeliveryFilter{}, forbidden("a fulfiller token may see only its own node's deliveries")
			}
			node = t.NodeID
		}
		return popkit.WebhookDeliveryFilter{NodeID: node, Status: popkit.WebhookStatus(status), Page: q.page()}, nil
	}, func(ctx context.Context, f popkit.WebhookDeliveryFilter) ([]*popkit.WebhookDelivery, string, error) {
		return s.Webhooks.FindWebhookDeliveries(ctx, f)
	})
}
