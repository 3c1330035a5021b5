package http

import (
	"net/http"

	"github.com/popkit/popkit"
)

const (
	coldNote      = "Fulfiller tokens see only their own node: another node is 404."
	excursionNote = "Fulfiller tokens see and resolve only their own node's excursions (another's is 404); a node_id filter naming another node is 403."
)

// coldChainRoutes are the cold-chain routes: sensor bindings per node and
// the excursions detected from their temperature rollups.
var coldChainRoutes = []route{
	{method: "POST", path: "/api/v1/nodes/{id}/sensors", roles: rolesAdmin, idem: idemOptional, handler: plain((*Server).bindSensor),
		doc: opDoc{id: "bindSensor", summary: "Bind an edge device's temperature sensor to the node (or a cold box there); limit_c defaults to 8 °C and min_minutes to 10.", in: "SensorBindingInput", out: "SensorBinding", status: 201, errs: []int{409, 422}}},
	{method: "GET", path: "/api/v1/nodes/{id}/sensors", roles: rolesFulfiller, handler: plain((*Server).listSensors),
		doc: opDoc{id: "listSensorBindings", summary: "List the node's sensor bindings.", note: coldNote, out: "SensorBinding", list: true, status: 200}},
	{method: "DELETE", path: "/api/v1/nodes/{id}/sensors/{binding}", roles: rolesAdmin, handler: plain((*Server).unbindSensor),
		doc: opDoc{id: "unbindSensor", summary: "Remove a sensor binding; its excursions stay.", status: 204}},
	{method: "GET", path: "/api/v1/excursions", roles: rolesFulfiller, handler: (*Server).listExcursions,
		doc: opDoc{id: "listExcursions", summary: "List cold-chain excursions.", note: excursionNote, query: append([]string{"node_id", "excursion_status"}, page...), out: "Excursion", list: true, status: 200}},
	{method: "GET", path: "/api/v1/excursions/{id}", roles: rolesFulfiller, handler: plain((*Server).getExcursion),
		doc: opDoc{id: "getExcursion", summary: "Read a cold-chain excursion.", note: excursionNote, out: "Excursion", status: 200}},
	{method: "POST", path: "/api/v1/excursions/{id}/resolution", roles: rolesFulfiller, idem: idemOptional, handler: (*Server).resolveExcursion,
		doc: opDoc{id: "resolveExcursion", summary: "Release the held orders (once the excursion has ended) or discard the node's perishable stock (cancelling and rerouting the held orders); 409 when already resolved, or for a release while the temperature is still above the limit.", note: excursionNote, in: "ResolutionInput", out: "Excursion", status: 200, errs: []int{409}}},
}

// sensorBindingInput is the body of POST /api/v1/nodes/{id}/sensors.
type sensorBindingInput struct {
	DeviceID   string   `json:"device_id"`
	Sensor     string   `json:"sensor"`
	ColdBox    string   `json:"cold_box"`
	LimitC     *float64 `json:"limit_c"`
	MinMinutes *int     `json:"min_minutes"`
}

// decodeSensorBinding decodes and checks a binding for node nodeID,
// filling in the defaults.
func decodeSensorBinding(body []byte, nodeID string) (*popkit.SensorBinding, error) {
	var in sensorBindingInput
	if err := decodeBytes(body, &in); err != nil {
		return nil, err
	}
	b := &popkit.SensorBinding{NodeID: nodeID, DeviceID: in.DeviceID, Sensor: in.Sensor, ColdBox: in.ColdBox,
		LimitC: popkit.DefaultColdLimitC, MinMinutes: popkit.DefaultExcursionMinutes}
	if in.LimitC != nil {
		b.LimitC = *in.LimitC
	}
	if in.MinMinutes != nil {
		b.MinMinutes = *in.MinMinutes
	}
	return b, b.Validate()
}

// resolutionInput is the body of POST /api/v1/excursions/{id}/resolution.
type resolutionInput struct {
	Action popkit.ExcursionAction `json:"action"`
	Note   string                 `json:"note"`
}

// decodeResolution decodes and checks a resolution.
func decodeResolution(body []byte) (*popkit.Resolution, error) {
	var in resolutionInput
	if err := decodeBytes(body, &in); err != nil {
		return nil, err
	}
	r := &popkit.Resolution{Action: in.Action, Note: in.Note}
	return r, r.Validate()
}

func (s *Server) bindSensor(w http.ResponseWriter, r *http.Request) {
	nodeID, err := pathID(r, "id", "node")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b, err := decodeSensorBinding(body, nodeID)
	if err == nil {
		err = s.ColdChain.CreateSensorBinding(r.Context(), b)
	}
	if popkit.ErrorCode(err) == popkit.EUNPROCESSABLE && hasField(err, "node_id") {
		err = popkit.Errorf(popkit.ENOTFOUND, "node not found") // the node is the path's
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/nodes/"+nodeID+"/sensors/"+b.ID)
	writeJSON(w, r, http.StatusCreated, b)
}

func hasField(err error, field string) bool {
	for _, f := range popkit.ErrorFields(err) {
		if f.Field == field {
			return true
		}
	}
	return false
}

func (s *Server) listSensors(w http.ResponseWriter, r *http.Request) {
	nodeID, err := pathID(r, "id", "node")
	if err == nil {
		err = ownNode(token(r), nodeID, "node")
	}
	var items []*popkit.SensorBinding
	if err == nil {
		items, err = s.ColdChain.FindSensorBindings(r.Context(), nodeID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, list[popkit.SensorBinding]{Items: items})
}

func (s *Server) unbindSensor(w http.ResponseWriter, r *http.Request) {
	nodeID, err := pathID(r, "id", "node")
	var id string
	if err == nil {
		id, err = pathID(r, "binding", "sensor binding")
	}
	if err == nil {
		err = s.ColdChain.DeleteSensorBinding(r.Context(), nodeID, id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func validExcursionStatus(v string) bool { return popkit.ExcursionStatus(v).Valid() }

func (s *Server) listExcursions() http.HandlerFunc {
	return handleList(s, func(q *query, t *popkit.Token) (popkit.ExcursionFilter, error) {
		status := q.str("status", validExcursionStatus, "must be active, ended or resolved")
		node, err := nodeFilter(t, q.id("node_id"))
		return popkit.ExcursionFilter{NodeID: node, Status: popkit.ExcursionStatus(status), Page: q.page()}, err
	}, s.ColdChain.FindExcursions)
}

func (s *Server) findExcursion(r *http.Request) (*popkit.Excursion, error) {
	return load(r, "id", "excursion", s.ColdChain.FindExcursionByID, func(t *popkit.Token, x *popkit.Excursion) error {
		return ownNode(t, x.NodeID, "excursion")
	})
}

func (s *Server) getExcursion(w http.ResponseWriter, r *http.Request) {
	x, err := s.findExcursion(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, x)
}

func (s *Server) resolveExcursion() http.HandlerFunc {
	return handleAction(s, s.findExcursion, decodeResolution, func(r *http.Request, t *popkit.Token, res *popkit.Resolution) (*popkit.Excursion, error) {
		res.Actor = actorOf(t)
		return s.ColdChain.ResolveExcursion(r.Context(), r.PathValue("id"), *res)
	})
}
