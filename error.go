package popkit

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes. Each maps to one HTTP status in the http package and nowhere
// else; the store and the domain return them, callers switch on them with
// ErrorCode.
const (
	ECONFLICT      = "conflict"      // state conflict: duplicate, illegal transition
	EINTERNAL      = "internal"      // a failure the caller cannot fix
	EINVALID       = "invalid"       // input fails validation; Fields says where
	ENOTFOUND      = "not_found"     // the object does not exist (or is not visible)
	EUNAUTHORIZED  = "unauthorized"  // no or unknown credentials
	EFORBIDDEN     = "forbidden"     // credentials lack the role or scope
	EUNAVAILABLE   = "unavailable"   // a dependency (the database) is down
	EUNPROCESSABLE = "unprocessable" // well-formed but refers to impossible state
)

// FieldError names one invalid field and why it is invalid. Field uses the
// JSON name of the field, with dots and indexes for nesting
// ("sessions[1].end").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one error type of the domain. Code is machine-readable,
// Message is safe to show to the user, Fields lists per-field problems of a
// validation error.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
}

// Error implements the error interface.
func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("popkit error: code=%s message=%s", e.Code, e.Message)
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return fmt.Sprintf("popkit error: code=%s message=%s fields=[%s]", e.Code, e.Message, strings.Join(parts, "; "))
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for a
// nil error and EINTERNAL for any other error.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err. Errors that are not
// an *Error become "internal error" so that nothing internal leaks.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorFields returns the field list of a validation error, or nil.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// Validation collects field errors while a value is checked. The zero value
// is ready to use.
type Validation struct {
	fields []FieldError
}

// Add records that field is invalid for the reason given by format.
func (v *Validation) Add(field, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Check records a field error when ok is false.
func (v *Validation) Check(ok bool, field, format string, args ...any) {
	if !ok {
		v.Add(field, format, args...)
	}
}

// Err returns nil when no field was invalid, or an EINVALID *Error listing
// every invalid field.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	msg := "invalid " + v.fields[0].Field + ": " + v.fields[0].Message
	if len(v.fields) > 1 {
		msg = fmt.Sprintf("%d invalid fields", len(v.fields))
	}
	return &Error{Code: EINVALID, Message: msg, Fields: v.fields}
}

// InvalidField returns an EINVALID error for one field.
func InvalidField(field, format string, args ...any) error {
	var v Validation
	v.Add(field, format, args...)
	return v.Err()
}
