package http_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/popkit/popkit"
)

func listingBody(eventID string, brandIDs ...string) map[string]any {
	return map[string]any{
		"event_id": eventID, "title": "Night market", "summary": "Street food and records",
		"description": "Two evenings of food.", "brand_ids": brandIDs, "tags": []string{"food"},
		"images": []map[string]any{{"url": "https://img.example/a.jpg", "width": 800, "height": 600, "alt": "stalls"}},
		"price":  map[string]any{"min_minor": 500, "max_minor": 4000},
	}
}

// billingSecret returns the secret the server verifies billing webhooks
// with.
func billingSecret(e *env) []byte {
	e.tb.Helper()
	s, err := e.db.Secret(context.Background(), popkit.SecretBilling)
	if err != nil {
		e.tb.Fatal(err)
	}
	return s
}

// signed returns the Standard Webhooks headers for body, signed with
// secret at ts.
func signed(secret []byte, id string, ts time.Time, body string) []header {
	return []header{
		{"webhook-id", id},
		{"webhook-timestamp", strconv.FormatInt(ts.Unix(), 10)},
		{"webhook-signature", popkit.SignWebhook(secret, id, ts, []byte(body))},
	}
}

// discoveryScenario calls every discovery route successfully at least once;
// TestOpenAPIScenario runs it so that each answer is checked against the
// OpenAPI document.
func discoveryScenario(t *testing.T, e *env, w *world) {
	t.Helper()
	l := create[popkit.Listing](e, "/api/v1/listings", w.brand, listingBody(w.e1.ID, w.brandA.ID))
	lp := "/api/v1/listings/" + l.ID
	e.do("GET", "/api/v1/listings?state=draft&published=false", w.brand, nil).want(t, 200)
	e.do("GET", lp, w.curator, nil).want(t, 200)
	e.do("PATCH", lp, w.brand, map[string]any{"summary": "Food, records, late", "clear": []string{"price"}}).want(t, 200)
	e.do("POST", lp+"/curation", w.brand, map[string]any{"action": "submit"}).want(t, 200)
	e.do("POST", lp+"/curation", w.curator, map[string]any{"action": "approve", "note": "nice"}).want(t, 200)
	e.do("POST", lp+"/curation", w.curator, map[string]any{"action": "publish"}).want(t, 200)
	e.do("POST", lp+"/curation", w.curator, map[string]any{"action": "publish"}).want(t, 409)
	e.do("GET", lp+"/curation", w.brand, nil).want(t, 200)
	e.do("GET", lp+"/diff", w.curator, nil).want(t, 200)
	e.do("GET", "/api/v1/listings?visible_at=2026-01-01T00:00:00Z&city="+w.city.ID, w.curator, nil).want(t, 200)
	e.do("POST", lp+"/notify", "", map[string]any{"email": "fan@example.com", "consent": true}).want(t, 202)
	e.do("GET", lp+"/funnel?from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z", w.curator, nil).want(t, 200)

	tier := create[popkit.Tier](e, "/api/v1/tiers", "", map[string]any{"name": "Member", "slug": "member", "early_access_hours": 48, "member_only_sessions": true})
	e.do("GET", "/api/v1/tiers", w.curator, nil).want(t, 200)
	e.do("GET", "/api/v1/tiers/"+tier.ID, w.curator, nil).want(t, 200)
	e.do("PATCH", "/api/v1/tiers/"+tier.ID, e.admin, map[string]any{"hold_hours": 24}).want(t, 200)
	m := create[popkit.Member](e, "/api/v1/members", "", map[string]any{"email": "m@example.com", "tier_id": tier.ID, "external_ref": "sub_0"})
	e.do("GET", "/api/v1/members?status=active&tier_id="+tier.ID, e.admin, nil).want(t, 200)
	e.do("GET", "/api/v1/members/"+m.ID, e.admin, nil).want(t, 200)
	e.do("PATCH", "/api/v1/members/"+m.ID, e.admin, map[string]any{"email": "m2@example.com"}).want(t, 200)
	link := decodeAs[struct {
		Code string `json:"code"`
		Path string `json:"path"`
	}](t, e.do("POST", "/api/v1/members/"+m.ID+"/link", e.admin, nil).want(t, 201))
	if link.Path != "/m/"+link.Code {
		t.Fatalf("link path %q for code %q", link.Path, link.Code)
	}
	e.do("POST", "/api/v1/checkins", w.device, map[string]any{"code": link.Code, "source": "door"}).want(t, 201)

	body := `{"type":"subscription.created","subscription_id":"sub_1","email":"new@example.com","tier":"member"}`
	e.do("POST", "/api/v1/webhooks/billing", "", body, signed(billingSecret(e), "msg_1", time.Now(), body)...).want(t, 200)
}

func TestListingBrandIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	brandB := e.newToken(map[string]any{"role": "brand", "brand_id": w.brandB.ID})
	// e2 has only brand A: B's token must not see or touch its listing.
	l := create[popkit.Listing](e, "/api/v1/listings", w.brand, listingBody(w.e2.ID, w.brandA.ID))
	lp := "/api/v1/listings/" + l.ID
	tests := []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"other brand reads draft", "GET", lp, brandB, nil, 404},
		{"other brand edits draft", "PATCH", lp, brandB, map[string]any{"title": "mine"}, 404},
		{"other brand submits", "POST", lp + "/curation", brandB, map[string]any{"action": "submit"}, 404},
		{"other brand reads log", "GET", lp + "/curation", brandB, nil, 404},
		{"other brand reads diff", "GET", lp + "/diff", brandB, nil, 404},
		{"other brand creates for foreign event", "POST", "/api/v1/listings", brandB, listingBody(w.e2.ID, w.brandA.ID), 403},
		{"other brand filters by foreign brand", "GET", "/api/v1/listings?brand_id=" + w.brandA.ID, brandB, nil, 403},
		{"brand approves", "POST", lp + "/curation", w.brand, map[string]any{"action": "approve"}, 403},
		{"curator submits", "POST", lp + "/curation", w.curator, map[string]any{"action": "submit"}, 403},
		{"curator drafts", "POST", "/api/v1/listings", w.curator, listingBody(w.e1.ID), 403},
		{"device reads", "GET", lp, w.device, nil, 403},
		{"curator approves a draft", "POST", lp + "/curation", w.curator, map[string]any{"action": "approve"}, 409},
		{"reject reason off the list", "POST", lp + "/curation", w.curator, map[string]any{"action": "reject", "reason": "ugly"}, 400},
		{"owner reads", "GET", lp, w.brand, nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.with(t).do(tt.method, tt.path, tt.token, tt.body).want(t, tt.want)
		})
	}
	t.Run("other brand's list hides it", func(t *testing.T) {
		got := decodeAs[listBody[popkit.Listing]](t, e.with(t).do("GET", "/api/v1/listings", brandB, nil).want(t, 200))
		if len(got.Items) != 0 {
			t.Fatalf("brand B lists %d listings, want 0", len(got.Items))
		}
	})
	t.Run("nothing changed", func(t *testing.T) {
		got := decodeAs[popkit.Listing](t, e.with(t).do("GET", lp, e.admin, nil).want(t, 200))
		if got.State != popkit.ListingDraft || got.Working.Title != "Night market" {
			t.Fatalf("listing changed by refused calls: %s %q", got.State, got.Working.Title)
		}
	})
}

func TestListingRevisionAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	l := create[popkit.Listing](e, "/api/v1/listings", w.brand, listingBody(w.e1.ID, w.brandA.ID))
	lp := "/api/v1/listings/" + l.ID
	for _, step := range []struct{ token, action string }{{w.brand, "submit"}, {w.curator, "approve"}, {w.curator, "publish"}} {
		e.do("POST", lp+"/curation", step.token, map[string]any{"action": step.action}).want(t, 200)
	}
	e.do("PATCH", lp, w.brand, map[string]any{"title": "Night market II"}).want(t, 200)
	e.do("POST", lp+"/curation", w.brand, map[string]any{"action": "submit"}).want(t, 200)
	diff := decodeAs[struct {
		Live    int                    `json:"live_revision"`
		Working int                    `json:"working_revision"`
		Changes []popkit.ListingChange `json:"changes"`
	}](t, e.do("GET", lp+"/diff", w.curator, nil).want(t, 200))
	if diff.Live != 1 || diff.Working != 2 || len(diff.Changes) != 1 || diff.Changes[0].Field != "title" {
		t.Fatalf("diff = %+v", diff)
	}
	pub := decodeAs[listBody[popkit.Listing]](t, e.do("GET", "/api/v1/listings?visible_at="+time.Now().UTC().Format(time.RFC3339), w.curator, nil).want(t, 200))
	if len(pub.Items) != 1 || pub.Items[0].Live == nil || pub.Items[0].Live.Title != "Night market" {
		t.Fatalf("public view during review: %+v", pub.Items)
	}
	e.do("POST", lp+"/curation", w.curator, map[string]any{"action": "reject", "reason": "inaccurate", "note": "wrong date"}).want(t, 200)
	log := decodeAs[listBody[popkit.CurationEvent]](t, e.do("GET", lp+"/curation", w.curator, nil).want(t, 200))
	last := log.Items[len(log.Items)-1]
	if last.Action != popkit.ActionReject || last.ActorRole != popkit.RoleCurator || last.Reason != popkit.RejectInaccurate || last.Note != "wrong date" {
		t.Fatalf("last log entry = %+v", last)
	}
	// Unpublished listings take no sign-ups.
	draft := create[popkit.Listing](e, "/api/v1/listings", w.brand, listingBody(w.e2.ID, w.brandA.ID))
	e.do("POST", "/api/v1/listings/"+draft.ID+"/notify", "", map[string]any{"email": "fan@example.com", "consent": true}).want(t, 404)
	e.do("POST", lp+"/notify", "", map[string]any{"email": "fan@example.com", "consent": false}).want(t, 400)
}

func TestBillingWebhook(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	create[popkit.Tier](e, "/api/v1/tiers", "", map[string]any{"name": "Member", "slug": "member", "early_access_hours": 48})
	secret := billingSecret(e)
	created := `{"type":"subscription.created","subscription_id":"sub_1","email":"a@example.com","tier":"member"}`
	cancelled := `{"type":"subscription.cancelled","subscription_id":"sub_1"}`
	now := time.Now()
	members := func(t *testing.T) []popkit.Member {
		return decodeAs[listBody[popkit.Member]](t, e.with(t).do("GET", "/api/v1/members", e.admin, nil).want(t, 200)).Items
	}
	tests := []struct {
		name    string
		body    string
		headers []header
		want    int
		status  popkit.MemberStatus // of sub_1 afterwards; "" for no member
	}{
		{"bad signature", created, signed([]byte("wrong secret"), "msg_1", now, created), 401, ""},
		{"no headers", created, nil, 401, ""},
		{"stale timestamp", created, signed(secret, "msg_1", now.Add(-6*time.Minute), created), 401, ""},
		{"body swapped after signing", cancelled, signed(secret, "msg_1", now, created), 401, ""},
		{"valid", created, signed(secret, "msg_1", now, created), 200, popkit.MemberActive},
		{"replay", created, signed(secret, "msg_1", now, created), 409, popkit.MemberActive},
		{"replayed id with another body", cancelled, signed(secret, "msg_1", now, cancelled), 409, popkit.MemberActive},
		{"unknown tier", `{"type":"subscription.created","subscription_id":"sub_2","email":"b@example.com","tier":"gold"}`,
			signed(secret, "msg_2", now, `{"type":"subscription.created","subscription_id":"sub_2","email":"b@example.com","tier":"gold"}`), 422, popkit.MemberActive},
		{"malformed body", `{"type":1}`, signed(secret, "msg_3", now, `{"type":1}`), 400, popkit.MemberActive},
		{"cancel", cancelled, signed(secret, "msg_4", now, cancelled), 200, popkit.MemberCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.with(t).do("POST", "/api/v1/webhooks/billing", "", tt.body, tt.headers...).want(t, tt.want)
			ms := members(t)
			switch {
			case tt.status == "" && len(ms) != 0:
				t.Fatalf("a refused webhook created %d members", len(ms))
			case tt.status != "" && (len(ms) != 1 || ms[0].Status != tt.status):
				t.Fatalf("members = %+v, want one %s", ms, tt.status)
			}
		})
	}
}

