package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
)

// Idempotency-Key reuse is judged on what a request says, not on how its
// JSON is spelled: the body is fingerprinted in a canonical form, so a
// client that resends the same order with other whitespace or its keys in
// another order gets the stored answer instead of a 422.
//
// The canonical form of a JSON value is: object members sorted by key
// (bytewise on the key's UTF-8; members with the same key keep their
// order, since the last one wins when the body is decoded), no whitespace
// outside strings, strings re-encoded from their decoded value (so "\u0041"
// and "A" agree), and numbers exactly as written (1 and 1.0 differ, as the
// API may treat them differently). A body that is not one JSON value is
// fingerprinted as its raw bytes; the route rejects it anyway.

// canonicalJSON returns the canonical form of the single JSON value in
// body, or false when body is not exactly one JSON value.
func canonicalJSON(body []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var out bytes.Buffer
	out.Grow(len(body))
	if err := canonicalValue(dec, &out); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false // trailing data
	}
	return out.Bytes(), true
}

// errNotJSON reports a body that is not a well-formed JSON value.
var errNotJSON = errors.New("not a JSON value")

// canonicalValue writes the canonical form of the next value of dec.
func canonicalValue(dec *json.Decoder, out *bytes.Buffer) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			return canonicalObject(dec, out)
		case '[':
			return canonicalArray(dec, out)
		}
		return errNotJSON
	case string:
		writeJSONString(out, v)
	case json.Number:
		out.WriteString(string(v))
	case bool:
		if v {
			out.WriteString("true")
		} else {
			out.WriteString("false")
		}
	case nil:
		out.WriteString("null")
	default:
		return errNotJSON
	}
	return nil
}

// canonicalObject writes an object whose '{' dec has just read.
func canonicalObject(dec *json.Decoder, out *bytes.Buffer) error {
	type member struct {
		key   string
		value []byte
	}
	var members []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		k, ok := tok.(string)
		if !ok {
			return errNotJSON
		}
		var v bytes.Buffer
		if err := canonicalValue(dec, &v); err != nil {
			return err
		}
		members = append(members, member{k, v.Bytes()})
	}
	if _, err := dec.Token(); err != nil { // '}'
		return err
	}
	slices.SortStableFunc(members, func(a, b member) int { return strings.Compare(a.key, b.key) })
	out.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			out.WriteByte(',')
		}
		writeJSONString(out, m.key)
		out.WriteByte(':')
		out.Write(m.value)
	}
	out.WriteByte('}')
	return nil
}

// canonicalArray writes an array whose '[' dec has just read.
func canonicalArray(dec *json.Decoder, out *bytes.Buffer) error {
	out.WriteByte('[')
	for i := 0; dec.More(); i++ {
		if i > 0 {
			out.WriteByte(',')
		}
		if err := canonicalValue(dec, out); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		return err
	}
	out.WriteByte(']')
	return nil
}

// writeJSONString writes s as a JSON string, escaped as encoding/json does.
func writeJSONString(out *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // a string always marshals
	out.Write(b)
}
