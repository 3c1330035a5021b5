package popkit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// WebhookTolerance is how far a webhook's timestamp may be from the
// receiver's clock.
const WebhookTolerance = 5 * time.Minute

// SignWebhook returns the webhook-signature header value for a message in
// the Standard Webhooks scheme: "v1," followed by the base64 HMAC-SHA256
// under secret of "<id>.<timestamp>.<body>".
func SignWebhook(secret []byte, id string, ts time.Time, body []byte) string {
	return "v1," + webhookMAC(secret, id, strconv.FormatInt(ts.Unix(), 10), body)
}

func webhookMAC(secret []byte, id, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifyWebhook checks a Standard Webhooks message: the webhook-id,
// webhook-timestamp and webhook-signature header values and the raw body.
// The signature header may hold several space-separated signatures (during
// secret rotation); one valid v1 signature is enough. The timestamp must be
// within WebhookTolerance of now. It returns EUNAUTHORIZED otherwise.
func VerifyWebhook(secret []byte, id, timestamp, signature string, body []byte, now time.Time) error {
	if id == "" || len(id) > 200 || strings.ContainsAny(id, ". \r\n") {
		return Errorf(EUNAUTHORIZED, "webhook-id is missing or malformed")
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || strconv.FormatInt(ts, 10) != timestamp {
		return Errorf(EUNAUTHORIZED, "webhook-timestamp is missing or malformed")
	}
	at := time.Unix(ts, 0)
	if d := now.Sub(at); d > WebhookTolerance || d < -WebhookTolerance {
		return Errorf(EUNAUTHORIZED, "webhook-timestamp is outside the tolerance of %s", WebhookTolerance)
	}
	want := []byte(webhookMAC(secret, id, timestamp, body))
	for _, s := range strings.Fields(signature) {
		v, sig, ok := strings.Cut(s, ",")
		if ok && v == "v1" && hmac.Equal([]byte(sig), want) {
			return nil
		}
	}
	return Errorf(EUNAUTHORIZED, "webhook-signature does not match")
}
