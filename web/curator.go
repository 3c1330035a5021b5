package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

// CuratorCookie holds a curator's token after signing in. It is HttpOnly,
// SameSite=Strict and scoped to /curator; the token is checked (and its
// revocation honoured) on every request.
const CuratorCookie = "pk_curator"

// Curator serves the curator page at /curator: the review queue with a
// diff of each revision against the live one, one-click approve (and
// publish), and reject with a reason from the fixed list. It works
// without JavaScript. Curators sign in with a curator or admin token
// through a form; forms carry a CSRF token derived from the session.
type Curator struct {
	Tokens   popkit.TokenService
	Listings popkit.ListingService
	Events   popkit.EventService
}

func (c *Curator) register(m *http.ServeMux, h *Handler) {
	m.HandleFunc("GET /curator", func(w http.ResponseWriter, r *http.Request) { c.queue(w, r, h) })
	m.HandleFunc("GET /curator/login", func(w http.ResponseWriter, r *http.Request) { c.loginForm(w, r, h, "", http.StatusOK) })
	m.HandleFunc("POST /curator/login", func(w http.ResponseWriter, r *http.Request) { c.login(w, r, h) })
	m.HandleFunc("POST /curator/logout", func(w http.ResponseWriter, r *http.Request) { c.logout(w, r, h) })
	m.HandleFunc("POST /curator/listings/{id}/{action}", func(w http.ResponseWriter, r *http.Request) { c.act(w, r, h) })
}

