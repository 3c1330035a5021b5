package http

import (
	"net/http"
	"slices"

	"github.com/popkit/popkit"
)

// route is one entry of the route table, which both the mux and the
// OpenAPI document are built from.
type route struct {
	method  string
	path    string
	roles   []popkit.Role // roles that may call it; nil: no authentication
	idem    idemMode
	handler func(*Server) http.HandlerFunc
	doc     opDoc
}

// pattern is the route's ServeMux pattern.
func (rt route) pattern() string { return rt.method + " " + rt.path }

// opDoc describes a route for the OpenAPI document.
type opDoc struct {
	id      string   // operationId
	summary string   // one line
	note    string   // scope rules beyond the roles
	query   []string // query parameters (components/parameters)
	in      string   // request body schema (components/schemas); "" for none
	out     string   // success body schema; "" for no body
	list    bool     // the success body is a list of out
	status  int      // success status
	errs    []int    // error statuses besides those every route of its kind has
	media   string   // success media type when not application/json
	alt     int      // another success status with the same body, or 0
	also    string   // another success media type served on request (Accept), with a string body
}

// plain adapts a handler method to the route table.
func plain(f func(*Server, http.ResponseWriter, *http.Request)) func(*Server) http.HandlerFunc {
	return func(s *Server) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { f(s, w, r) }
	}
}

var page = []string{"limit", "cursor"}

const (
	brandSKUs     = "Brand tokens see only their own brand's SKUs (another brand's SKU is 404) and may create and change only their own (403 otherwise)."
	brandItems    = "Brand tokens see only items of their own SKUs; a brand_id filter naming another brand is 403. Device tokens may read only their own event (403 otherwise)."
	brandWrites   = "Brand tokens may set and adjust only items of their own SKUs (403 otherwise)."
	deviceEvent   = "Device tokens may read only their own event (403 otherwise)."
	deviceDevices = "Device tokens see and change only devices of their own event: the list is limited to it, and another event's device is 403."
)

// routeTable lists every route of the server: the core routes below and
// one list per area, each in its area's file.
var routeTable = slices.Concat(coreRoutes, webhookRoutes, fulfilRoutes, coldChainRoutes, reconcileRoutes, moneyRoutes, kpiRoutes)

