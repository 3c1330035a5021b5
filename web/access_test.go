package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit"
)

// post sends a form with the given cookies, without following redirects.
func (f *fixture) post(path string, form url.Values, cookies []*http.Cookie, header ...string) *http.Response {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	must(f.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := noRedirect.Do(req)
	must(f.t, err)
	return res
}

func (f *fixture) getWith(path string, cookies []*http.Cookie) *http.Response {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	must(f.t, err)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	res, err := noRedirect.Do(req)
	must(f.t, err)
	return res
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestCurator(t *testing.T) {
	f := newFixture(t)
	ev := f.event("kaffee-days", "2026-05-01T10:00", "2026-05-01T18:00")
	l := f.listing(ev, f.content("Kaffee Days"), "published")
	title := "Kaffee Days, now with cake"
	_, err := f.db.UpdateListing(f.ctx, l.ID, popkit.ListingUpdate{Title: &title})
	must(t, err)
	f.curate(l.ID, popkit.ListingSubmitted)
	other := f.listing(f.event("other", "2026-05-02T10:00", "2026-05-02T18:00"), f.content("Other"), popkit.ListingSubmitted)

	curator, err := f.db.CreateToken(f.ctx, &popkit.Token{Role: popkit.RoleCurator, Name: "Cora"})
	must(t, err)
	brandTok, err := f.db.CreateToken(f.ctx, &popkit.Token{Role: popkit.RoleBrand, BrandID: f.brand.ID})
	must(t, err)

	t.Run("signed out", func(t *testing.T) {
		res := f.get("/curator")
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/curator/login" {
			t.Errorf("status %d location %q", res.StatusCode, res.Header.Get("Location"))
		}
	})
	for _, tc := range []struct {
		name, token string
		status      int
	}{
		{"brand token", brandTok, http.StatusForbidden},
		{"unknown token", "pk_" + strings.Repeat("A", 43), http.StatusUnauthorized},
		{"garbage", "<b>", http.StatusUnauthorized},
	} {
		t.Run("login "+tc.name, func(t *testing.T) {
			res := f.post("/curator/login", url.Values{"token": {tc.token}}, nil)
			b := body(t, res)
			if res.StatusCode != tc.status || len(res.Cookies()) != 0 {
				t.Errorf("status %d cookies %v\n%s", res.StatusCode, res.Cookies(), b)
			}
		})
	}

	res := f.post("/curator/login", url.Values{"token": {curator}}, nil)
	res.Body.Close()
	cookies := res.Cookies()
	if res.StatusCode != http.StatusSeeOther || len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("login: status %d cookies %+v", res.StatusCode, cookies)
	}
	page := body(t, f.getWith("/curator", cookies))
	for _, want := range []string{"Review queue", "Cora", "<del>Kaffee Days</del>", "<ins>Kaffee Days, now with cake</ins>", "Approve and publish", "off_brief", "Other"} {
		if !strings.Contains(page, want) {
			t.Errorf("queue page lacks %q", want)
		}
	}
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token in the page")
	}
	csrf := m[1]
	rev := func(l *popkit.Listing) string {
		got, err := f.db.FindListingByID(f.ctx, l.ID)
		must(t, err)
		return strconv.Itoa(got.WorkingRevision)
	}

	t.Run("approve without csrf", func(t *testing.T) {
		res := f.post("/curator/listings/"+l.ID+"/approve", url.Values{"revision": {rev(l)}}, cookies)
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("status %d, want 403", res.StatusCode)
		}
	})
	t.Run("approve cross-site", func(t *testing.T) {
		res := f.post("/curator/listings/"+l.ID+"/approve", url.Values{"revision": {rev(l)}, "csrf": {csrf}}, cookies, "Origin", "https://evil.example")
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("status %d, want 403", res.StatusCode)
		}
	})
	t.Run("reject without reason", func(t *testing.T) {
		res := f.post("/curator/listings/"+other.ID+"/reject", url.Values{"revision": {rev(other)}, "csrf": {csrf}}, cookies)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400", res.StatusCode)
		}
	})
	if b := body(t, f.get("/e/kaffee-days")); strings.Contains(b, "now with cake") {
		t.Fatal("revision shown before approval")
	}
	t.Run("approve", func(t *testing.T) {
		res := f.post("/curator/listings/"+l.ID+"/approve", url.Values{"revision": {rev(l)}, "csrf": {csrf}}, cookies)
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d, want 303", res.StatusCode)
		}
		if b := body(t, f.get("/e/kaffee-days")); !strings.Contains(b, "now with cake") {
			t.Error("approved revision is not live")
		}
		evs, err := f.db.FindCurationEvents(f.ctx, l.ID)
		must(t, err)
		last := evs[len(evs)-1]
		if last.Action != popkit.ActionPublish || last.ActorRole != popkit.RoleCurator {
			t.Errorf("last curation event %+v", last)
		}
	})
	t.Run("reject", func(t *testing.T) {
		res := f.post("/curator/listings/"+other.ID+"/reject", url.Values{"revision": {rev(other)}, "csrf": {csrf}, "reason": {"off_brief"}, "note": {"not our kind of thing"}}, cookies)
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d, want 303", res.StatusCode)
		}
		got, err := f.db.FindListingByID(f.ctx, other.ID)
		must(t, err)
		if got.State != popkit.ListingRejected || got.RejectReason != popkit.RejectOffBrief || got.RejectNote != "not our kind of thing" {
			t.Errorf("listing %s %s %q", got.State, got.RejectReason, got.RejectNote)
		}
	})
	t.Run("stale revision", func(t *testing.T) {
		res := f.post("/curator/listings/"+other.ID+"/approve", url.Values{"revision": {"99"}, "csrf": {csrf}}, cookies)
		res.Body.Close()
		if res.StatusCode != http.StatusConflict {
			t.Errorf("status %d, want 409", res.StatusCode)
		}
	})
}

