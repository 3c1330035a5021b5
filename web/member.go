package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/popkit/popkit"
)

// MemberCookie is the cookie a member link sets. It holds the signed member
// code (popkit.SignMemberCode), which proves nothing but that the server
// issued it; the membership is looked up on every request.
const MemberCookie = "pk_member"

// Members resolves member links to viewers.
type Members struct {
	Members popkit.MemberService
	Tiers   popkit.TierService
	Secrets popkit.SecretService

	mu     sync.Mutex
	secret []byte
}

func (m *Members) key(ctx context.Context) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.secret != nil {
		return m.secret, nil
	}
	s, err := m.Secrets.Secret(ctx, popkit.SecretMemberLink)
	if err != nil {
		return nil, fmt.Errorf("member link secret: %w", err)
	}
	m.secret = s
	return s, nil
}

// viewer returns the viewer of a member code at now. A forged or expired
// code, an unknown member or a membership not in force is an error: the
// caller shows the public view.
func (m *Members) viewer(ctx context.Context, code string, now time.Time) (popkit.Viewer, error) {
	key, err := m.key(ctx)
	if err != nil {
		return popkit.Viewer{}, err
	}
	id, err := popkit.VerifyMemberCode(key, code, now)
	if err != nil {
		return popkit.Viewer{}, err
	}
	mem, err := m.Members.FindMemberByID(ctx, id)
	if err != nil {
		return popkit.Viewer{}, fmt.Errorf("find member: %w", err)
	}
	if !mem.Active(now) {
		return popkit.Viewer{}, popkit.Errorf(popkit.EUNAUTHORIZED, "membership is not active")
	}
	tier, err := m.Tiers.FindTierByID(ctx, mem.TierID)
	if err != nil {
		return popkit.Viewer{}, fmt.Errorf("find tier: %w", err)
	}
	return popkit.Viewer{Member: mem, Tier: tier}, nil
}

// visitor is who is looking at a page: the public, or a member.
type visitor struct {
	popkit.Viewer
	Code string // the member code, for the QR card
}

func (v visitor) member() bool { return v.Member != nil }

// visitorOf reads the member cookie. Anything wrong with it yields the
// public view.
func (h *Handler) visitorOf(r *http.Request) visitor {
	c, err := r.Cookie(MemberCookie)
	if err != nil || c.Value == "" || h.Members == nil {
		return visitor{}
	}
	vw, err := h.Members.viewer(r.Context(), c.Value, h.now())
	if err != nil {
		return visitor{}
	}
	return visitor{Viewer: vw, Code: c.Value}
}

func clearMemberCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: MemberCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// memberLink handles GET /m/{code}: a valid link for a membership in force
// sets the member cookie (HttpOnly, until the code expires) and shows the
// member card; anything else clears the cookie and shows the public home.
func (h *Handler) memberLink(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	w.Header().Set("Cache-Control", "no-store")
	if h.Members == nil {
		h.notFound(w, r)
		return
	}
	now := h.now()
	if _, err := h.Members.viewer(r.Context(), code, now); err != nil {
		clearMemberCookie(w)
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	c := &http.Cookie{Name: MemberCookie, Value: code, Path: "/", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode}
	if exp, ok := codeExpiry(code); ok {
		c.Expires = exp
	}
	http.SetCookie(w, c)
	http.Redirect(w, r, "/member", http.StatusSeeOther)
}

// codeExpiry reads the expiry of a verified member code.
func codeExpiry(code string) (time.Time, bool) {
	parts := strings.Split(code, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(sec, 0), true
}

// memberCard handles GET /member: the member's code as a QR code that the
// edge point of sale scans (or types) at the door.
func (h *Handler) memberCard(w http.ResponseWriter, r *http.Request) {
	v := h.visitorOf(r)
	w.Header().Set("Cache-Control", "private, no-store")
	if !v.member() {
		clearMemberCookie(w)
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	svg, err := qrSVG(v.Code)
	if err != nil {
		h.serverError(w, r, fmt.Errorf("member qr: %w", err))
		return
	}
	p := h.page(r, "Your membership", "")
	p.Member = true
	p.NoIndex = true
	h.render(w, r, "member", struct {
		*pageData
		QR   any
		Code string
		Tier string
	}{p, svg, v.Code, v.Tier.Name}, time.Time{})
}
