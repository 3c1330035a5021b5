package http

import (
	"encoding/csv"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

// Who may read KPIs: admin and curator everything; a brand token only
// events its brand takes part in (another event is 404) and only its own
// brand's sales in them, with the events' costs left out; device and
// fulfiller tokens get 403.
var rolesKPI = []popkit.Role{popkit.RoleAdmin, popkit.RoleCurator, popkit.RoleBrand}

const (
	kpiNote = "Every KPI of the scope over [from, to), grouped by venue-local hour (a daylight-saving day has 23 or 25 rows), day, ISO week, event or city, each with its unit, currency, inputs and flags (missing_rate, insufficient_data, suppressed); the definitions are in the KPI schemas and in kpi.go. " +
		"compare=previous_period|previous_year or compare_from/compare_to add the other period's values (compare_value, delta, delta_relative); compare_event compares an event with another (scope=event). " +
		"CSV (Accept: text/csv or format=csv): RFC 4180, a header line, one row per group and a last row keyed total; columns scope, id, group, key, label, start, end, currency, then one column per KPI named as the KPI (plain decimals, empty when undefined), conversion_rate_low/high and listing_uplift_pct_low/high, and flags (kpi:flag pairs separated by spaces); new columns are only ever appended. " +
		"Brand tokens see only events their brand takes part in (another event is 404) and only their own SKUs' sales, without the events' costs. A range over 400 days, from not before to, or an unknown scope or group is 400."
	sensorRoleNote = "A footfall sensor without a role counts as an entrance; mark inner line counters with entrance false so footfall and visitors leave them out."
)

// kpiRoutes are the KPI engine's routes.
var kpiRoutes = []route{
	{method: "GET", path: "/api/v1/kpis", roles: rolesKPI, handler: plain((*Server).getKPIs),
		doc: opDoc{id: "getKPIs", summary: "Compute the KPIs of the program, a city or an event over a range, grouped.", note: kpiNote,
			query: []string{"kpi_scope", "kpi_id", "kpi_from", "kpi_to", "kpi_group", "kpi_compare", "kpi_compare_from", "kpi_compare_to", "kpi_compare_event", "kpi_format"},
			out:   "KPIReport", also: "text/csv", status: 200, errs: []int{404}}},
	{method: "PUT", path: "/api/v1/devices/{id}/sensors/{sensor}", roles: rolesAdmin, handler: plain((*Server).putSensorRole),
		doc: opDoc{id: "setSensorRole", summary: "Mark a sensor of a device as an entrance or not.", note: sensorRoleNote, in: "SensorRoleInput", out: "SensorRole", status: 200, errs: []int{404}}},
	{method: "GET", path: "/api/v1/events/{id}/sensor-roles", roles: rolesAdmin, handler: plain((*Server).listSensorRoles),
		doc: opDoc{id: "listSensorRoles", summary: "List the sensor roles of an event's devices.", note: sensorRoleNote, out: "SensorRole", list: true, status: 200, errs: []int{404}}},
}

func (s *Server) getKPIs(w http.ResponseWriter, r *http.Request) {
	rep, asCSV, err := s.kpiReport(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if asCSV {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="kpis.csv"`)
		w.WriteHeader(http.StatusOK)
		writeKPICSV(w, rep)
		return
	}
	writeJSON(w, r, http.StatusOK, rep)
}

// kpiReport reads a KPI query, applies the caller's scope, and returns the
// report (with its comparison) and whether CSV was asked for.
func (s *Server) kpiReport(r *http.Request) (*popkit.KPIReport, bool, error) {
	q := &query{r: r}
	v := r.URL.Query()
	f := popkit.KPIFilter{Scope: v.Get("scope"), ID: v.Get("id"), Group: v.Get("group")}
	if f.Scope == "" {
		q.fail("scope", "is required (program, city or event)")
	}
	if f.Group == "" {
		f.Group = popkit.GroupDay
	}
	f.From = requiredTime(q, "from")
	f.To = requiredTime(q, "to")
	asCSV := false
	switch v.Get("format") {
	case "csv":
		asCSV = true
	case "", "json":
		asCSV = v.Get("format") == "" && acceptsCSV(r)
	default:
		q.fail("format", "must be json or csv")
	}
	compare := v.Get("compare")
	cmpFrom, cmpTo := q.time("compare_from"), q.time("compare_to")
	cmpEvent := q.id("compare_event")
	if q.err != nil {
		return nil, false, q.err
	}
	if t := token(r); t.Role == popkit.RoleBrand {
		f.BrandID = t.BrandID
	}
	if err := f.Validate(); err != nil {
		return nil, false, err
	}
	var other *popkit.KPIFilter
	switch {
	case compare != "":
		from, to, err := popkit.ComparePeriod(compare, f.From, f.To)
		if err != nil {
			return nil, false, err
		}
		o := f
		o.From, o.To = from, to
		other = &o
	case !cmpFrom.IsZero() || !cmpTo.IsZero():
		if cmpFrom.IsZero() || cmpTo.IsZero() {
			return nil, false, popkit.InvalidField("compare_from", "compare_from and compare_to go together")
		}
		o := f
		o.From, o.To = cmpFrom, cmpTo
		if err := o.Validate(); err != nil {
			return nil, false, popkit.InvalidField("compare_to", "%s", popkit.ErrorMessage(err))
		}
		other = &o
	case cmpEvent != "":
		if f.Scope != popkit.ScopeEvent {
			return nil, false, popkit.InvalidField("compare_event", "needs scope=event")
		}
		o := f
		o.ID = cmpEvent
		other = &o
	}
	rep, err := s.KPIs.FindKPIs(r.Context(), f)
	if err != nil {
		return nil, false, err
	}
	if other != nil {
		o, err := s.KPIs.FindKPIs(r.Context(), *other)
		if err != nil {
			if popkit.ErrorCode(err) == popkit.ENOTFOUND && cmpEvent != "" {
				return nil, false, &popkit.Error{Code: popkit.ENOTFOUND, Message: "compare_event: event not found",
					Fields: []popkit.FieldError{{Field: "compare_event", Message: "is not an event you may read"}}}
			}
			return nil, false, err
		}
		rep.CompareWith(o)
	}
	return rep, asCSV, nil
}

// acceptsCSV reports whether the Accept header prefers text/csv to JSON:
// it names text/csv and not application/json before it.
func acceptsCSV(r *http.Request) bool {
	a := strings.ToLower(r.Header.Get("Accept"))
	i := strings.Index(a, "text/csv")
	if i < 0 {
		return false
	}
	j := strings.Index(a, "application/json")
	return j < 0 || i < j
}

// kpiCSVHeader returns the stable CSV columns.
func kpiCSVHeader() []string {
	h := []string{"scope", "id", "group", "key", "label", "start", "end", "currency"}
	for _, d := range popkit.KPIDefs {
		h = append(h, d.Name)
		if d.Name == "conversion_rate" || d.Name == "listing_uplift_pct" {
			h = append(h, d.Name+"_low", d.Name+"_high")
		}
	}
	return append(h, "flags")
}

// writeKPICSV writes a report as RFC 4180 CSV: the header, one record per
// row, and the total last.
func writeKPICSV(w io.Writer, rep *popkit.KPIReport) {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	cw.Write(kpiCSVHeader())
	rows := append(rep.Rows[:len(rep.Rows):len(rep.Rows)], rep.Total)
	for _, row := range rows {
		rec := []string{rep.Scope, rep.ID, rep.Group, row.Key, row.Label, csvTime(row.Start), csvTime(row.End), rep.Currency}
		var flags []string
		for _, d := range popkit.KPIDefs {
			v := row.Value(d.Name)
			rec = append(rec, csvNumber(v.Value))
			if d.Name == "conversion_rate" || d.Name == "listing_uplift_pct" {
				rec = append(rec, csvNumber(v.Low), csvNumber(v.High))
			}
			for _, fl := range v.Flags {
				flags = append(flags, d.Name+":"+fl)
			}
		}
		rec = append(rec, strings.Join(flags, " "))
		cw.Write(rec)
	}
	cw.Flush()
}

func csvNumber(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func csvTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// sensorRoleInput is the body of PUT /api/v1/devices/{id}/sensors/{sensor}.
type sensorRoleInput struct {
	Entrance *bool `json:"entrance"`
}

func (s *Server) putSensorRole(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "device")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in sensorRoleInput
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.Entrance == nil {
		s.writeError(w, r, popkit.InvalidField("entrance", "is required"))
		return
	}
	role := &popkit.SensorRole{DeviceID: id, Sensor: r.PathValue("sensor"), Entrance: *in.Entrance}
	if err := s.KPIs.SetSensorRole(r.Context(), role); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, role)
}

func (s *Server) listSensorRoles(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "event")
	if err == nil {
		var roles []*popkit.SensorRole
		if roles, err = s.KPIs.FindSensorRoles(r.Context(), id); err == nil {
			if roles == nil {
				roles = []*popkit.SensorRole{}
			}
			writeJSON(w, r, http.StatusOK, map[string]any{"items": roles})
			return
		}
	}
	s.writeError(w, r, err)
}
