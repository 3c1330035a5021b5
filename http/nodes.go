package http

import (
	"context"
	"net/http"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/fulfil"
)

// Nodes are created and changed by admin tokens. Fulfiller tokens see only
// their own node: another node is 404, as if it did not exist, and they
// may set their own node's stock. Curators read nodes.

const (
	fulfillerNode   = "Fulfiller tokens see and act only on their own node; another node is 404."
	fulfillerOrders = "Fulfiller tokens see and act only on their own node's objects (another node's is 404); a node_id filter naming another node is 403. Brand tokens do not see fulfilment (an order may mix brands)."
)

var (
	rolesNodeView  = []popkit.Role{popkit.RoleAdmin, popkit.RoleCurator, popkit.RoleFulfiller}
	rolesFulfiller = []popkit.Role{popkit.RoleAdmin, popkit.RoleFulfiller}
)

// nodeInput is the body of POST /api/v1/nodes: a node without stock
// (PUT /api/v1/nodes/{id}/stock sets that).
type nodeInput struct {
	ID                 string           `json:"id"`
	Name               string           `json:"name"`
	Kind               fulfil.Kind      `json:"kind"`
	Lat                float64          `json:"lat"`
	Lon                float64          `json:"lon"`
	ServiceRadiusKm    float64          `json:"service_radius_km"`
	TimeZone           string           `json:"time_zone"`
	OpeningHours       []fulfil.Opening `json:"opening_hours"`
	SameDayCutoff      fulfil.Clock     `json:"same_day_cutoff"`
	CapacityPerHour    int              `json:"capacity_per_hour"`
	CapacityPerDay     int              `json:"capacity_per_day"`
	ColdChain          bool             `json:"cold_chain"`
	Makes              []string         `json:"makes"`
	CostPerOrderMinor  int64            `json:"cost_per_order_minor"`
	CostPerBundleMinor int64            `json:"cost_per_bundle_minor"`
	External           bool             `json:"external"`
}

// node returns the node the input describes.
func (in *nodeInput) node() *fulfil.NodeRecord {
	return &fulfil.NodeRecord{Node: fulfil.Node{ID: in.ID, Name: in.Name, Kind: in.Kind, Lat: in.Lat, Lon: in.Lon, ServiceRadiusKm: in.ServiceRadiusKm,
		TimeZone: in.TimeZone, OpeningHours: in.OpeningHours, SameDayCutoff: in.SameDayCutoff, CapacityPerHour: in.CapacityPerHour,
		CapacityPerDay: in.CapacityPerDay, ColdChain: in.ColdChain, Makes: in.Makes, CostPerOrderMinor: in.CostPerOrderMinor,
		CostPerBundleMinor: in.CostPerBundleMinor, External: in.External}}
}

// nodePatch is the body of PATCH /api/v1/nodes/{id}: absent fields keep
// their value.
type nodePatch struct {
	Name               *string          `json:"name"`
	Kind               *fulfil.Kind     `json:"kind"`
	Lat                *float64         `json:"lat"`
	Lon                *float64         `json:"lon"`
	ServiceRadiusKm    *float64         `json:"service_radius_km"`
	TimeZone           *string          `json:"time_zone"`
	OpeningHours       []fulfil.Opening `json:"opening_hours"`
	SameDayCutoff      *fulfil.Clock    `json:"same_day_cutoff"`
	CapacityPerHour    *int             `json:"capacity_per_hour"`
	CapacityPerDay     *int             `json:"capacity_per_day"`
	ColdChain          *bool            `json:"cold_chain"`
	Makes              []string         `json:"makes"`
	CostPerOrderMinor  *int64           `json:"cost_per_order_minor"`
	CostPerBundleMinor *int64           `json:"cost_per_bundle_minor"`
	External           *bool            `json:"external"`
}

// apply sets the patch's fields on n.
func (p *nodePatch) apply(n *fulfil.NodeRecord) {
	if p.Name != nil {
		n.Name = *p.Name
	}
	if p.Kind != nil {
		n.Kind = *p.Kind
	}
	if p.Lat != nil {
		n.Lat = *p.Lat
	}
	if p.Lon != nil {
		n.Lon = *p.Lon
	}
	if p.ServiceRadiusKm != nil {
		n.ServiceRadiusKm = *p.ServiceRadiusKm
	}
	if p.TimeZone != nil {
		n.TimeZone = *p.TimeZone
	}
	if p.OpeningHours != nil {
		n.OpeningHours = p.OpeningHours
	}
	if p.SameDayCutoff != nil {
		n.SameDayCutoff = *p.SameDayCutoff
	}
	if p.CapacityPerHour != nil {
		n.CapacityPerHour = *p.CapacityPerHour
	}
	if p.CapacityPerDay != nil {
		n.CapacityPerDay = *p.CapacityPerDay
	}
	if p.ColdChain != nil {
		n.ColdChain = *p.ColdChain
	}
	if p.Makes != nil {
		n.Makes = p.Makes
	}
	if p.CostPerOrderMinor != nil {
		n.CostPerOrderMinor = *p.CostPerOrderMinor
	}
	if p.CostPerBundleMinor != nil {
		n.CostPerBundleMinor = *p.CostPerBundleMinor
	}
	if p.External != nil {
		n.External = *p.External
	}
}

