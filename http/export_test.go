package http

// RouteTable lists the route table for tests: each route's mux pattern
// ("GET /api/v1/cities") with the roles it admits (nil for public routes)
// and whether it takes an Idempotency-Key.
func RouteTable() []TestRoute {
	out := make([]TestRoute, len(routeTable))
	for i, rt := range routeTable {
		out[i] = TestRoute{Method: rt.method, Path: rt.path, Idempotent: rt.idem != idemNone, Body: rt.doc.in != ""}
		for _, r := range rt.roles {
			out[i].Roles = append(out[i].Roles, string(r))
		}
	}
	return out
}

// TestRoute describes one route of the table.
type TestRoute struct {
	Method, Path string
	Roles        []string
	Idempotent   bool
	Body         bool
}
