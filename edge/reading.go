package edge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

// Reading types a sensor may send. Each has a JSON schema in edge/schema.
const (
	TypeFootfall    = "footfall"    // door or line id, in and out counts
	TypeOccupancy   = "occupancy"   // people inside
	TypeQueue       = "queue"       // queue length, optional open tills
	TypePresence    = "presence"    // raw device identifier entering or leaving
	TypeTemperature = "temperature" // fridge or cold box, °C
	TypeEnergy      = "energy"      // cumulative kWh of a meter
)

// readingTypes lists the reading types in documentation order.
var readingTypes = []string{TypeFootfall, TypeOccupancy, TypeQueue, TypePresence, TypeTemperature, TypeEnergy}

// Reading is one sensor reading as it arrives over HTTP or MQTT. Which
// fields apply depends on Type; the others must be absent.
type Reading struct {
	Type   string    `json:"type"`
	Sensor string    `json:"sensor"`
	TS     time.Time `json:"ts"` // device timestamp

	In  *int64 `json:"in,omitempty"`  // footfall
	Out *int64 `json:"out,omitempty"` // footfall

	Count *int64 `json:"count,omitempty"` // occupancy

	Length    *float64 `json:"length,omitempty"`     // queue
	OpenTills *int     `json:"open_tills,omitempty"` // queue

	ID     string `json:"id,omitempty"`     // presence: raw identifier, hashed on arrival
	Action string `json:"action,omitempty"` // presence: enter or exit

	Celsius *float64 `json:"celsius,omitempty"` // temperature
	KWh     *float64 `json:"kwh,omitempty"`     // energy, cumulative
}

// Limits bound what the decoder accepts.
type Limits struct {
	MaxReadings     int           // readings in one request
	MaxReadingBytes int           // bytes of one reading
	MaxFuture       time.Duration // how far ahead of the agent clock a timestamp may be
	MaxAge          time.Duration // how far behind; older readings are refused
}

// DefaultLimits are the limits the agent uses unless configured otherwise.
var DefaultLimits = Limits{
	MaxReadings:     20000,
	MaxReadingBytes: 4096,
	MaxFuture:       5 * time.Minute,
	MaxAge:          7 * 24 * time.Hour,
}

// ReadingError says why the reading at Index of a request was refused.
type ReadingError struct {
	Index  int    `json:"index"`
	Type   string `json:"type,omitempty"` // the reading's type when it could be read
	Reason string `json:"reason"`
}

// ErrTooManyReadings is returned when a request holds more than
// Limits.MaxReadings readings.
var ErrTooManyReadings = errors.New("too many readings in one request")

// DecodeReadings decodes a JSON array of readings, or NDJSON (one reading
// per line), and validates each one at now. It returns the valid readings
// with their indexes and an error per invalid reading; one bad reading never
// hides the others. A body that is neither an array nor NDJSON, or holds
// more than lim.MaxReadings readings, is an error.
func DecodeReadings(body []byte, now time.Time, lim Limits) (valid []Reading, index []int, errs []ReadingError, err error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, nil, nil, errors.New("empty body: send a JSON array or NDJSON of readings")
	}
	if trimmed[0] == '[' {
		if valid, index, ok := decodeFast(trimmed, now, lim); ok {
			return valid, index, nil, nil
		}
	}
	seen := map[dedupKey]int{}
	add := func(i int, raw []byte) {
		r, rerr := decodeReading(raw, now, lim)
		if rerr != nil {
			errs = append(errs, ReadingError{Index: i, Type: r.Type, Reason: rerr.Error()})
			return
		}
		k := r.dedupKey()
		if first, dup := seen[k]; dup {
			errs = append(errs, ReadingError{Index: i, Type: r.Type, Reason: fmt.Sprintf("duplicate of reading %d", first)})
			return
		}
		seen[k] = i
		valid = append(valid, r)
		index = append(index, i)
	}
	switch trimmed[0] {
	case '[':
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		if _, err := dec.Token(); err != nil {
			return nil, nil, nil, fmt.Errorf("read array: %w", err)
		}
		i := 0
		for dec.More() {
			if i >= lim.MaxReadings {
				return nil, nil, nil, ErrTooManyReadings
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				errs = append(errs, ReadingError{Index: i, Reason: "malformed JSON: " + jsonReason(err) + "; the rest of the array was not read"})
				return valid, index, errs, nil
			}
			add(i, raw)
			i++
		}
		if _, err := dec.Token(); err != nil {
			errs = append(errs, ReadingError{Index: i, Reason: "malformed JSON: " + jsonReason(err)})
			return valid, index, errs, nil
		}
		if _, err := dec.Token(); err != io.EOF {
			errs = append(errs, ReadingError{Index: i, Reason: "unexpected data after the array"})
		}
	case '{':
		i := 0
		for line := range bytes.SplitSeq(trimmed, []byte("\n")) {
			line = bytes.TrimSpace(line)
			if len(line) == 0 {
				continue
			}
			if i >= lim.MaxReadings {
				return nil, nil, nil, ErrTooManyReadings
			}
			add(i, line)
			i++
		}
	default:
		return nil, nil, nil, errors.New("body is neither a JSON array nor NDJSON of readings")
	}
	return valid, index, errs, nil
}

