package edge

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit/edge/edgetest"
)

// postKeyed sends body to the readings endpoint with an Idempotency-Key
// (none when key is empty) and returns the status and the
// Idempotent-Replayed header.
func postKeyed(t *testing.T, a *Agent, key, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+a.Addr()+"/v1/readings", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post readings: %v", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Idempotent-Replayed")
}

// TestReadingsIdempotencyKey: a sensor that lost its 202 and resends the
// same request with its Idempotency-Key is counted once; the same key with
// another body is another request; a bad key is refused whole.
func TestReadingsIdempotencyKey(t *testing.T) {
	t.Parallel()
	f := newFakeIngest(t)
	a := startAgent(t, testConfig(t, f.srv.URL))
	m := time.Now().UTC().Truncate(time.Minute).Add(-3 * time.Minute)
	body1, in1 := edgetest.FootfallJSON("door", m, 10)
	body2, in2 := edgetest.FootfallJSON("door", m.Add(20*time.Second), 4)

	if code, replayed := postKeyed(t, a, "req-1", body1); code != http.StatusAccepted || replayed != "" {
		t.Fatalf("first post = %d, replayed %q", code, replayed)
	}
	for _, key := range []string{"req-1", `"req-1"`} { // bare and structured-field string
		if code, replayed := postKeyed(t, a, key, body1); code != http.StatusAccepted || replayed != "true" {
			t.Fatalf("resend with key %s = %d, replayed %q; want 202 replayed", key, code, replayed)
		}
	}
	if code, replayed := postKeyed(t, a, "req-1", body2); code != http.StatusAccepted || replayed != "" {
		t.Fatalf("same key, other body = %d, replayed %q; want 202 stored", code, replayed)
	}
	for _, bad := range []string{"ké", `""`, strings.Repeat("k", 256)} {
		if code, _ := postKeyed(t, a, bad, body2); code != http.StatusBadRequest {
			t.Errorf("key %q = %d, want 400", bad, code)
		}
	}

	waitFor(t, 10*time.Second, "readings at the server", func() bool {
		return f.footfallIn()["door"] >= in1+in2 && a.Outbox.Stats().Backlog == 0
	})
	if got := f.footfallIn()["door"]; got != in1+in2 {
		t.Errorf("server counts %d entries, want %d (each request once)", got, in1+in2)
	}
	if got := metric(t, a, "popkit_edge_readings_accepted_total", `class="footfall"`); got != 14 {
		t.Errorf("accepted readings = %v, want 14", got)
	}
}