func TestCheckins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := newWorld(e)
	tier := create[popkit.Tier](e, "/api/v1/tiers", "", map[string]any{"name": "Member", "slug": "member"})
	m := create[popkit.Member](e, "/api/v1/members", "", map[string]any{"email": "m@example.com", "tier_id": tier.ID})
	code := decodeAs[struct {
		Code string `json:"code"`
	}](t, e.do("POST", "/api/v1/members/"+m.ID+"/link", e.admin, nil).want(t, 201)).Code
	tests := []struct {
		name, token string
		body        map[string]any
		want        int
	}{
		{"device at own event", w.device, map[string]any{"code": code}, 201},
		{"device at another event", w.device, map[string]any{"code": code, "event_id": w.e2.ID}, 403},
		{"forged code", w.device, map[string]any{"code": m.ID + ".9999999999.AAAA"}, 422},
		{"garbage code", w.device, map[string]any{"code": "<script>"}, 422},
		{"admin without event", e.admin, map[string]any{"code": code}, 400},
		{"admin at event", e.admin, map[string]any{"code": code, "event_id": w.e2.ID, "source": "pos"}, 201},
		{"bad source", e.admin, map[string]any{"code": code, "event_id": w.e2.ID, "source": "laser"}, 400},
		{"brand", w.brand, map[string]any{"code": code}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.with(t).do("POST", "/api/v1/checkins", tt.token, tt.body).want(t, tt.want)
		})
	}
	e.do("PATCH", "/api/v1/members/"+m.ID, e.admin, map[string]any{"status": "cancelled"}).want(t, 200)
	e.do("POST", "/api/v1/checkins", w.device, map[string]any{"code": code}).want(t, 409)
}

// FuzzListingBody sends arbitrary bodies to the listing decoder (create and
// patch): never a 5xx, and a created listing reads back as stored.
func FuzzListingBody(f *testing.F) {
	e, w := fuzzEnv(f)
	l := create[popkit.Listing](e, "/api/v1/listings", w.brand, listingBody(w.e1.ID, w.brandA.ID))
	f.Add(mustJSON(listingBody(w.e2.ID, w.brandA.ID)))
	f.Add(`{"title":"</script><script>alert(1)</script>","summary":"\"\n","event_id":"` + w.e2.ID + `"}`)
	f.Add(`{"members_from":"2026-13-01T00:00:00Z"}`)
	f.Add(`{"clear":["price","nope"]}`)
	f.Add(`{"images":[{"url":"javascript:x","width":-1}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		e := e.with(t)
		res := e.do("POST", "/api/v1/listings", e.admin, body)
		wantProblem(t, res)
		if res.Status == http.StatusCreated {
			got := decodeAs[popkit.Listing](t, res)
			again := decodeAs[popkit.Listing](t, e.do("GET", "/api/v1/listings/"+got.ID, e.admin, nil).want(t, 200))
			if fmt.Sprint(popkit.DiffListingContent(&got.Working, &again.Working)) != "[]" {
				t.Fatalf("stored content differs from the answer: %v", popkit.DiffListingContent(&got.Working, &again.Working))
			}
		}
		wantProblem(t, e.do("PATCH", "/api/v1/listings/"+l.ID, e.admin, body))
	})
}

// publicRefusals are the answers of public routes that check their own
// input to an empty body with random ids: the notify-me form wants consent,
// and the billing webhook a signature.
var publicRefusals = map[string]int{
	"POST /api/v1/listings/{id}/notify": http.StatusBadRequest,
	"POST /api/v1/webhooks/billing":     http.StatusUnauthorized,
}