func TestMemberLink(t *testing.T) {
	f := newFixture(t)
	tier := &popkit.Tier{Name: "Member", Slug: "member", EarlyAccess: 48 * time.Hour, Hold: 48 * time.Hour}
	must(t, f.db.CreateTier(f.ctx, tier))
	old := &popkit.Member{Email: "old@example.com", TierID: tier.ID, StartsAt: testNow.Add(-72 * time.Hour)}
	must(t, f.db.CreateMember(f.ctx, old))
	fresh := &popkit.Member{Email: "new@example.com", TierID: tier.ID, StartsAt: testNow.Add(-time.Hour)}
	must(t, f.db.CreateMember(f.ctx, fresh))
	ended := testNow.Add(-time.Minute)
	gone := &popkit.Member{Email: "gone@example.com", TierID: tier.ID, StartsAt: testNow.Add(-720 * time.Hour), EndsAt: &ended}
	must(t, f.db.CreateMember(f.ctx, gone))
	secret, err := f.db.Secret(f.ctx, popkit.SecretMemberLink)
	must(t, err)

	c := f.content("Early Kaffee")
	publicFrom := testNow.Add(24 * time.Hour)
	c.PublicFrom = &publicFrom
	f.listing(f.event("early", "2026-05-03T10:00", "2026-05-03T18:00"), c, "published")

	valid := popkit.SignMemberCode(secret, old.ID, testNow.Add(30*24*time.Hour))
	tests := []struct {
		name      string
		code      string
		cookie    bool // the link sets the member cookie
		seesEarly bool
	}{
		{"eligible member", valid, true, true},
		{"member in hold", popkit.SignMemberCode(secret, fresh.ID, testNow.Add(time.Hour)), true, false},
		{"bad signature", valid[:len(valid)-2] + "xx", false, false},
		{"expired link", popkit.SignMemberCode(secret, old.ID, testNow.Add(-time.Second)), false, false},
		{"ended membership", popkit.SignMemberCode(secret, gone.ID, testNow.Add(time.Hour)), false, false},
		{"other key", popkit.SignMemberCode([]byte("not the key"), old.ID, testNow.Add(time.Hour)), false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := f.get("/m/" + tc.code)
			res.Body.Close()
			var jar []*http.Cookie
			for _, ck := range res.Cookies() {
				if ck.Name == "pk_member" && ck.MaxAge >= 0 && ck.Value != "" {
					jar = append(jar, ck)
					if !ck.HttpOnly {
						t.Error("member cookie is not HttpOnly")
					}
				}
			}
			if (len(jar) == 1) != tc.cookie {
				t.Fatalf("cookies %v, want set=%v", res.Cookies(), tc.cookie)
			}
			if !tc.cookie {
				// A forged cookie set by hand shows the public view too.
				jar = []*http.Cookie{{Name: "pk_member", Value: tc.code}}
			}
			res = f.getWith("/e/early", jar)
			b := body(t, res)
			if got := res.StatusCode == 200; got != tc.seesEarly {
				t.Errorf("early listing status %d, want visible=%v", res.StatusCode, tc.seesEarly)
			}
			if tc.seesEarly && res.Header.Get("Cache-Control") != "private, max-age=0" {
				t.Errorf("member page Cache-Control %q", res.Header.Get("Cache-Control"))
			}
			home := body(t, f.getWith("/", jar))
			if strings.Contains(home, "Early Kaffee") != tc.seesEarly {
				t.Errorf("home shows early listing = %v, want %v", !tc.seesEarly, tc.seesEarly)
			}
			card := f.getWith("/member", jar)
			cb := body(t, card)
			if tc.cookie && (card.StatusCode != 200 || !strings.Contains(cb, "<svg") || !strings.Contains(cb, tc.code)) {
				t.Errorf("member card: status %d\n%s", card.StatusCode, cb)
			}
			if !tc.cookie && card.StatusCode != http.StatusSeeOther {
				t.Errorf("member card for the public: status %d", card.StatusCode)
			}
			if tc.seesEarly && !strings.Contains(b, "Early Kaffee") {
				t.Error("member does not see the early listing")
			}
		})
	}
	// Nobody without a cookie sees it, and the feeds never do early.
	for _, p := range []string{"/e/early", "/e/early/calendar.ics"} {
		if res := f.get(p); res.StatusCode != 404 {
			t.Errorf("%s public: status %d", p, res.StatusCode)
		}
	}
}

