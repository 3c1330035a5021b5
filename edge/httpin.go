package edge

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler returns the agent's local HTTP interface: POST /v1/readings,
// GET /metrics and GET /healthz.
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/readings", a.postReadings)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		mqttState := "off"
		if a.mqtt != nil {
			mqttState = "connecting"
			if a.mqtt.subscribed.Load() && a.MQTTConnected() {
				mqttState = "subscribed"
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"status": "ok", "stream": a.Outbox.Stream(), "backlog": a.Outbox.Stats().Backlog, "mqtt": mqttState})
	})
	return mux
}

// problem is an RFC 9457 problem details body; Accepted and Errors are
// extension members of per-reading failures.
type problem struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail"`
	Accepted *int           `json:"accepted,omitempty"`
	Errors   []ReadingError `json:"errors,omitempty"`
}

func writeProblem(w http.ResponseWriter, p problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

// postReadings stores the valid readings of a JSON array or NDJSON body and
// answers 202 once they are durable. Invalid readings are listed by index
// in a 422 problem whose accepted member counts the stored ones.
//
// With an Idempotency-Key header, a sensor that lost the answer may resend:
// a request with the same key and the same body within a day is answered
// as the first was (202, or 422 for its invalid readings) with
// Idempotent-Replayed: true, and nothing is stored again, as the MQTT input
// does for a redelivered message. The outbox keeps an HMAC of key and body
// under the pseudonym key of the day, never the key itself.
func (a *Agent) postReadings(w http.ResponseWriter, r *http.Request) {
	key, err := readingsKey(r)
	if err != nil {
		writeProblem(w, problem{Type: "urn:popkit:problem:invalid", Title: "Invalid Idempotency-Key", Status: http.StatusBadRequest, Detail: err.Error()})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.Config.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeProblem(w, problem{Type: "urn:popkit:problem:too_large", Title: "Request too large", Status: http.StatusRequestEntityTooLarge,
				Detail: fmt.Sprintf("the body is over %d bytes; send smaller batches", mbe.Limit)})
			return
		}
		writeProblem(w, problem{Type: "urn:popkit:problem:invalid", Title: "Unreadable body", Status: http.StatusBadRequest, Detail: "could not read the body"})
		return
	}
	valid, _, errs, err := DecodeReadings(body, a.Now(), a.limits())
	if errors.Is(err, ErrTooManyReadings) {
		writeProblem(w, problem{Type: "urn:popkit:problem:too_large", Title: "Too many readings", Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("at most %d readings per request", a.limits().MaxReadings)})
		return
	}
	if err != nil {
		writeProblem(w, problem{Type: "urn:popkit:problem:invalid", Title: "Invalid body", Status: http.StatusBadRequest, Detail: err.Error()})
		return
	}
	seen := false
	if len(valid) > 0 {
		var once []byte
		if key != "" {
			k, _, err := a.keys.Pseudonym("http\x00"+key+"\x00"+string(body), a.Now())
			if err != nil {
				a.Logger.Error("readings key", "err", err)
				writeProblem(w, problem{Type: "urn:popkit:problem:unavailable", Title: "Not stored", Status: http.StatusServiceUnavailable, Detail: "the readings were not stored; retry"})
				return
			}
			once = []byte(k)
		}
		if seen, err = a.ingest(r.Context(), once, valid); err != nil {
			if errors.Is(err, ErrOutboxFull) {
				writeProblem(w, problem{Type: "urn:popkit:problem:outbox_full", Title: "Outbox full", Status: http.StatusInsufficientStorage, Detail: err.Error()})
				return
			}
			a.Logger.Error("store readings", "err", err)
			writeProblem(w, problem{Type: "urn:popkit:problem:unavailable", Title: "Not stored", Status: http.StatusServiceUnavailable, Detail: "the readings were not stored; retry"})
			return
		}
	}
	if seen {
		w.Header().Set("Idempotent-Replayed", "true")
	} else {
		a.reject(errs)
	}
	n := len(valid)
	if len(errs) > 0 {
		writeProblem(w, problem{Type: "urn:popkit:problem:invalid_readings", Title: "Invalid readings", Status: http.StatusUnprocessableEntity,
			Detail: fmt.Sprintf("%d readings were refused (see errors); the other %d are stored", len(errs), n), Accepted: &n, Errors: errs})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	json.NewEncoder(w).Encode(map[string]int{"accepted": n})
}

// maxReadingsKey bounds the length of an Idempotency-Key.
const maxReadingsKey = 255

// readingsKey returns the request's Idempotency-Key, or "" without one.
// As on the server's API, the key is 1 to 255 printable ASCII characters,
// sent bare or as a structured-field string ("...").
func readingsKey(r *http.Request) (string, error) {
	v, present := r.Header["Idempotency-Key"]
	if !present {
		return "", nil
	}
	k := ""
	if len(v) > 0 {
		k = v[0]
	}
	if len(k) >= 2 && k[0] == '"' && k[len(k)-1] == '"' {
		k = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(k[1 : len(k)-1])
	}
	ok := len(v) == 1 && len(k) > 0 && len(k) <= maxReadingsKey
	for i := 0; ok && i < len(k); i++ {
		ok = k[i] >= 0x20 && k[i] <= 0x7e
	}
	if !ok {
		return "", fmt.Errorf("Idempotency-Key must be one header of 1 to %d printable ASCII characters", maxReadingsKey)
	}
	return k, nil
}