// decodeFast decodes a JSON array in one pass, for the common request in
// which every reading is valid. It reports false when any reading is not
// (or the array is malformed); the caller then decodes reading by reading
// to say which and why.
func decodeFast(body []byte, now time.Time, lim Limits) ([]Reading, []int, bool) {
	var rs []Reading
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rs); err != nil {
		return nil, nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, false
	}
	if len(rs) > lim.MaxReadings || len(rs) > 0 && len(body)/len(rs) > lim.MaxReadingBytes {
		return nil, nil, false
	}
	seen := make(map[dedupKey]struct{}, len(rs))
	index := make([]int, len(rs))
	for i := range rs {
		if rs[i].Validate(now, lim) != nil {
			return nil, nil, false
		}
		k := rs[i].dedupKey()
		if _, dup := seen[k]; dup {
			return nil, nil, false
		}
		seen[k] = struct{}{}
		index[i] = i
	}
	return rs, index, true
}

// DecodeReading decodes and validates one reading (an MQTT message).
func DecodeReading(raw []byte, now time.Time, lim Limits) (Reading, error) {
	return decodeReading(raw, now, lim)
}

func decodeReading(raw []byte, now time.Time, lim Limits) (Reading, error) {
	var r Reading
	if len(raw) > lim.MaxReadingBytes {
		return r, fmt.Errorf("reading is %d bytes, over the limit of %d", len(raw), lim.MaxReadingBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		// Keep the type, when readable, for the error report.
		var probe struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(raw, &probe) == nil && validType(probe.Type) {
			r.Type = probe.Type
		} else {
			r.Type = ""
		}
		return r, errors.New(jsonReason(err))
	}
	if dec.More() {
		return r, errors.New("more than one JSON value in one reading")
	}
	return r, r.Validate(now, lim)
}

// jsonReason turns an encoding/json error into a short reason that names
// the field.
func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("field %s: must be %s, not %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		}
		return fmt.Sprintf("a reading must be a JSON object, not %s", te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %s", se.Offset, se.Error())
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return "field ts: must be an RFC 3339 time"
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown field " + f
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "truncated JSON"
	}
	return strings.TrimPrefix(msg, "json: ")
}

func jsonKind(k string) string {
	switch k {
	case "int", "int64", "float64":
		return "a number"
	case "string":
		return "a string"
	case "struct":
		return "an RFC 3339 time"
	}
	return k
}

func validType(t string) bool {
	for _, v := range readingTypes {
		if t == v {
			return true
		}
	}
	return false
}

// Validate checks a decoded reading at now.
func (r *Reading) Validate(now time.Time, lim Limits) error {
	if !validType(r.Type) {
		if r.Type == "" {
			return errors.New("field type: required, one of " + strings.Join(readingTypes, ", "))
		}
		return fmt.Errorf("field type: %q is not one of %s", r.Type, strings.Join(readingTypes, ", "))
	}
	if !popkit.ValidLabel(r.Sensor, 64) {
		return errors.New("field sensor: required, 1 to 64 of letters, digits and . _ : -")
	}
	if r.TS.IsZero() {
		return errors.New("field ts: required RFC 3339 time")
	}
	if r.TS.After(now.Add(lim.MaxFuture)) {
		return fmt.Errorf("field ts: %s is more than %s ahead of the agent clock", r.TS.UTC().Format(time.RFC3339), lim.MaxFuture)
	}
	if lim.MaxAge > 0 && r.TS.Before(now.Add(-lim.MaxAge)) {
		return fmt.Errorf("field ts: %s is older than the retention of %s", r.TS.UTC().Format(time.RFC3339), lim.MaxAge)
	}
	var allowed fieldSet
	need := func(f fieldSet, name string, present bool) error {
		allowed |= f
		if !present {
			return fmt.Errorf("field %s: required for %s readings", name, r.Type)
		}
		return nil
	}
	var err error
	switch r.Type {
	case TypeFootfall:
		allowed |= fIn | fOut
		if r.In == nil && r.Out == nil {
			return errors.New("field in or out: a footfall reading needs at least one")
		}
		if err = countRange("in", r.In, 1e6); err == nil {
			err = countRange("out", r.Out, 1e6)
		}
	case TypeOccupancy:
		if err = need(fCount, "count", r.Count != nil); err == nil {
			err = countRange("count", r.Count, 1e6)
		}
	case TypeQueue:
		allowed |= fOpenTills
		if err = need(fLength, "length", r.Length != nil); err == nil {
			err = floatRange("length", *r.Length, 0, 1e5)
		}
		if err == nil && r.OpenTills != nil && (*r.OpenTills < 0 || *r.OpenTills > 1000) {
			err = errors.New("field open_tills: must be 0 to 1000")
		}
	case TypePresence:
		if err = need(fID, "id", r.ID != ""); err == nil {
			err = need(fAction, "action", r.Action != "")
		}
		if err == nil && len(r.ID) > 256 {
			err = errors.New("field id: longer than 256 bytes")
		}
		if err == nil && r.Action != "enter" && r.Action != "exit" {
			err = errors.New("field action: must be enter or exit")
		}
	case TypeTemperature:
		if err = need(fCelsius, "celsius", r.Celsius != nil); err == nil {
			err = floatRange("celsius", *r.Celsius, -80, 150)
		}
	case TypeEnergy:
		if err = need(fKWh, "kwh", r.KWh != nil); err == nil {
			err = floatRange("kwh", *r.KWh, 0, 1e12)
		}
	}
	if err != nil {
		return err
	}
	if extra := r.present() &^ allowed; extra != 0 {
		for i, name := range fieldNames {
			if extra&(1<<i) != 0 {
				return fmt.Errorf("field %s: not allowed in %s readings", name, r.Type)
			}
		}
	}
	return nil
}

// fieldSet is a set of the type-specific fields of a reading.
type fieldSet uint16

const (
	fIn fieldSet = 1 << iota
	fOut
	fCount
	fLength
	fOpenTills
	fID
	fAction
	fCelsius
	fKWh
)

var fieldNames = []string{"in", "out", "count", "length", "open_tills", "id", "action", "celsius", "kwh"}

// present returns the type-specific fields that r carries.
func (r *Reading) present() fieldSet {
	var s fieldSet
	set := func(f fieldSet, ok bool) {
		if ok {
			s |= f
		}
	}
	set(fIn, r.In != nil)
	set(fOut, r.Out != nil)
	set(fCount, r.Count != nil)
	set(fLength, r.Length != nil)
	set(fOpenTills, r.OpenTills != nil)
	set(fID, r.ID != "")
	set(fAction, r.Action != "")
	set(fCelsius, r.Celsius != nil)
	set(fKWh, r.KWh != nil)
	return s
}

func countRange(name string, v *int64, max int64) error {
	if v != nil && (*v < 0 || *v > max) {
		return fmt.Errorf("field %s: must be 0 to %d", name, max)
	}
	return nil
}

func floatRange(name string, v, min, max float64) error {
	if !(v >= min && v <= max) {
		return fmt.Errorf("field %s: must be %g to %g", name, min, max)
	}
	return nil
}

// dedupKey identifies a reading within one request: the same sensor cannot
// report the same thing twice at the same instant.
func (r *Reading) dedupKey() dedupKey {
	return dedupKey{r.Type, r.Sensor, r.TS.UnixNano(), r.ID, r.Action}
}

type dedupKey struct {
	typ, sensor string
	ts          int64
	id, action  string
}
