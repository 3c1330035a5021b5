package http

import (
	"net/http"

	"github.com/popkit/popkit"
)

// deviceInput is the body of POST /api/v1/devices.
type deviceInput struct {
	EventID string `json:"event_id"`
	Name    string `json:"name"`
}

func deviceVisible(t *popkit.Token, d *popkit.Device) error { return useEvent(t, d.EventID) }

func (s *Server) listDevices() http.HandlerFunc {
	return handleList(s, func(q *query, t *popkit.Token) (popkit.DeviceFilter, error) {
		event, err := scopeFilter(t, "event_id", q.id("event_id"))
		return popkit.DeviceFilter{EventID: event, Page: q.page()}, err
	}, s.Devices.FindDevices)
}

func (s *Server) getDevice() http.HandlerFunc {
	return handleGet(s, "device", s.Devices.FindDeviceByID, deviceVisible)
}

func (s *Server) createDevice() http.HandlerFunc {
	return handleCreate(s, "/api/v1/devices", func(_ *popkit.Token, in *deviceInput) (*popkit.Device, error) {
		return &popkit.Device{EventID: in.EventID, Name: in.Name}, nil
	}, s.Devices.CreateDevice, func(d *popkit.Device) string { return d.ID })
}

func (s *Server) patchDevice() http.HandlerFunc {
	return handlePatch(s, "device", s.Devices.FindDeviceByID, deviceVisible, s.Devices.UpdateDevice)
}

// tokenInput is the body of POST /api/v1/tokens.
type tokenInput struct {
	Name    string      `json:"name"`
	Role    popkit.Role `json:"role"`
	BrandID string      `json:"brand_id"`
	EventID string      `json:"event_id"`
	NodeID  string      `json:"node_id"`
}

// tokenCreated is the answer to POST /api/v1/tokens: the token and, this
// once, its secret.
type tokenCreated struct {
	*popkit.Token
	Secret string `json:"secret"`
}

func validRole(s string) bool { return popkit.Role(s).Valid() }

func (s *Server) listTokens() http.HandlerFunc {
	return handleList(s, func(q *query, _ *popkit.Token) (popkit.TokenFilter, error) {
		return popkit.TokenFilter{
			Role:           popkit.Role(q.str("role", validRole, "must be one of admin, curator, brand, fulfiller, device")),
			IncludeRevoked: q.bool("include_revoked"),
			Page:           q.page(),
		}, nil
	}, s.Tokens.FindTokens)
}

// createToken is not idempotent: replaying its answer would mean storing
// the secret, which is only ever stored hashed.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var in tokenInput
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	t := &popkit.Token{Name: in.Name, Role: in.Role, BrandID: in.BrandID, EventID: in.EventID, NodeID: in.NodeID}
	secret, err := s.Tokens.CreateToken(r.Context(), t)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, r, http.StatusCreated, tokenCreated{Token: t, Secret: secret})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "token")
	if err == nil {
		err = s.Tokens.RevokeToken(r.Context(), id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
