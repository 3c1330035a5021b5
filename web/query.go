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

// pageParams are the query parameters listing pages use. Any other
// parameter (utm_*, fbclid, gclid, msclkid, mc_cid, igshid, _gl, gbraid,
// srsltid, ttclid, whatever a link shortener or mail tool adds next) is
// ignored, so that shared links open the page; canonical links never carry
// a query.
var pageParams = map[string]bool{"day": true, "limit": true}

// parsePageQuery parses a listing page's query string. The parameters the
// page uses (day, limit) must appear at most once and be well-formed, or
// the handler answers 400 with the error; every other parameter is
// ignored, whatever its value.
func parsePageQuery(raw string) (pageQuery, error) {
	q := pageQuery{Limit: 20}
	if raw == "" {
		return q, nil
	}
	if len(raw) > maxQuery {
		return q, fmt.Errorf("the query string is longer than %d bytes", maxQuery)
	}
	vals := map[string][]string{}
	for part := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil || !pageParams[key] {
			continue // not a parameter the page uses
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return q, fmt.Errorf("parameter %q is malformed", key)
		}
		vals[key] = append(vals[key], val)
	}
	for k, vs := range vals {
		if len(vs) != 1 {
			return q, fmt.Errorf("parameter %q is given %d times", k, len(vs))
		}
		v := vs[0]
		switch k {
		case "day":
			d, err := time.Parse("2006-01-02", v)
			if err != nil {
				return q, fmt.Errorf("day must be a date like 2026-05-01")
			}
			q.Day = d
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 100 {
				return q, fmt.Errorf("limit must be a whole number from 1 to 100")
			}
			q.Limit = n
		}
	}
	return q, nil
}

// parseNoQuery checks the query string of a page that uses no parameter:
// every parameter is ignored, only the length is bounded.
func parseNoQuery(raw string) error {
	if len(raw) > maxQuery {
		return fmt.Errorf("the query string is longer than %d bytes", maxQuery)
	}
	return nil
}
