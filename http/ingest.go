package http

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

// Size limits of POST /api/v1/ingest: the body as sent (usually gzip'd)
// and the JSON it decompresses to. A full batch of MaxIngestRecords rollups
// is about 1.5 MB of JSON and 100-200 kB gzip'd; the limits leave room
// while a gzip bomb stops at maxIngestJSON.
const (
	maxIngestBody = 8 << 20
	maxIngestJSON = 16 << 20
)

// ingestPath is the path of the ingest route.
const ingestPath = "/api/v1/ingest"

// bodyLimit returns the body size limit of a request: the ingest route
// takes larger bodies than the rest of the API.
func bodyLimit(r *http.Request) int64 {
	if r.Method == http.MethodPost && r.URL.Path == ingestPath {
		return maxIngestBody
	}
	return maxBodyBytes
}

// Ingest errors that the HTTP layer reports itself.
var (
	errIngestTooLarge = &popkit.Error{Code: popkit.EINVALID, Message: fmt.Sprintf("ingest body is larger than %d bytes", maxIngestBody)}
	errIngestBomb     = &popkit.Error{Code: popkit.EINVALID, Message: fmt.Sprintf("ingest body decompresses to more than %d bytes", maxIngestJSON)}
)

// ingest serves POST /api/v1/ingest: a device's batch, stored once per
// (device, stream, seq). The answer is 200 with an IngestResult, also for
// a replay (which stores nothing).
func (s *Server) ingest(w http.ResponseWriter, r *http.Request) {
	body, err := readIngestBody(r)
	if err != nil {
		s.writeIngestError(w, r, err)
		return
	}
	req, err := decodeIngest(body)
	if err == nil {
		var res *popkit.IngestResult
		if res, err = s.Telemetry.Ingest(r.Context(), token(r).EventID, req); err == nil {
			writeJSON(w, r, http.StatusOK, res)
			return
		}
	}
	s.writeIngestError(w, r, err)
}

// errUnsupportedEncoding is an ingest body in an encoding other than gzip
// or identity.
var errUnsupportedEncoding = errors.New("unsupported content encoding")

func (s *Server) writeIngestError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errIngestTooLarge), errors.Is(err, errIngestBomb):
		writeProblem(w, newProblem(r, http.StatusRequestEntityTooLarge, codeTooLarge, popkit.ErrorMessage(err), nil))
	case errors.Is(err, errUnsupportedEncoding):
		writeProblem(w, newProblem(r, http.StatusUnsupportedMediaType, codeUnsupportedMediaType, "Content-Encoding must be gzip or identity", nil))
	default:
		s.writeError(w, r, err)
	}
}

// readIngestBody reads the body, gunzipping it when Content-Encoding is
// gzip, within the two size limits.
func readIngestBody(r *http.Request) ([]byte, error) {
	raw, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errIngestTooLarge
	} else if err != nil {
		return nil, popkit.Errorf(popkit.EINVALID, "cannot read request body")
	}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		if len(raw) > maxIngestJSON {
			return nil, errIngestBomb
		}
		return raw, nil
	case "gzip", "x-gzip":
		return gunzip(raw, maxIngestJSON)
	default:
		return nil, errUnsupportedEncoding
	}
}

// gunzip decompresses a gzip body of at most limit bytes.
func gunzip(raw []byte, limit int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, popkit.Errorf(popkit.EINVALID, "malformed gzip body")
	}
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, popkit.Errorf(popkit.EINVALID, "malformed gzip body")
	}
	if int64(len(out)) > limit {
		return nil, errIngestBomb
	}
	return out, nil
}

// wireBatch is an IngestBatch with its records still undecoded, so that
// each record is judged on its own.
type wireBatch struct {
	DeviceID string             `json:"device_id"`
	Stream   string             `json:"stream"`
	SentAt   wireTime           `json:"sent_at"`
	Report   popkit.AgentReport `json:"report"`
	Records  []json.RawMessage  `json:"records"`
}

// wireTime is the batch's sent_at, spelled as RFC 3339 requires
// (parseTime).
type wireTime time.Time

// UnmarshalJSON reads a JSON string holding an RFC 3339 time.
func (t *wireTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, ok := parseTime(s)
	if !ok {
		return popkit.InvalidField("sent_at", "must be an RFC 3339 time such as 2026-05-01T10:00:00Z")
	}
	*t = wireTime(v)
	return nil
}

// envelope is what every record has, whatever its kind.
type envelope struct {
	Seq  *int64 `json:"seq"`
	Kind string `json:"kind"`
}

// decodeIngest decodes an ingest body. The batch itself is decoded
// strictly (unknown fields and wrong types are 400), and so is each record
// the server can key: a record whose seq is missing or not an integer
// fails the batch, since it cannot be acknowledged. A keyed record whose
// body does not decode (a wrong type, an unknown field of a rollup) does
// not fail the batch: it is kept as rejected with the reason. Records of
// other kinds are not decoded beyond their envelope; they keep their raw
// JSON.
func decodeIngest(body []byte) (*popkit.IngestRequest, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, popkit.Errorf(popkit.EINVALID, "request body must be a JSON object")
	}
	var wb wireBatch
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&wb); err != nil {
		return nil, decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, popkit.Errorf(popkit.EINVALID, "request body must hold exactly one JSON object")
	}
	if len(wb.Records) > popkit.MaxIngestRecords {
		return nil, popkit.InvalidField("records", "must hold at most %d records", popkit.MaxIngestRecords)
	}
	req := &popkit.IngestRequest{DeviceID: wb.DeviceID, Stream: wb.Stream, SentAt: time.Time(wb.SentAt), Report: wb.Report,
		Records: make([]popkit.IngestRecord, len(wb.Records))}
	for i, raw := range wb.Records {
		rec := &req.Records[i]
		rec.Raw = raw
		// The common case first: a record that decodes strictly as an
		// UplinkRecord. A missing seq decodes as 0, which Validate refuses.
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		strictErr := d.Decode(&rec.UplinkRecord)
		if strictErr == nil {
			continue
		}
		rec.UplinkRecord = popkit.UplinkRecord{}
		var env envelope
		envErr := json.Unmarshal(raw, &env)
		if env.Seq == nil {
			return nil, popkit.InvalidField(fmt.Sprintf("records[%d].seq", i), "is required and must be an integer")
		}
		rec.Seq, rec.Kind = *env.Seq, env.Kind
		switch {
		case envErr != nil:
			rec.DecodeError = recordError(envErr)
		case env.Kind == popkit.RecordRollup, env.Kind == popkit.RecordSale:
			rec.DecodeError = recordError(strictErr)
		}
	}
	return req, nil
}

// recordError describes why one record did not decode.
func recordError(err error) string {
	e := decodeError(err)
	if f := popkit.ErrorFields(e); len(f) > 0 {
		return f[0].Field + ": " + f[0].Message
	}
	return popkit.ErrorMessage(e)
}