// csrfToken binds a form to the session: an HMAC of a fixed label under
// the session's token secret, which a cross-site page cannot read.
func csrfToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("popkit curator csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// session returns the signed-in curator's token and secret, or nil.
func (c *Curator) session(r *http.Request) (*popkit.Token, string) {
	ck, err := r.Cookie(CuratorCookie)
	if err != nil || !popkit.LooksLikeToken(ck.Value) {
		return nil, ""
	}
	t, err := c.Tokens.Authenticate(r.Context(), ck.Value)
	if err != nil || !t.Is(popkit.RoleCurator, popkit.RoleAdmin) {
		return nil, ""
	}
	return t, ck.Value
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
}

func (c *Curator) loginForm(w http.ResponseWriter, r *http.Request, h *Handler, msg string, status int) {
	noStore(w)
	p := h.page(r, "Curator sign-in", "")
	p.NoIndex = true
	h.renderStatus(w, r, status, "curator-login", struct {
		*pageData
		Error string
	}{p, msg}, time.Time{})
}

// sameOrigin refuses cross-site form posts, by Fetch Metadata and the
// Origin header where the browser sends them; the CSRF token is checked
// as well.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

func (c *Curator) login(w http.ResponseWriter, r *http.Request, h *Handler) {
	if !sameOrigin(r) {
		c.loginForm(w, r, h, "This form must be sent from this site.", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		c.loginForm(w, r, h, "The form could not be read.", http.StatusBadRequest)
		return
	}
	secret := strings.TrimSpace(r.PostForm.Get("token"))
	if !popkit.LooksLikeToken(secret) {
		c.loginForm(w, r, h, "That token is not valid.", http.StatusUnauthorized)
		return
	}
	t, err := c.Tokens.Authenticate(r.Context(), secret)
	if popkit.ErrorCode(err) == popkit.EUNAUTHORIZED {
		c.loginForm(w, r, h, "That token is not valid.", http.StatusUnauthorized)
		return
	} else if err != nil {
		h.serverError(w, r, fmt.Errorf("curator login: %w", err))
		return
	}
	if !t.Is(popkit.RoleCurator, popkit.RoleAdmin) {
		c.loginForm(w, r, h, "Only curator and admin tokens may use this page.", http.StatusForbidden)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: CuratorCookie, Value: secret, Path: "/curator",
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
		MaxAge: int((12 * time.Hour).Seconds()),
	})
	http.Redirect(w, r, "/curator", http.StatusSeeOther)
}

// checkPost authenticates a form post and checks its CSRF token.
func (c *Curator) checkPost(w http.ResponseWriter, r *http.Request, h *Handler) (*popkit.Token, bool) {
	noStore(w)
	t, secret := c.session(r)
	if t == nil {
		c.loginForm(w, r, h, "Please sign in.", http.StatusUnauthorized)
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		h.badRequest(w, r, "The form could not be read.")
		return nil, false
	}
	got := r.PostForm.Get("csrf")
	if !sameOrigin(r) || subtle.ConstantTimeCompare([]byte(got), []byte(csrfToken(secret))) != 1 {
		h.message(w, r, http.StatusForbidden, "Forbidden", "The form has expired or was not sent from this site. Go back, reload and try again.")
		return nil, false
	}
	return t, true
}

func (c *Curator) logout(w http.ResponseWriter, r *http.Request, h *Handler) {
	if _, ok := c.checkPost(w, r, h); !ok {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CuratorCookie, Value: "", Path: "/curator", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/curator/login", http.StatusSeeOther)
}

// reviewItem is one listing in the queue.
type reviewItem struct {
	L         *popkit.Listing
	EventName string
	Diff      []diffRow
}

type diffRow struct{ Field, From, To string }

// diffValue renders a changed value for the diff table.
func diffValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if s := string(b); s != "null" && s != "[]" {
		return s
	}
	return ""
}

// queueStates are the states a curator acts on.
var queueStates = []popkit.CurationState{popkit.ListingSubmitted, popkit.ListingApproved}

func (c *Curator) queue(w http.ResponseWriter, r *http.Request, h *Handler) {
	noStore(w)
	t, secret := c.session(r)
	if t == nil {
		http.Redirect(w, r, "/curator/login", http.StatusSeeOther)
		return
	}
	var flash string
	if r.URL.RawQuery != "" {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil || len(q) > 1 || (len(q) == 1 && q.Get("done") == "") {
			h.badRequest(w, r, "The curator page takes no parameters but done.")
			return
		}
		flash = q.Get("done")
		if len(flash) > 200 {
			flash = flash[:200]
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	var items []reviewItem
	events := map[string]string{}
	for _, st := range queueStates {
		after := ""
		for range 20 { // at most 20 pages of 200
			ls, next, err := c.Listings.FindListings(ctx, popkit.ListingFilter{State: st, Page: popkit.Page{Limit: popkit.MaxPageLimit, After: after}})
			if err != nil {
				h.serverError(w, r, fmt.Errorf("review queue: %w", err))
				return
			}
			for _, l := range ls {
				it := reviewItem{L: l}
				for _, ch := range popkit.DiffListingContent(l.Live, &l.Working) {
					it.Diff = append(it.Diff, diffRow{ch.Field, diffValue(ch.From), diffValue(ch.To)})
				}
				name, ok := events[l.EventID]
				if !ok && c.Events != nil {
					if ev, err := c.Events.FindEventByID(ctx, l.EventID); err == nil {
						name = ev.Name
					}
					events[l.EventID] = name
				}
				it.EventName = name
				items = append(items, it)
			}
			if next == "" {
				break
			}
			after = next
		}
	}
	p := h.page(r, "Review queue", "")
	p.NoIndex = true
	who := string(t.Role)
	if t.Name != "" {
		who = t.Name + " (" + who + ")"
	}
	h.renderStatus(w, r, http.StatusOK, "curator", struct {
		*pageData
		Who, CSRF, Flash string
		Items            []reviewItem
		Reasons          []popkit.RejectReason
	}{p, who, csrfToken(secret), flash, items, popkit.RejectReasons}, time.Time{})
}

// act handles the approve, publish and reject buttons. The form names the
// revision it was shown, so that a curator never approves a revision that
// changed after the page was loaded.
func (c *Curator) act(w http.ResponseWriter, r *http.Request, h *Handler) {
	t, ok := c.checkPost(w, r, h)
	if !ok {
		return
	}
	action := r.PathValue("action")
	if action != "approve" && action != "publish" && action != "reject" {
		h.notFound(w, r)
		return
	}
	rev, err := strconv.Atoi(r.PostForm.Get("revision"))
	if err != nil {
		h.badRequest(w, r, "The form names no revision.")
		return
	}
	ctx := popkit.NewContextWithToken(r.Context(), t)
	id := r.PathValue("id")
	l, err := c.Listings.FindListingByID(ctx, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if l.WorkingRevision != rev {
		h.message(w, r, http.StatusConflict, "Changed meanwhile", "The listing has a newer revision than the one you reviewed. Go back and reload the queue.")
		return
	}
	var steps []popkit.CurationStep
	switch action {
	case "approve":
		steps = []popkit.CurationStep{{Action: popkit.ActionApprove}, {Action: popkit.ActionPublish}}
	case "publish":
		steps = []popkit.CurationStep{{Action: popkit.ActionPublish}}
	case "reject":
		steps = []popkit.CurationStep{{Action: popkit.ActionReject, Reason: popkit.RejectReason(r.PostForm.Get("reason")), Note: r.PostForm.Get("note")}}
	}
	for _, st := range steps {
		if err := st.Validate(); err != nil {
			h.badRequest(w, r, "Choose a reason from the list (and keep the note under 2000 characters).")
			return
		}
		if _, err := c.Listings.CurateListing(ctx, id, st); err != nil {
			switch popkit.ErrorCode(err) {
			case popkit.ECONFLICT:
				h.message(w, r, http.StatusConflict, "Not possible", "That step does not fit the listing's state any more. Reload the queue.")
			case popkit.EINVALID:
				h.badRequest(w, r, popkit.ErrorMessage(err))
			default:
				h.fail(w, r, err)
			}
			return
		}
	}
	done := map[string]string{"approve": "approved and published", "publish": "published", "reject": "rejected"}[action]
	http.Redirect(w, r, "/curator?done="+url.QueryEscape(l.Working.Title+" "+done), http.StatusSeeOther)
}
