package edge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/popkit/popkit/edge/edgetest"
)

var decodeNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func TestDecodeReadings(t *testing.T) {
	t.Parallel()
	ts := `"2026-05-01T11:59:00Z"`
	tests := []struct {
		name    string
		body    string
		valid   int
		errIdx  []int
		reasons []string // substrings of the errors, in order
		bodyErr bool
	}{
		{"array", `[{"type":"footfall","sensor":"d","ts":` + ts + `,"in":1}]`, 1, nil, nil, false},
		{"ndjson", "{\"type\":\"occupancy\",\"sensor\":\"f\",\"ts\":" + ts + ",\"count\":3}\n\n{\"type\":\"queue\",\"sensor\":\"q\",\"ts\":" + ts + ",\"length\":2}\n", 2, nil, nil, false},
		{"every type", `[{"type":"footfall","sensor":"d","ts":` + ts + `,"out":1},{"type":"occupancy","sensor":"o","ts":` + ts + `,"count":0},{"type":"queue","sensor":"q","ts":` + ts + `,"length":1.5,"open_tills":2},{"type":"presence","sensor":"b","ts":` + ts + `,"id":"x","action":"exit"},{"type":"temperature","sensor":"t","ts":` + ts + `,"celsius":-18.5},{"type":"energy","sensor":"m","ts":` + ts + `,"kwh":12.5}]`, 6, nil, nil, false},
		{"wrong type", `[{"type":"footfall","sensor":"d","ts":` + ts + `,"in":"three"},{"type":"footfall","sensor":"d","ts":` + ts + `,"in":1}]`, 1, []int{0}, []string{"field in: must be a number"}, false},
		{"unknown type", `[{"type":"humidity","sensor":"d","ts":` + ts + `}]`, 0, []int{0}, []string{"not one of"}, false},
		{"unknown field", `[{"type":"footfall","sensor":"d","ts":` + ts + `,"in":1,"colour":"red"}]`, 0, []int{0}, []string{"unknown field"}, false},
		{"field of another type", `[{"type":"footfall","sensor":"d","ts":` + ts + `,"in":1,"celsius":3}]`, 0, []int{0}, []string{"not allowed in footfall"}, false},
		{"missing field", `[{"type":"temperature","sensor":"d","ts":` + ts + `}]`, 0, []int{0}, []string{"field celsius: required"}, false},
		{"future dated", `[{"type":"footfall","sensor":"d","ts":"2026-05-01T12:30:00Z","in":1},{"type":"footfall","sensor":"d","ts":` + ts + `,"in":1}]`, 1, []int{0}, []string{"ahead of the agent clock"}, false},
		{"too old", `[{"type":"footfall","sensor":"d","ts":"2026-01-01T00:00:00Z","in":1}]`, 0, []int{0}, []string{"older than the retention"}, false},
		{"duplicated", `[{"type":"footfall","sensor":"d","ts":` + ts + `,"in":1},{"type":"footfall","sensor":"d","ts":` + ts + `,"in":2}]`, 1, []int{1}, []string{"duplicate of reading 0"}, false},
		{"oversized reading", `[{"type":"presence","sensor":"d","ts":` + ts + `,"id":"` + strings.Repeat("x", 5000) + `","action":"enter"}]`, 0, []int{0}, []string{"over the limit"}, false},
		{"negative count", `[{"type":"footfall","sensor":"d","ts":` + ts + `,"in":-1}]`, 0, []int{0}, []string{"must be 0 to"}, false},
		{"bad sensor", `[{"type":"footfall","sensor":"a b","ts":` + ts + `,"in":1}]`, 0, []int{0}, []string{"field sensor"}, false},
		{"bad time", `[{"type":"footfall","sensor":"d","ts":"yesterday","in":1}]`, 0, []int{0}, []string{"field ts"}, false},
		{"not an object", `[1,{"type":"footfall","sensor":"d","ts":` + ts + `,"in":1}]`, 1, []int{0}, []string{"must be a JSON object"}, false},
		{"truncated array keeps the valid prefix", `[{"type":"footfall","sensor":"d","ts":` + ts + `,"in":1},{"type":"foo`, 1, []int{1}, []string{"malformed JSON"}, false},
		{"malformed ndjson line", "{\"type\":\"footfall\",\"sensor\":\"d\",\"ts\":" + ts + ",\"in\":1}\n{oops\n", 1, []int{1}, []string{"invalid JSON"}, false},
		{"empty", "  ", 0, nil, nil, true},
		{"not json", "hello", 0, nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			valid, _, errs, err := DecodeReadings([]byte(tt.body), decodeNow, DefaultLimits)
			if (err != nil) != tt.bodyErr {
				t.Fatalf("body error = %v, want error %v", err, tt.bodyErr)
			}
			if len(valid) != tt.valid {
				t.Errorf("valid = %d, want %d (errors %v)", len(valid), tt.valid, errs)
			}
			if len(errs) != len(tt.errIdx) {
				t.Fatalf("errors = %v, want at indexes %v", errs, tt.errIdx)
			}
			for i, e := range errs {
				if e.Index != tt.errIdx[i] || !strings.Contains(e.Reason, tt.reasons[i]) {
					t.Errorf("error %d = %+v, want index %d with %q", i, e, tt.errIdx[i], tt.reasons[i])
				}
			}
		})
	}
	t.Run("too many", func(t *testing.T) {
		lim := DefaultLimits
		lim.MaxReadings = 2
		body, _ := edgetest.FootfallJSON("d", decodeNow.Add(-time.Minute), 3)
		if _, _, _, err := DecodeReadings([]byte(body), decodeNow, lim); err != ErrTooManyReadings {
			t.Errorf("err = %v, want ErrTooManyReadings", err)
		}
	})
}

