package http

import (
	"slices"

	"github.com/popkit/popkit"
)

// Authorization happens in two steps, both in this file:
//
//  1. Each route in the route table names the roles that may call it
//     (allowed). Any other role gets 403 before the handler runs.
//  2. Scoped roles are then held to their scope by the functions below,
//     which the handlers call with the object or filter at hand:
//     - brand tokens read only their own brand's SKUs and assortment items
//     (another brand's object is 404, as if it did not exist), and writing
//     for another brand is 403;
//     - device tokens touch only their own event: another event, or a device
//     of another event, is 403;
//     - a list filter that names another brand or event is 403; an absent
//     filter is set to the token's own scope.

// Role sets used by the route table.
var (
	rolesAny         = popkit.Roles
	rolesAdmin       = []popkit.Role{popkit.RoleAdmin}
	rolesCatalogRead = []popkit.Role{popkit.RoleAdmin, popkit.RoleCurator, popkit.RoleFulfiller, popkit.RoleBrand}
	rolesSKURead     = []popkit.Role{popkit.RoleAdmin, popkit.RoleCurator, popkit.RoleFulfiller, popkit.RoleBrand, popkit.RoleDevice}
	rolesEventRead   = []popkit.Role{popkit.RoleAdmin, popkit.RoleCurator, popkit.RoleFulfiller, popkit.RoleBrand, popkit.RoleDevice}
	rolesBrandWrite  = []popkit.Role{popkit.RoleAdmin, popkit.RoleBrand}
	rolesDevice      = []popkit.Role{popkit.RoleAdmin, popkit.RoleDevice}
	rolesDeviceOnly  = []popkit.Role{popkit.RoleDevice}
	rolesTelemetry   = []popkit.Role{popkit.RoleAdmin, popkit.RoleCurator, popkit.RoleBrand, popkit.RoleDevice}
)

// allowed reports whether token t has one of roles.
func allowed(roles []popkit.Role, t *popkit.Token) bool {
	return t != nil && slices.Contains(roles, t.Role)
}

func forbidden(format string, args ...any) error {
	return popkit.Errorf(popkit.EFORBIDDEN, format, args...)
}

// readBrand lets a brand token see only objects of its own brand; what names
// the object for the not-found message.
func readBrand(t *popkit.Token, brandID, what string) error {
	if t.Role == popkit.RoleBrand && brandID != t.BrandID {
		return popkit.Errorf(popkit.ENOTFOUND, "%s not found", what)
	}
	return nil
}

// writeBrand lets a brand token write only for its own brand.
func writeBrand(t *popkit.Token, brandID string) error {
	if t.Role == popkit.RoleBrand && brandID != t.BrandID {
		return forbidden("a brand token may change only its own brand's SKUs")
	}
	return nil
}

// useEvent lets a device token touch only its own event.
func useEvent(t *popkit.Token, eventID string) error {
	if t.Role == popkit.RoleDevice && eventID != t.EventID {
		return forbidden("a device token may use only its own event")
	}
	return nil
}

// scopeFilter returns the value of a list filter for a token: scoped tokens
// (brand for brand_id, device for event_id) are held to their own scope,
// and naming another is 403. Other roles keep what they asked for.
func scopeFilter(t *popkit.Token, param, requested string) (string, error) {
	own, scoped := "", false
	switch {
	case param == "brand_id" && t.Role == popkit.RoleBrand:
		own, scoped = t.BrandID, true
	case param == "event_id" && t.Role == popkit.RoleDevice:
		own, scoped = t.EventID, true
	}
	if !scoped {
		return requested, nil
	}
	if requested != "" && requested != own {
		return "", forbidden("a %s token may list only its own %s", t.Role, param)
	}
	return own, nil
}
