package popkit_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit"
)

func TestValidateWebhookURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://partner.example/hooks", true},
		{"http://10.0.0.5:8080/in?x=1", true},
		{"http://[::1]/", true},
		{"", false},
		{"ftp://partner.example/", false},
		{"/relative", false},
		{"https://", false},
		{"https://user:pw@partner.example/", false},
		{"javascript:alert(1)", false},
		{"https://partner.example/" + strings.Repeat("a", 2000), false},
	} {
		err := popkit.ValidateWebhookURL(tc.url)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateWebhookURL(%.40q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
		if err != nil && popkit.ErrorCode(err) != popkit.EINVALID {
			t.Errorf("code %s", popkit.ErrorCode(err))
		}
	}
}

func TestWebhookSecret(t *testing.T) {
	t.Parallel()
	a, b := popkit.NewWebhookSecret(), popkit.NewWebhookSecret()
	if a == b || !strings.HasPrefix(a, "whsec_") || len(popkit.WebhookSecretKey(a)) != 32 {
		t.Fatalf("secrets %q %q", a, b)
	}
	// A message signed with the decoded key verifies; with the other secret
	// it does not.
	now := time.Now()
	body := []byte(`{"type":"bundle.locked"}`)
	sig := popkit.SignWebhook(popkit.WebhookSecretKey(a), "msg_1", now, body)
	if err := popkit.VerifyWebhook(popkit.WebhookSecretKey(a), "msg_1", unix(now), sig, body, now); err != nil {
		t.Fatal(err)
	}
	if err := popkit.VerifyWebhook(popkit.WebhookSecretKey(b), "msg_1", unix(now), sig, body, now); err == nil {
		t.Fatal("verified under another secret")
	}
	if got := string(popkit.WebhookSecretKey("plain")); got != "plain" {
		t.Fatalf("WebhookSecretKey(plain) = %q", got)
	}
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