func TestNotify(t *testing.T) {
	f := newFixture(t)
	l := f.listing(f.event("kaffee-days", "2026-05-01T10:00", "2026-05-01T18:00"), f.content("Kaffee Days"), "published")
	tests := []struct {
		name, email, accept string
		status              int
		want                string
	}{
		{"plain post", "ana@example.com", "", 200, "You&#39;re on the list"},
		{"json", "ben@example.com", "application/json", 200, `"message"`},
		{"bad email", "not an email", "", 400, "valid email"},
		{"markup", "<script>@x", "", 400, "valid email"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := f.post("/e/kaffee-days/notify", url.Values{"email": {tc.email}}, nil, "Accept", tc.accept)
			b := body(t, res)
			if res.StatusCode != tc.status || !strings.Contains(b, tc.want) {
				t.Errorf("status %d body\n%s", res.StatusCode, b)
			}
		})
	}
	if res := f.post("/e/nope/notify", url.Values{"email": {"a@example.com"}}, nil); res.StatusCode != 404 {
		t.Errorf("unknown listing: status %d", res.StatusCode)
	}
	counts, err := f.db.FunnelCounts(f.ctx, l.ID, testNow.Add(-24*time.Hour), testNow.Add(24*time.Hour))
	must(t, err)
	if len(counts) != 1 || counts[0].Notifies != 2 {
		t.Errorf("funnel counts %+v, want 2 notifies", counts)
	}
}

func TestPageViewsCounted(t *testing.T) {
	f := newFixture(t)
	l := f.listing(f.event("kaffee-days", "2026-05-01T10:00", "2026-05-01T18:00"), f.content("Kaffee Days"), "published")
	for _, h := range [][]string{nil, nil, {"Sec-Purpose", "prefetch"}} {
		body(t, f.get("/e/kaffee-days", h...))
	}
	f.h.Wait()
	counts, err := f.db.FunnelCounts(f.ctx, l.ID, testNow.Add(-24*time.Hour), testNow.Add(24*time.Hour))
	must(t, err)
	if len(counts) != 1 || counts[0].Views != 2 || counts[0].Uniques != 1 {
		t.Errorf("funnel counts %+v, want 2 views by 1 visitor", counts)
	}
	for _, res := range []*http.Response{f.get("/e/kaffee-days")} {
		if len(res.Cookies()) != 0 {
			t.Errorf("page view counting set cookies %v", res.Cookies())
		}
		res.Body.Close()
	}
}

func TestMemberOnlySessions(t *testing.T) {
	f := newFixture(t)
	tier := &popkit.Tier{Name: "Patron", Slug: "patron", EarlyAccess: 48 * time.Hour, MemberOnlySessions: true, Hold: time.Hour}
	must(t, f.db.CreateTier(f.ctx, tier))
	m := &popkit.Member{Email: "pat@example.com", TierID: tier.ID, StartsAt: testNow.Add(-72 * time.Hour)}
	must(t, f.db.CreateMember(f.ctx, m))
	secret, err := f.db.Secret(f.ctx, popkit.SecretMemberLink)
	must(t, err)
	c := f.content("Preview night")
	c.MemberOnlySessions = []popkit.LocalTime{"2026-05-01T18:00"}
	f.listing(f.event("preview", "2026-05-01T18:00", "2026-05-01T21:00", "2026-05-02T10:00", "2026-05-02T18:00"), c, "published")

	jar := []*http.Cookie{{Name: "pk_member", Value: popkit.SignMemberCode(secret, m.ID, testNow.Add(time.Hour))}}
	tests := []struct {
		name    string
		cookies []*http.Cookie
		want    bool
	}{
		{"public", nil, false},
		{"member", jar, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := body(t, f.getWith("/e/preview", tc.cookies))
			if got := strings.Contains(b, "Fri 1 May 2026, 18:00–21:00"); got != tc.want {
				t.Errorf("member-only session shown = %v, want %v", got, tc.want)
			}
			if !strings.Contains(b, "Sat 2 May 2026, 10:00–18:00") {
				t.Error("the public session is missing")
			}
		})
	}
	if feed := body(t, f.get("/e/preview/calendar.ics")); strings.Contains(feed, "20260501T180000") {
		t.Error("the public feed shows the member-only session")
	}
}