// TestSchemasMatchDecoder checks that the JSON schemas in edge/schema
// accept what the decoder accepts and refuse what it refuses.
func TestSchemasMatchDecoder(t *testing.T) {
	t.Parallel()
	c := jsonschema.NewCompiler()
	schemas := map[string]*jsonschema.Schema{}
	for _, typ := range readingTypes {
		f, err := os.Open(filepath.Join("schema", typ+".json"))
		if err != nil {
			t.Fatalf("schema of %s: %v", typ, err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("schema of %s: %v", typ, err)
		}
		url := "file:///" + typ + ".json"
		if err := c.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
		if schemas[typ], err = c.Compile(url); err != nil {
			t.Fatalf("compile %s: %v", typ, err)
		}
	}
	ts := `"2026-05-01T11:59:00Z"`
	tests := []struct {
		typ, body string
	}{
		{"footfall", `{"type":"footfall","sensor":"d","ts":` + ts + `,"in":1,"out":2}`},
		{"footfall", `{"type":"footfall","sensor":"d","ts":` + ts + `}`},
		{"footfall", `{"type":"footfall","sensor":"d","ts":` + ts + `,"in":1.5}`},
		{"occupancy", `{"type":"occupancy","sensor":"d","ts":` + ts + `,"count":4}`},
		{"occupancy", `{"type":"occupancy","sensor":"d","ts":` + ts + `,"count":4,"in":1}`},
		{"queue", `{"type":"queue","sensor":"d","ts":` + ts + `,"length":4,"open_tills":3}`},
		{"queue", `{"type":"queue","sensor":"d","ts":` + ts + `,"open_tills":3}`},
		{"presence", `{"type":"presence","sensor":"d","ts":` + ts + `,"id":"x","action":"enter"}`},
		{"presence", `{"type":"presence","sensor":"d","ts":` + ts + `,"id":"x","action":"wave"}`},
		{"temperature", `{"type":"temperature","sensor":"d","ts":` + ts + `,"celsius":4}`},
		{"temperature", `{"type":"temperature","sensor":"d","ts":` + ts + `,"celsius":"4"}`},
		{"energy", `{"type":"energy","sensor":"d","ts":` + ts + `,"kwh":4}`},
		{"energy", `{"type":"energy","sensor":"d","ts":` + ts + `,"kwh":-4}`},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%s-%d", tt.typ, i), func(t *testing.T) {
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			schemaOK := schemas[tt.typ].Validate(inst) == nil
			_, decErr := DecodeReading([]byte(tt.body), decodeNow, DefaultLimits)
			if schemaOK != (decErr == nil) {
				t.Errorf("schema accepts: %v, decoder error: %v", schemaOK, decErr)
			}
		})
	}
}

