package http_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit"
	pkhttp "github.com/popkit/popkit/http"
)

// TestOrderOccurredAtRange checks that an occurred_at outside the accepted
// range (2000-01-01 up to five minutes from now) is refused naming the
// field, year 1 (Go's zero time) included, instead of being stored or
// replaced by now.
func TestOrderOccurredAtRange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	for _, at := range []string{"0001-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "1999-12-31T23:59:59Z"} {
		body := orderBody(w, 1)
		body["occurred_at"] = at
		p := e.do("POST", "/api/v1/orders", e.admin, body, key("at-"+at)).want(t, 400).problem(t)
		if !p.hasField("occurred_at") {
			t.Errorf("occurred_at %s: problem %+v does not name occurred_at", at, p)
		}
	}
	body := orderBody(w, 1)
	body["occurred_at"] = "2000-01-01T00:00:00Z"
	o := decodeAs[popkit.Order](t, e.do("POST", "/api/v1/orders", e.admin, body, key("at-2000")).want(t, 201))
	if want := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC); !o.OccurredAt.Equal(want) {
		t.Errorf("occurred_at stored as %s, want %s", o.OccurredAt, want)
	}
}

// TestIngestStreamAndSentAt checks that a batch naming the nil UUID as its
// stream, or sent in year 0, is refused naming the field.
func TestIngestStreamAndSentAt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	nilStream := saleBatch(w.dev1.ID, "00000000-0000-0000-0000-000000000000")
	nilStream["records"] = []any{}
	if p := e.ingest(w.device, nilStream, false).want(t, 400).problem(t); !p.hasField("stream") {
		t.Errorf("nil stream: problem %+v does not name stream", p)
	}
	for _, at := range []string{"0000-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "2200-01-01T00:00:00Z"} {
		b := saleBatch(w.dev1.ID, popkit.NewID())
		b["sent_at"], b["records"] = at, []any{}
		if p := e.ingest(w.device, b, false).want(t, 400).problem(t); !p.hasField("sent_at") {
			t.Errorf("sent_at %s: problem %+v does not name sent_at", at, p)
		}
	}
	ok := saleBatch(w.dev1.ID, popkit.NewID())
	ok["records"] = []any{}
	e.ingest(w.device, ok, false).want(t, 200)
}

// TestJSONCharset checks that a JSON body declared in a charset other than
// UTF-8 is refused with 415, and UTF-8 in any spelling accepted.
func TestJSONCharset(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, ct := range []string{"application/json; charset=iso-8859-1", "application/json; charset=windows-1252", "application/json;charset=utf-16"} {
		p := e.do("POST", "/api/v1/cities", e.admin, cityBody("Köln"), header{"Content-Type", ct}).want(t, 415).problem(t)
		if p.Code != "unsupported_media_type" {
			t.Errorf("%s: problem %+v", ct, p)
		}
	}
	for i, ct := range []string{"application/json; charset=utf-8", "application/json; charset=UTF-8", "application/json"} {
		e.do("POST", "/api/v1/cities", e.admin, cityBody("Köln "+itoa(i)), header{"Content-Type", ct}).want(t, 201)
	}
}

// TestBrandStockMovementsScope checks that a brand token reading the stock
// ledger of an event its brand does not take part in gets 403, as it does
// for stock counts, instead of an empty list.
func TestBrandStockMovementsScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	brandB := e.newToken(map[string]any{"role": "brand", "brand_id": w.brandB.ID})
	e.do("GET", "/api/v1/events/"+w.e2.ID+"/stock-movements", brandB, nil).want(t, 403)
	e.do("GET", "/api/v1/events/"+w.e1.ID+"/stock-movements", brandB, nil).want(t, 200)
	e.do("GET", "/api/v1/events/"+w.e2.ID+"/stock-movements", w.brand, nil).want(t, 200)
}

// TestRawErrorsAreProblems checks that the answers net/http writes before
// any handler runs (a malformed path, headers over the limit) reach the
// client as problem+json through ProblemListener.
func TestRawErrorsAreProblems(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := httptest.NewUnstartedServer(e.h)
	srv.Listener = pkhttp.ProblemListener(srv.Listener)
	srv.Config.MaxHeaderBytes = 1024
	srv.Start()
	t.Cleanup(srv.Close)

	for _, tc := range []struct {
		name, request string
		status        int
	}{
		{"malformed path", "GET /api/v1/%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"malformed request line", "GET /api/v1/events HTTP/9\r\nHost: x\r\n\r\n", 400},
		{"headers too large", "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 16<<10) + "\r\n\r\n", 431},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			go io.WriteString(c, tc.request) // the server may answer before reading it all
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var p struct {
				Status int    `json:"status"`
				Code   string `json:"code"`
				Type   string `json:"type"`
			}
			if res.StatusCode != tc.status || res.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("answer %d %s, want %d application/problem+json", res.StatusCode, res.Header.Get("Content-Type"), tc.status)
			}
			if err := json.NewDecoder(res.Body).Decode(&p); err != nil || p.Status != tc.status || p.Code == "" || p.Type == "" {
				t.Errorf("problem %+v (%v)", p, err)
			}
		})
	}
	// An ordinary answer passes unchanged.
	res, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("healthz through the listener: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}
