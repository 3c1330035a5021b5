package web

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// pageQuery is the query string a listing page accepts.
type pageQuery struct {
	// Day, when set, shows what is on that local day instead of now.
	Day time.Time
	// Limit bounds the listings per section (1-100, default 20).
	Limit int
}

// maxQuery bounds the raw query string a page accepts.
const maxQuery = 1024

// parsePageQuery parses a listing page's query string. Known parameters
// must appear at most once and be well-formed; marketing parameters
// (utm_*, fbclid, gclid, ref) are ignored; anything else is an error, which
// the handler answers with 400.
func parsePageQuery(raw string) (pageQuery, error) {
	q := pageQuery{Limit: 20}
	if raw == "" {
		return q, nil
	}
	if len(raw) > maxQuery {
		return q, fmt.Errorf("the query string is longer than %d bytes", maxQuery)
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return q, fmt.Errorf("the query string is malformed")
	}
	for k, vs := range vals {
		if len(vs) != 1 {
			return q, fmt.Errorf("parameter %q is given %d times", k, len(vs))
		}
		v := vs[0]
		switch {
		case k == "day":
			d, err := time.Parse("2006-01-02", v)
			if err != nil {
				return q, fmt.Errorf("day must be a date like 2026-05-01")
			}
			q.Day = d
		case k == "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 100 {
				return q, fmt.Errorf("limit must be a whole number from 1 to 100")
			}
			q.Limit = n
		case strings.HasPrefix(k, "utm_") || k == "fbclid" || k == "gclid" || k == "ref":
		default:
			return q, fmt.Errorf("unknown parameter %q", k)
		}
	}
	return q, nil
}

// parseNoQuery accepts only marketing parameters: pages without options.
func parseNoQuery(raw string) error {
	q, err := parsePageQuery(raw)
	if err != nil {
		return err
	}
	if !q.Day.IsZero() || q.Limit != 20 {
		return fmt.Errorf("this page takes no day or limit")
	}
	return nil
}