func FuzzDecodeReadings(f *testing.F) {
	body, _ := edgetest.FootfallJSON("d", decodeNow.Add(-time.Minute), 3)
	f.Add([]byte(body))
	f.Add([]byte(`{"type":"presence","sensor":"b","ts":"2026-05-01T11:59:00Z","id":"x","action":"enter"}` + "\n" + `{"type":"queue"}`))
	f.Add([]byte(`[{"type":"energy","sensor":"m","ts":"2026-05-01T11:59:00Z","kwh":1e300}]`))
	f.Add([]byte(`[1, "x", null, {}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		valid, index, errs, err := DecodeReadings(b, decodeNow, DefaultLimits)
		if err != nil {
			if len(valid) != 0 {
				t.Fatalf("body error %v with %d valid readings", err, len(valid))
			}
			return
		}
		if len(valid) != len(index) {
			t.Fatalf("%d readings, %d indexes", len(valid), len(index))
		}
		seen := map[int]bool{}
		for i := range valid {
			if err := valid[i].Validate(decodeNow, DefaultLimits); err != nil {
				t.Fatalf("decoded reading %+v does not validate: %v", valid[i], err)
			}
			if _, err := json.Marshal(valid[i]); err != nil {
				t.Fatalf("decoded reading does not encode: %v", err)
			}
			seen[index[i]] = true
		}
		for _, e := range errs {
			if seen[e.Index] || e.Reason == "" {
				t.Fatalf("error %+v for a valid index or without reason", e)
			}
		}
	})
}

func TestPostReadingsErrors(t *testing.T) {
	t.Parallel()
	f := newFakeIngest(t)
	c := testConfig(t, f.srv.URL)
	c.MaxBodyBytes = 64 << 10
	a := startAgent(t, c)
	ts := time.Now().UTC().Add(-2 * time.Minute).Format(time.RFC3339Nano)
	future := time.Now().UTC().Add(time.Hour).Format(time.RFC3339Nano)
	tests := []struct {
		name     string
		body     string
		status   int
		accepted float64
		errIdx   []float64
	}{
		{"all valid", `[{"type":"footfall","sensor":"a","ts":"` + ts + `","in":1}]`, http.StatusAccepted, 1, nil},
		{"mixed", `[{"type":"footfall","sensor":"b","ts":"` + ts + `","in":1},{"type":"footfall","sensor":"b","ts":"` + future + `","in":1},{"type":"occupancy","sensor":"b","ts":"` + ts + `","count":"x"},{"type":"footfall","sensor":"b","ts":"` + ts + `","in":1}]`, http.StatusUnprocessableEntity, 1, []float64{1, 2, 3}},
		{"none valid", `[{"type":"nope"}]`, http.StatusUnprocessableEntity, 0, []float64{0}},
		{"not json", `hello`, http.StatusBadRequest, -1, nil},
		{"too large", `[` + strings.Repeat(" ", 70<<10) + `]`, http.StatusRequestEntityTooLarge, -1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := post(t, a, tt.body)
			if code != tt.status {
				t.Fatalf("status = %d %v, want %d", code, body, tt.status)
			}
			if tt.accepted >= 0 && body["accepted"] != tt.accepted {
				t.Errorf("accepted = %v, want %v", body["accepted"], tt.accepted)
			}
			errs, _ := body["errors"].([]any)
			if len(errs) != len(tt.errIdx) {
				t.Fatalf("errors = %v, want indexes %v", errs, tt.errIdx)
			}
			for i, e := range errs {
				if e.(map[string]any)["index"] != tt.errIdx[i] {
					t.Errorf("error %d = %v, want index %v", i, e, tt.errIdx[i])
				}
			}
		})
	}
	if got := metric(t, a, "popkit_edge_readings_rejected_total", `class="footfall"`); got != 2 {
		t.Errorf("rejected footfall = %v, want 2", got)
	}
	if got := metric(t, a, "popkit_edge_readings_accepted_total", `class="footfall"`); got != 2 {
		t.Errorf("accepted footfall = %v, want 2", got)
	}
}
