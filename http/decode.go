package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

// errTooLarge marks a body over maxBodyBytes; it becomes 413.
var errTooLarge = &popkit.Error{Code: popkit.EINVALID, Message: fmt.Sprintf("request body is larger than %d bytes", maxBodyBytes)}

// requireJSON answers 415 unless a request's Content-Type is
// application/json (parameters such as charset=utf-8 are allowed).
func requireJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			writeProblem(w, newProblem(r, http.StatusUnsupportedMediaType, "", "Content-Type must be application/json", nil))
			return
		}
		// JSON is UTF-8 (RFC 8259); a body declared in another charset
		// would be read wrongly, so it is refused rather than guessed at.
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
			writeProblem(w, newProblem(r, http.StatusUnsupportedMediaType, "", "JSON bodies must be UTF-8: send charset=utf-8 or no charset", nil))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// readBody reads the whole (size-limited) body. Returns errTooLarge for a
// body over the limit.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errTooLarge
	} else if err != nil {
		return nil, popkit.Errorf(popkit.EINVALID, "cannot read request body")
	}
	return b, nil
}

// decode reads the request body as exactly one JSON object into v. It
// rejects unknown fields, wrong types, trailing data after the object, and
// strings with NUL characters (which databases refuse), naming the field
// where it can. All its errors are EINVALID, except errTooLarge.
func decode(r *http.Request, v any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeBytes(body, v)
}

func decodeBytes(body []byte, v any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return popkit.Errorf(popkit.EINVALID, "request body is required")
	}
	if trimmed[0] != '{' {
		return popkit.Errorf(popkit.EINVALID, "request body must be a JSON object")
	}
	if hasNUL(body) {
		return popkit.Errorf(popkit.EINVALID, "strings must not contain NUL characters")
	}
	// First as a tree, to find syntax errors, trailing data and keys that
	// are not exactly a field's name (encoding/json matches them
	// case-insensitively), naming the full path of the field.
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return popkit.Errorf(popkit.EINVALID, "request body must hold exactly one JSON object")
	}
	if err := exactKeys(tree, reflect.TypeOf(v), ""); err != nil {
		return err
	}
	// Then into v, to find values of the wrong type.
	dec = json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	return nil
}

// exactKeys checks that every object key in the decoded JSON tree is
// exactly the JSON name of a field of the Go type t it decodes into, and
// that every time is spelled as RFC 3339 requires (encoding/json, like
// time.Parse, also takes a one-digit hour or a "," before the fraction).
func exactKeys(tree any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		if s, ok := tree.(string); ok && !rfc3339Shape(s) {
			return popkit.InvalidField(path, "must be an RFC 3339 time such as 2026-05-01T10:00:00Z")
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := tree.(map[string]any)
		if !ok {
			return nil // a type error, reported by the typed decode
		}
		fields := jsonFields(t)
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			name := k
			if path != "" {
				name = path + "." + k
			}
			ft, ok := fields[k]
			if !ok {
				return popkit.InvalidField(name, "is not a known field")
			}
			if err := exactKeys(obj[k], ft, name); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		list, _ := tree.([]any)
		for i, x := range list {
			if err := exactKeys(x, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// timeType is the type of the times in request bodies.
var timeType = reflect.TypeFor[time.Time]()

// parseTime parses an RFC 3339 time spelled as rfc3339Shape requires.
func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, s)
	return t, err == nil && rfc3339Shape(s)
}

// rfc3339Shape reports whether s is spelled as RFC 3339 and the OpenAPI
// "date-time" format spell a date-time: two digits in every field, a "."
// before a fraction, and Z or an offset of at most ±23:59. time.Parse also
// takes a one-digit hour, a "," before the fraction and offsets up to
// ±99:59; it checks the ranges this does not.
func rfc3339Shape(s string) bool {
	const shape = "dddd-dd-ddTdd:dd:dd"
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	if len(s) <= len(shape) {
		return false
	}
	for i := range len(shape) {
		if shape[i] == 'd' && !digit(s[i]) || shape[i] != 'd' && s[i] != shape[i] {
			return false
		}
	}
	rest := s[len(shape):]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && digit(rest[n]) {
			n++
		}
		if n == 1 {
			return false
		}
		rest = rest[n:]
	}
	if rest == "Z" {
		return true
	}
	return len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && digit(rest[1]) && digit(rest[2]) && rest[1:3] <= "23" &&
		rest[3] == ':' && rest[4] >= '0' && rest[4] <= '5' && digit(rest[5])
}

// jsonFields maps the JSON names of a struct's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type, t.NumField())
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}

// decodeError turns an encoding/json error into an EINVALID error that
// names the field where it can.
func decodeError(err error) error {
	var pe *popkit.Error
	if errors.As(err, &pe) {
		return pe // from a type's own UnmarshalJSON
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return popkit.Errorf(popkit.EINVALID, "malformed JSON at byte %d", syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return popkit.Errorf(popkit.EINVALID, "malformed JSON: unexpected end of body")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return popkit.Errorf(popkit.EINVALID, "request body must be a JSON object")
		}
		return popkit.InvalidField(typ.Field, "must be %s", jsonKind(typ.Type.Kind().String()))
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return popkit.InvalidField(name, "is not a known field")
	}
	return popkit.Errorf(popkit.EINVALID, "malformed JSON")
}

// jsonKind names the JSON type that a Go kind is decoded from.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer in range"
	case "float32", "float64":
		return "a number in range"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "of another type"
}

// hasNUL reports whether a JSON text has a \u0000 escape in a string. Raw
// control characters are invalid JSON anyway, so the escape is the only way
// to send NUL.
func hasNUL(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) && string(b[i+2:i+6]) == "0000" {
			return true
		}
		i++ // skip the escaped character, so \\u0000 is not read as an escape
	}
	return false
}
