package web

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"html/template"
	"net/http"
	"time"

	"github.com/popkit/popkit/fulfil"
)

// The kitting page (/kitting) is for staff at an internal fulfilment
// node. It is a small client of the JSON API: staff sign in with a
// fulfiller token (their node) or an admin token (any node, picked from a
// list), and the page lists the node's fulfilment orders grouped by state,
// with their lines, perishable, hold and bundle badges, and one large
// button per legal next step, which calls
// POST /api/v1/fulfilment-orders/{id}/transitions. It refreshes itself
// every few seconds and after every step.
//
// The token lives in the tab's sessionStorage (gone when the tab closes)
// and is sent only as a bearer token to the same origin; the page allows
// scripts from its own origin only (no inline script), so that injected
// markup cannot run. The legal steps come from fulfil.Legal, rendered into
// the page, so the buttons never drift from the state machine.

var (
	//go:embed templates/kitting.html
	kittingHTML string
	//go:embed templates/kitting.js
	kittingJS []byte

	kittingTemplate = template.Must(template.New("kitting").Parse(kittingHTML))
	kittingSteps    = mustJSON(legalSteps())
)

// kittingRefresh is how often the page reloads its orders.
const kittingRefresh = 5 * time.Second

// kittingCSP allows the page its own script and inline style only.
const kittingCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// legalSteps maps each state (but on_hold, whose way back depends on the
// state it left) to the states fulfil.Legal allows next.
func legalSteps() map[fulfil.State][]fulfil.State {
	steps := map[fulfil.State][]fulfil.State{}
	for _, from := range fulfil.States {
		if from == fulfil.StateOnHold {
			continue
		}
		next := []fulfil.State{}
		for _, to := range fulfil.States {
			if fulfil.Legal(fulfil.Status{State: from}, to) {
				next = append(next, to)
			}
		}
		steps[from] = next
	}
	return steps
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// registerKitting mounts the kitting page and its script.
func registerKitting(m *http.ServeMux, h *Handler) {
	m.HandleFunc("GET /kitting", func(w http.ResponseWriter, r *http.Request) { kittingPage(w, r, h) })
	m.HandleFunc("GET /kitting/kitting.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Frame-Options", "DENY")
		writeCached(w, r, "text/javascript; charset=utf-8", kittingJS, time.Time{})
	})
}

func kittingPage(w http.ResponseWriter, r *http.Request, h *Handler) {
	noStore(w)
	w.Header().Set("Content-Security-Policy", kittingCSP)
	var buf bytes.Buffer
	if err := kittingTemplate.Execute(&buf, struct {
		Site, Steps string
		RefreshMS   int64
		States      []fulfil.State
	}{h.Site, kittingSteps, kittingRefresh.Milliseconds(), fulfil.States}); err != nil {
		h.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}