// coreRoutes are the foundation's, discovery's and orders' routes.
var coreRoutes = []route{
	{method: "GET", path: "/healthz", handler: plain((*Server).healthz),
		doc: opDoc{id: "healthz", summary: "Report that the process is up.", out: "Health", status: 200}},
	{method: "GET", path: "/readyz", handler: plain((*Server).readyz),
		doc: opDoc{id: "readyz", summary: "Report whether the database is reachable.", out: "Health", status: 200, errs: []int{503}}},
	{method: "GET", path: "/metrics", handler: (*Server).metricsHandler,
		doc: opDoc{id: "metrics", summary: "Prometheus metrics. With --metrics-token set, only with that token as the bearer token (401 otherwise).", status: 200, media: "text/plain", errs: []int{401}}},
	{method: "GET", path: "/api/v1/openapi.json", handler: plain((*Server).openAPI),
		doc: opDoc{id: "openapi", summary: "This OpenAPI document.", status: 200, media: "application/json"}},

	{method: "GET", path: "/api/v1/program", roles: rolesAny, handler: plain((*Server).getProgram),
		doc: opDoc{id: "getProgram", summary: "Read the program settings.", out: "Program", status: 200}},
	{method: "PUT", path: "/api/v1/program", roles: rolesAdmin, handler: plain((*Server).putProgram),
		doc: opDoc{id: "putProgram", summary: "Replace the program settings.", in: "ProgramInput", out: "Program", status: 200}},

	{method: "GET", path: "/api/v1/cities", roles: rolesCatalogRead, handler: (*Server).listCities,
		doc: opDoc{id: "listCities", summary: "List cities.", query: append([]string{"country"}, page...), out: "City", list: true, status: 200}},
	{method: "POST", path: "/api/v1/cities", roles: rolesAdmin, idem: idemOptional, handler: (*Server).createCity,
		doc: opDoc{id: "createCity", summary: "Create a city.", in: "CityInput", out: "City", status: 201}},
	{method: "GET", path: "/api/v1/cities/{id}", roles: rolesCatalogRead, handler: (*Server).getCity,
		doc: opDoc{id: "getCity", summary: "Read a city.", out: "City", status: 200}},
	{method: "PATCH", path: "/api/v1/cities/{id}", roles: rolesAdmin, handler: (*Server).patchCity,
		doc: opDoc{id: "patchCity", summary: "Change a city.", in: "CityPatch", out: "City", status: 200}},

	{method: "GET", path: "/api/v1/venues", roles: rolesCatalogRead, handler: (*Server).listVenues,
		doc: opDoc{id: "listVenues", summary: "List venues.", query: append([]string{"city_id"}, page...), out: "Venue", list: true, status: 200}},
	{method: "POST", path: "/api/v1/venues", roles: rolesAdmin, idem: idemOptional, handler: (*Server).createVenue,
		doc: opDoc{id: "createVenue", summary: "Create a venue; without time_zone it takes its city's.", in: "VenueInput", out: "Venue", status: 201, errs: []int{422}}},
	{method: "GET", path: "/api/v1/venues/{id}", roles: rolesCatalogRead, handler: (*Server).getVenue,
		doc: opDoc{id: "getVenue", summary: "Read a venue.", out: "Venue", status: 200}},
	{method: "PATCH", path: "/api/v1/venues/{id}", roles: rolesAdmin, handler: (*Server).patchVenue,
		doc: opDoc{id: "patchVenue", summary: "Change a venue.", in: "VenuePatch", out: "Venue", status: 200}},

	{method: "GET", path: "/api/v1/brands", roles: rolesCatalogRead, handler: (*Server).listBrands,
		doc: opDoc{id: "listBrands", summary: "List brands.", query: append([]string{"slug"}, page...), out: "Brand", list: true, status: 200}},
	{method: "POST", path: "/api/v1/brands", roles: rolesAdmin, idem: idemOptional, handler: (*Server).createBrand,
		doc: opDoc{id: "createBrand", summary: "Create a brand.", in: "BrandInput", out: "Brand", status: 201, errs: []int{409}}},
	{method: "GET", path: "/api/v1/brands/{id}", roles: rolesCatalogRead, handler: (*Server).getBrand,
		doc: opDoc{id: "getBrand", summary: "Read a brand.", out: "Brand", status: 200}},
	{method: "PATCH", path: "/api/v1/brands/{id}", roles: rolesAdmin, handler: (*Server).patchBrand,
		doc: opDoc{id: "patchBrand", summary: "Change a brand.", in: "BrandPatch", out: "Brand", status: 200, errs: []int{409}}},

	{method: "GET", path: "/api/v1/events", roles: rolesCatalogRead, handler: (*Server).listEvents,
		doc: opDoc{id: "listEvents", summary: "List events; from and to select events whose span overlaps [from, to).", query: append([]string{"city", "venue_id", "brand_id", "status", "from", "to"}, page...), out: "Event", list: true, status: 200}},
	{method: "POST", path: "/api/v1/events", roles: rolesAdmin, idem: idemOptional, handler: (*Server).createEvent,
		doc: opDoc{id: "createEvent", summary: "Create an event with its sessions (in the venue's local time) and brands.", in: "EventInput", out: "Event", status: 201, errs: []int{409, 422}}},
	{method: "GET", path: "/api/v1/events/{id}", roles: rolesEventRead, handler: (*Server).getEvent,
		doc: opDoc{id: "getEvent", summary: "Read an event.", note: deviceEvent, out: "Event", status: 200}},
	{method: "PATCH", path: "/api/v1/events/{id}", roles: rolesAdmin, handler: (*Server).patchEvent,
		doc: opDoc{id: "patchEvent", summary: "Change an event; lists and costs replace the stored ones.", in: "EventPatch", out: "Event", status: 200, errs: []int{409, 422}}},

	{method: "GET", path: "/api/v1/skus", roles: rolesCatalogRead, handler: (*Server).listSKUs,
		doc: opDoc{id: "listSKUs", summary: "List SKUs.", note: brandSKUs + " A brand_id filter naming another brand is 403.", query: append([]string{"brand_id"}, page...), out: "SKU", list: true, status: 200}},
	{method: "POST", path: "/api/v1/skus", roles: rolesBrandWrite, idem: idemOptional, handler: (*Server).createSKU,
		doc: opDoc{id: "createSKU", summary: "Create a SKU; brand tokens may leave brand_id out.", note: brandSKUs, in: "SKUInput", out: "SKU", status: 201, errs: []int{409, 422}}},
	{method: "GET", path: "/api/v1/skus/{id}", roles: rolesSKURead, handler: (*Server).getSKUForToken,
		doc: opDoc{id: "getSKU", summary: "Read a SKU.", note: brandSKUs + " Device tokens (an edge agent's till) may read only the SKUs of their own event's assortment (404 otherwise).", out: "SKU", status: 200}},
	{method: "PATCH", path: "/api/v1/skus/{id}", roles: rolesBrandWrite, handler: (*Server).patchSKU,
		doc: opDoc{id: "patchSKU", summary: "Change a SKU.", note: brandSKUs, in: "SKUPatch", out: "SKU", status: 200, errs: []int{409}}},

	{method: "GET", path: "/api/v1/events/{id}/assortment", roles: rolesEventRead, handler: (*Server).listAssortment,
		doc: opDoc{id: "listAssortment", summary: "List an event's assortment.", note: brandItems, query: append([]string{"brand_id"}, page...), out: "AssortmentItem", list: true, status: 200}},
	{method: "GET", path: "/api/v1/events/{id}/assortment/{sku_id}", roles: rolesEventRead, handler: plain((*Server).getAssortmentItem),
		doc: opDoc{id: "getAssortmentItem", summary: "Read one assortment item.", note: brandItems, out: "AssortmentItem", status: 200}},
	{method: "PUT", path: "/api/v1/events/{id}/assortment/{sku_id}", roles: rolesBrandWrite, handler: plain((*Server).putAssortmentItem),
		doc: opDoc{id: "putAssortmentItem", summary: "Add a SKU to an event or replace its stock and price there; the SKU's brand must take part in the event.", note: brandWrites, in: "AssortmentInput", out: "AssortmentItem", status: 200, errs: []int{409}}},
	{method: "DELETE", path: "/api/v1/events/{id}/assortment/{sku_id}", roles: rolesAdmin, handler: plain((*Server).deleteAssortmentItem),
		doc: opDoc{id: "deleteAssortmentItem", summary: "Take a SKU out of an event; 409 while orders hold a reservation of it.", status: 204, errs: []int{409}}},
	{method: "POST", path: "/api/v1/events/{id}/assortment/{sku_id}/adjustments", roles: rolesBrandWrite, idem: idemOptional, handler: plain((*Server).adjustStock),
		doc: opDoc{id: "adjustStock", summary: "Add a delta (may be negative) to an item's stock; 409 when the stock would go below zero.", note: brandWrites, in: "Adjustment", out: "AssortmentItem", status: 200, errs: []int{409}}},

	{method: "POST", path: "/api/v1/orders", roles: rolesDevice, idem: idemRequiredInTx, handler: plain((*Server).createOrder),
		doc: opDoc{id: "createOrder", summary: "Place an order and reserve its stock in one transaction; 409 \"insufficient stock\" naming the line; 200 when an order with the body's client-made id already exists (the same sale sent again).", note: deviceOrders, in: "OrderInput", out: "Order", status: 201, alt: 200}},
	{method: "GET", path: "/api/v1/orders", roles: rolesDevice, handler: (*Server).listOrders,
		doc: opDoc{id: "listOrders", summary: "List orders.", note: deviceOrders, query: append([]string{"event_id", "order_status", "channel"}, page...), out: "Order", list: true, status: 200}},
	{method: "GET", path: "/api/v1/orders/{id}", roles: rolesDevice, handler: plain((*Server).getOrder),
		doc: opDoc{id: "getOrder", summary: "Read an order with its transitions.", note: deviceOrders, out: "Order", status: 200}},
	{method: "POST", path: "/api/v1/orders/{id}/transitions", roles: rolesDevice, idem: idemOptional, handler: (*Server).transitionOrder,
		doc: opDoc{id: "transitionOrder", summary: "Move an order to another status, stored with the calling token as actor; 409 for an illegal move.", note: deviceOrders, in: "OrderTransitionInput", out: "Order", status: 200, errs: []int{409}}},

	{method: "GET", path: "/api/v1/devices", roles: rolesDevice, handler: (*Server).listDevices,
		doc: opDoc{id: "listDevices", summary: "List edge devices.", note: deviceDevices, query: append([]string{"event_id"}, page...), out: "Device", list: true, status: 200}},
	{method: "POST", path: "/api/v1/devices", roles: rolesAdmin, idem: idemOptional, handler: (*Server).createDevice,
		doc: opDoc{id: "createDevice", summary: "Register an edge device for an event.", in: "DeviceInput", out: "Device", status: 201, errs: []int{422}}},
	{method: "GET", path: "/api/v1/devices/{id}", roles: rolesDevice, handler: (*Server).getDevice,
		doc: opDoc{id: "getDevice", summary: "Read a device.", note: deviceDevices, out: "Device", status: 200}},
	{method: "PATCH", path: "/api/v1/devices/{id}", roles: rolesDevice, handler: (*Server).patchDevice,
		doc: opDoc{id: "patchDevice", summary: "Change a device.", note: deviceDevices, in: "DevicePatch", out: "Device", status: 200}},

	{method: "POST", path: ingestPath, roles: rolesDeviceOnly, handler: plain((*Server).ingest),
		doc: opDoc{id: "ingest", summary: "Upload a batch of an edge device's outbox; idempotent by (device, stream, seq).", note: ingestNote, in: "IngestBatch", out: "IngestResult", status: 200}},
	{method: "GET", path: "/api/v1/events/{id}/telemetry", roles: rolesTelemetry, handler: plain((*Server).getTelemetry),
		doc: opDoc{id: "getTelemetry", summary: "Read one telemetry metric of an event as a series of UTC buckets over [from, to).", note: telemetryNote, query: []string{"metric", "series_from", "series_to", "step", "sensor"}, out: "Series", status: 200}},
	{method: "GET", path: "/api/v1/devices/{id}/status", roles: rolesDevice, handler: plain((*Server).getDeviceStatus),
		doc: opDoc{id: "getDeviceStatus", summary: "Read an edge device's status: last seen, clock skew, backlog and drops it reported, records stored and rejected, acknowledgement per stream.", note: deviceStatusNote, out: "DeviceStatus", status: 200}},

	{method: "GET", path: "/api/v1/listings", roles: rolesListingRead, handler: (*Server).listListings,
		doc: opDoc{id: "listListings", summary: "List listings by their event's start; visible_at selects what the public sees at that instant.", note: brandListings + " A brand_id filter naming another brand is 403.", query: append([]string{"state", "brand_id", "city", "event_id", "published", "visible_at"}, page...), out: "Listing", list: true, status: 200}},
	{method: "POST", path: "/api/v1/listings", roles: rolesListingWrite, idem: idemOptional, handler: (*Server).createListing,
		doc: opDoc{id: "createListing", summary: "Draft a listing for an event; the slug defaults to the event's.", note: brandListWrite, in: "ListingInput", out: "Listing", status: 201, errs: []int{409, 422}}},
	{method: "GET", path: "/api/v1/listings/{id}", roles: rolesListingRead, handler: (*Server).getListing,
		doc: opDoc{id: "getListing", summary: "Read a listing: its working revision and, once published, its live one.", note: brandListings, out: "Listing", status: 200}},
	{method: "PATCH", path: "/api/v1/listings/{id}", roles: rolesListingWrite, handler: (*Server).patchListing,
		doc: opDoc{id: "patchListing", summary: "Edit the working revision; a listing that is not a draft gets a new draft revision while the published one stays live.", note: brandListings, in: "ListingPatch", out: "Listing", status: 200}},
	{method: "POST", path: "/api/v1/listings/{id}/curation", roles: rolesCurate, handler: plain((*Server).curateListing),
		doc: opDoc{id: "curateListing", summary: "Apply a curation step: submit (draft), approve or reject (submitted), publish (approved); any other step is 409.", note: curationNote, in: "CurationStep", out: "Listing", status: 200, errs: []int{409}}},
	{method: "GET", path: "/api/v1/listings/{id}/curation", roles: rolesListingRead, handler: plain((*Server).curationLog),
		doc: opDoc{id: "listCurationEvents", summary: "The curation log of a listing, oldest first: who, when, what and why.", note: brandListings, out: "CurationEvent", list: true, status: 200}},
	{method: "GET", path: "/api/v1/listings/{id}/diff", roles: rolesListingRead, handler: plain((*Server).getListingDiff),
		doc: opDoc{id: "getListingDiff", summary: "The fields in which the working revision differs from the live one.", note: brandListings, out: "ListingDiff", status: 200}},
	{method: "GET", path: "/api/v1/listings/{id}/funnel", roles: rolesListingRead, handler: plain((*Server).getFunnel),
		doc: opDoc{id: "getListingFunnel", summary: "Daily page views, unique-visitor estimates, notify-me sign-ups and member check-ins of a listing over [from, to) (default: the last 30 days).", note: brandListings, query: []string{"from", "to"}, out: "FunnelDay", list: true, status: 200}},
	{method: "POST", path: "/api/v1/listings/{id}/notify", handler: plain((*Server).notify),
		doc: opDoc{id: "notifyMe", summary: "Sign up to be told about a published listing; consent must be true. Signing up twice is not an error.", in: "NotifyInput", out: "NotifyAccepted", status: 202}},

	{method: "GET", path: "/api/v1/tiers", roles: rolesTierRead, handler: plain((*Server).listTiers),
		doc: opDoc{id: "listTiers", summary: "List membership tiers.", out: "Tier", list: true, status: 200}},
	{method: "POST", path: "/api/v1/tiers", roles: rolesAdmin, idem: idemOptional, handler: (*Server).createTier,
		doc: opDoc{id: "createTier", summary: "Create a membership tier; hold_hours defaults to 48.", in: "TierInput", out: "Tier", status: 201, errs: []int{409}}},
	{method: "GET", path: "/api/v1/tiers/{id}", roles: rolesTierRead, handler: (*Server).getTier,
		doc: opDoc{id: "getTier", summary: "Read a tier.", out: "Tier", status: 200}},
	{method: "PATCH", path: "/api/v1/tiers/{id}", roles: rolesAdmin, handler: (*Server).patchTier,
		doc: opDoc{id: "patchTier", summary: "Change a tier.", in: "TierPatch", out: "Tier", status: 200}},
	{method: "GET", path: "/api/v1/members", roles: rolesAdmin, handler: (*Server).listMembers,
		doc: opDoc{id: "listMembers", summary: "List members.", query: append([]string{"tier_id", "member_status", "email"}, page...), out: "Member", list: true, status: 200}},
	{method: "POST", path: "/api/v1/members", roles: rolesAdmin, idem: idemOptional, handler: (*Server).createMember,
		doc: opDoc{id: "createMember", summary: "Create a member; early access starts after the tier's hold.", in: "MemberInput", out: "Member", status: 201, errs: []int{409, 422}}},
	{method: "GET", path: "/api/v1/members/{id}", roles: rolesAdmin, handler: (*Server).getMember,
		doc: opDoc{id: "getMember", summary: "Read a member.", out: "Member", status: 200}},
	{method: "PATCH", path: "/api/v1/members/{id}", roles: rolesAdmin, handler: (*Server).patchMember,
		doc: opDoc{id: "patchMember", summary: "Change a member.", in: "MemberPatch", out: "Member", status: 200, errs: []int{409, 422}}},
	{method: "POST", path: "/api/v1/members/{id}/link", roles: rolesAdmin, handler: plain((*Server).createMemberLink),
		doc: opDoc{id: "createMemberLink", summary: "Issue a member's personal signed link (HMAC-SHA256 over member id and expiry), valid 90 days or until the membership ends.", out: "MemberLink", status: 201, errs: []int{409}}},
	{method: "POST", path: "/api/v1/webhooks/billing", handler: plain((*Server).billingWebhook),
		doc: opDoc{id: "billingWebhook", summary: "Apply a subscription event from the payment provider, signed as Standard Webhooks do (webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256>); a bad signature or a timestamp more than 5 minutes off is 401, a replayed webhook-id is 409; neither changes anything.", in: "BillingEvent", out: "BillingResult", status: 200, errs: []int{401, 409, 422}}},
	{method: "POST", path: "/api/v1/checkins", roles: rolesCheckin, handler: plain((*Server).createCheckin),
		doc: opDoc{id: "createCheckin", summary: "Check a member in at an event's door from the code of their link or QR; a bad or expired code is 422, a membership not in force 409.", note: "Device tokens check in at their own event only (403 otherwise); admins must give event_id.", in: "CheckinInput", out: "Checkin", status: 201, errs: []int{409, 422}}},

	{method: "GET", path: "/api/v1/tokens", roles: rolesAdmin, handler: (*Server).listTokens,
		doc: opDoc{id: "listTokens", summary: "List API tokens (never their secrets).", query: append([]string{"role", "include_revoked"}, page...), out: "Token", list: true, status: 200}},
	{method: "POST", path: "/api/v1/tokens", roles: rolesAdmin, handler: plain((*Server).createToken),
		doc: opDoc{id: "createToken", summary: "Create an API token; the answer holds its secret, shown only this once. Not idempotent: the secret is never stored, so it cannot be replayed.", in: "TokenInput", out: "TokenCreated", status: 201, errs: []int{422}}},
	{method: "DELETE", path: "/api/v1/tokens/{id}", roles: rolesAdmin, handler: plain((*Server).revokeToken),
		doc: opDoc{id: "revokeToken", summary: "Revoke an API token; revoking twice is not an error.", status: 204}},
}
