package http_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// fulfillerToken returns the secret of a new fulfiller token for node.
func fulfillerToken(tb testing.TB, db *sqlstore.DB, node string) string {
	tb.Helper()
	secret, err := db.CreateToken(context.Background(), &popkit.Token{Name: "partner", Role: popkit.RoleFulfiller, NodeID: node})
	if err != nil {
		tb.Fatal(err)
	}
	return secret
}

func TestWebhookEndpointRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := sqlstoretest.PartnerNode(t, e.db), sqlstoretest.PartnerNode(t, e.db)
	fa := fulfillerToken(t, e.db, a)

	e.do("GET", "/api/v1/nodes/"+a+"/webhook", e.admin, nil).want(t, 404)
	res := e.do("PUT", "/api/v1/nodes/"+a+"/webhook", e.admin, map[string]string{"url": "https://partner.example/hooks"}).want(t, 200)
	var created popkit.WebhookEndpoint
	if err := json.Unmarshal(res.Body, &created); err != nil || !strings.HasPrefix(created.Secret, "whsec_") || len(popkit.WebhookSecretKey(created.Secret)) != 32 {
		t.Fatalf("PUT answered %s (%v), want a whsec_ secret", res.Body, err)
	}
	for _, tok := range []string{e.admin, fa} {
		res = e.do("GET", "/api/v1/nodes/"+a+"/webhook", tok, nil).want(t, 200)
		if strings.Contains(string(res.Body), "secret") || !strings.Contains(string(res.Body), "https://partner.example/hooks") {
			t.Fatalf("GET answered %s, want the URL and no secret", res.Body)
		}
	}
	// A fulfiller sees only its own node; only admins set endpoints.
	e.do("PUT", "/api/v1/nodes/"+b+"/webhook", e.admin, map[string]string{"url": "http://10.0.0.5:8080/in"}).want(t, 200)
	e.do("GET", "/api/v1/nodes/"+b+"/webhook", fa, nil).want(t, 404)
	e.do("PUT", "/api/v1/nodes/"+a+"/webhook", fa, map[string]string{"url": "https://evil.example/"}).want(t, 403)

	// Bad input is a 400 problem naming the field; unknown nodes are 404.
	for _, body := range []any{
		map[string]string{"url": "ftp://partner.example/"},
		map[string]string{"url": "not a url"},
		map[string]string{"url": ""},
		map[string]any{"url": "https://x.example/", "secret": "mine"},
		`{"url": 5}`,
	} {
		p := e.do("PUT", "/api/v1/nodes/"+a+"/webhook", e.admin, body).want(t, 400).problem(t)
		if p.Code != popkit.EINVALID {
			t.Fatalf("body %v: problem %+v", body, p)
		}
	}
	e.do("PUT", "/api/v1/nodes/"+popkit.NewID()+"/webhook", e.admin, map[string]string{"url": "https://x.example/"}).want(t, 404)
	e.do("PUT", "/api/v1/nodes/nope/webhook", e.admin, map[string]string{"url": "https://x.example/"}).want(t, 404)
}

func TestWebhookDeliveryRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a, b := sqlstoretest.PartnerNode(t, e.db), sqlstoretest.PartnerNode(t, e.db)
	fa := fulfillerToken(t, e.db, a)
	for _, n := range []string{a, b} {
		e.do("PUT", "/api/v1/nodes/"+n+"/webhook", e.admin, map[string]string{"url": "https://partner.example/hooks"}).want(t, 200)
		if err := e.db.NotifyNode(ctx, n, popkit.WebhookFulfilmentOrderCreated, map[string]string{"node": n}); err != nil {
			t.Fatal(err)
		}
	}
	type page struct {
		Items []popkit.WebhookDelivery `json:"items"`
	}
	list := func(path, tok string) page {
		t.Helper()
		var p page
		if err := json.Unmarshal(e.do("GET", path, tok, nil).want(t, 200).Body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := list("/api/v1/webhook-deliveries", e.admin); len(p.Items) != 2 {
		t.Fatalf("admin sees %d deliveries, want 2", len(p.Items))
	}
	if p := list("/api/v1/webhook-deliveries?status=pending&node_id="+b, e.admin); len(p.Items) != 1 || p.Items[0].NodeID != b {
		t.Fatalf("filtered: %+v", p.Items)
	}
	if p := list("/api/v1/webhook-deliveries", fa); len(p.Items) != 1 || p.Items[0].NodeID != a {
		t.Fatalf("fulfiller sees %+v, want only its node's", p.Items)
	}
	if p := list("/api/v1/webhook-deliveries?status=delivered", fa); len(p.Items) != 0 {
		t.Fatalf("delivered: %+v", p.Items)
	}
	e.do("GET", "/api/v1/webhook-deliveries?node_id="+b, fa, nil).want(t, 403)
	e.do("GET", "/api/v1/webhook-deliveries?status=lost", e.admin, nil).want(t, 400)
	e.do("GET", "/api/v1/webhook-deliveries?node_id=x", e.admin, nil).want(t, 400)
}

// webhooksScenario calls every webhook route for TestOpenAPIScenario.
func webhooksScenario(t *testing.T, e *env) {
	t.Helper()
	node := sqlstoretest.PartnerNode(t, e.db)
	e.do("PUT", "/api/v1/nodes/"+node+"/webhook", e.admin, map[string]string{"url": "https://partner.example/hooks"}).want(t, 200)
	e.do("GET", "/api/v1/nodes/"+node+"/webhook", fulfillerToken(t, e.db, node), nil).want(t, 200)
	if err := e.db.NotifyNode(context.Background(), node, popkit.WebhookBundleLocked, map[string]string{"id": "b"}); err != nil {
		t.Fatal(err)
	}
	e.do("GET", "/api/v1/webhook-deliveries?node_id="+node+"&status=pending&limit=5", e.admin, nil).want(t, 200)
	e.do("PUT", "/api/v1/nodes/"+node+"/webhook", e.admin, map[string]string{"url": "gopher://x"}).want(t, 400)
}

// FuzzWebhookEndpointBody sends arbitrary bodies to PUT
// /api/v1/nodes/{id}/webhook: the answer is 200 with an http(s) URL stored,
// or a 4xx problem; never a 5xx (e.do fails the test on one).
func FuzzWebhookEndpointBody(f *testing.F) {
	e := newEnv(f)
	node := sqlstoretest.PartnerNode(f, e.db)
	for _, s := range []string{`{"url":"https://partner.example/hooks"}`, `{"url":"http://[::1]:8080/x?y=1#z"}`, `{"url":""}`,
		`{"url":"ftp://x"}`, `{"url":null}`, `{"url":"https://x.example","extra":1}`, `[]`, `{"url":"https://\u0000x"}`, `{"url":"https://%zz"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		e := e.with(t)
		res := e.do("PUT", "/api/v1/nodes/"+node+"/webhook", e.admin, body)
		switch {
		case res.Status == 200:
			var got popkit.WebhookEndpoint
			if err := json.Unmarshal(res.Body, &got); err != nil || popkit.ValidateWebhookURL(got.URL) != nil {
				t.Fatalf("stored %s (%v)", res.Body, err)
			}
		case res.Status >= 400 && res.Status < 500:
			res.problem(t)
		default:
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
	})
}