// decodeNode decodes and validates the body of POST /api/v1/nodes.
func decodeNode(body []byte) (*fulfil.NodeRecord, error) {
	var in nodeInput
	if err := decodeBytes(body, &in); err != nil {
		return nil, err
	}
	n := in.node()
	if n.ID == "" {
		n.ID = popkit.NewID()
	}
	return n, n.Validate()
}

// stockInput is the body of PUT /api/v1/nodes/{id}/stock.
type stockInput struct {
	Lines []stockLineInput `json:"lines"`
}

type stockLineInput struct {
	SKUID  string `json:"sku_id"`
	OnHand int    `json:"on_hand"`
}

// nodeStock is the answer of the stock routes.
type nodeStock struct {
	NodeID string             `json:"node_id"`
	Lines  []fulfil.StockLine `json:"lines"`
}

// ownNode holds fulfiller tokens to their own node: another is 404.
func ownNode(t *popkit.Token, nodeID, what string) error {
	if t.Role == popkit.RoleFulfiller && nodeID != t.NodeID {
		return popkit.Errorf(popkit.ENOTFOUND, "%s not found", what)
	}
	return nil
}

// nodeFilter returns the node_id filter for a token: a fulfiller is held
// to its node, and naming another is 403.
func nodeFilter(t *popkit.Token, requested string) (string, error) {
	if t.Role != popkit.RoleFulfiller {
		return requested, nil
	}
	if requested != "" && requested != t.NodeID {
		return "", forbidden("a fulfiller token may list only its own node's objects")
	}
	return t.NodeID, nil
}

func (s *Server) createNode(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := decodeNode(body)
	if err == nil {
		err = s.Fulfilment.CreateNode(r.Context(), n)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/nodes/"+n.ID)
	writeJSON(w, r, http.StatusCreated, n)
}

func (s *Server) findNode(r *http.Request) (*fulfil.NodeRecord, error) {
	return load(r, "id", "node", s.Fulfilment.FindNodeByID, func(t *popkit.Token, n *fulfil.NodeRecord) error {
		return ownNode(t, n.ID, "node")
	})
}

func (s *Server) getNode(w http.ResponseWriter, r *http.Request) {
	n, err := s.findNode(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, n)
}

func (s *Server) listNodes() http.HandlerFunc {
	return handleList(s, func(q *query, t *popkit.Token) (fulfil.NodeFilter, error) {
		return fulfil.NodeFilter{Page: q.page()}, nil
	}, func(ctx context.Context, f fulfil.NodeFilter) ([]*fulfil.NodeRecord, string, error) {
		t := tokenOf(ctx)
		if t.Role != popkit.RoleFulfiller {
			return s.Fulfilment.FindNodes(ctx, f)
		}
		// A fulfiller's list is its own node.
		n, err := s.Fulfilment.FindNodeByID(ctx, t.NodeID)
		if popkit.ErrorCode(err) == popkit.ENOTFOUND || f.After != "" {
			return nil, "", nil
		} else if err != nil {
			return nil, "", err
		}
		return []*fulfil.NodeRecord{n}, "", nil
	})
}

func (s *Server) patchNode(w http.ResponseWriter, r *http.Request) {
	n, err := s.findNode(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var p nodePatch
	if err := decode(r, &p); err != nil {
		s.writeError(w, r, err)
		return
	}
	p.apply(n)
	if err := s.Fulfilment.UpdateNode(r.Context(), n); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, n)
}

func (s *Server) putNodeStock(w http.ResponseWriter, r *http.Request) {
	n, err := s.findNode(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in stockInput
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	lines := make([]fulfil.StockLine, len(in.Lines))
	for i, l := range in.Lines {
		lines[i] = fulfil.StockLine{SKUID: l.SKUID, OnHand: l.OnHand}
	}
	out, err := s.Fulfilment.SetNodeStock(r.Context(), n.ID, lines)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, nodeStock{NodeID: n.ID, Lines: out})
}

func (s *Server) getNodeStock(w http.ResponseWriter, r *http.Request) {
	n, err := s.findNode(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.Fulfilment.NodeStock(r.Context(), n.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, nodeStock{NodeID: n.ID, Lines: out})
}
