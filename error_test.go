package popkit_test

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/popkit/popkit"
)

// fieldNames returns the invalid field names of a validation error.
func fieldNames(err error) []string {
	var names []string
	for _, f := range popkit.ErrorFields(err) {
		names = append(names, f.Field)
	}
	return names
}

// checkFields asserts that err is nil when want is empty, and otherwise an
// EINVALID error naming exactly the fields in want.
func checkFields(t *testing.T, err error, want ...string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if code := popkit.ErrorCode(err); code != popkit.EINVALID {
		t.Fatalf("code = %q (%v), want %q", code, err, popkit.EINVALID)
	}
	got := fieldNames(err)
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Fatalf("invalid fields = %v, want %v (%v)", got, want, err)
	}
}

func TestErrorAccessors(t *testing.T) {
	t.Parallel()
	validation := popkit.InvalidField("name", "is required")
	tests := []struct {
		name    string
		err     error
		code    string
		message string
		fields  []string
	}{
		{"nil", nil, "", "", nil},
		{"popkit error", popkit.Errorf(popkit.ENOTFOUND, "event %s not found", "x"), popkit.ENOTFOUND, "event x not found", nil},
		{"wrapped once", fmt.Errorf("find event: %w", popkit.Errorf(popkit.ECONFLICT, "slug taken")), popkit.ECONFLICT, "slug taken", nil},
		{"wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", popkit.Errorf(popkit.EFORBIDDEN, "no"))), popkit.EFORBIDDEN, "no", nil},
		{"joined", errors.Join(io.EOF, popkit.Errorf(popkit.EUNAVAILABLE, "down")), popkit.EUNAVAILABLE, "down", nil},
		{"validation wrapped", fmt.Errorf("create city: %w", validation), popkit.EINVALID, "invalid name: is required", []string{"name"}},
		{"plain error", errors.New("disk on fire"), popkit.EINTERNAL, "internal error", nil},
		{"wrapped plain error", fmt.Errorf("insert: %w", io.ErrUnexpectedEOF), popkit.EINTERNAL, "internal error", nil},
		{"flattened popkit error", fmt.Errorf("insert: %v", popkit.Errorf(popkit.ENOTFOUND, "gone")), popkit.EINTERNAL, "internal error", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := popkit.ErrorCode(tt.err); got != tt.code {
				t.Errorf("ErrorCode = %q, want %q", got, tt.code)
			}
			if got := popkit.ErrorMessage(tt.err); got != tt.message {
				t.Errorf("ErrorMessage = %q, want %q", got, tt.message)
			}
			if got := fieldNames(tt.err); !slices.Equal(got, tt.fields) {
				t.Errorf("ErrorFields = %v, want %v", got, tt.fields)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *popkit.Error
		want string
	}{
		{"no fields", &popkit.Error{Code: popkit.ENOTFOUND, Message: "venue not found"}, "popkit error: code=not_found message=venue not found"},
		{"fields", &popkit.Error{Code: popkit.EINVALID, Message: "2 invalid fields", Fields: []popkit.FieldError{
			{Field: "lat", Message: "must be between -90 and 90"}, {Field: "sessions[1].end", Message: "must be after start"},
		}}, "popkit error: code=invalid message=2 invalid fields fields=[lat: must be between -90 and 90; sessions[1].end: must be after start]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		build   func(v *popkit.Validation)
		message string // "" for no error
		fields  []popkit.FieldError
	}{
		{"zero value", func(*popkit.Validation) {}, "", nil},
		{"passing checks", func(v *popkit.Validation) {
			v.Check(true, "a", "bad")
			v.Check(1 < 2, "b", "bad")
		}, "", nil},
		{"one field", func(v *popkit.Validation) {
			v.Check(false, "limit", "must be between %d and %d", 1, 200)
		}, "invalid limit: must be between 1 and 200", []popkit.FieldError{{Field: "limit", Message: "must be between 1 and 200"}}},
		{"several fields in order", func(v *popkit.Validation) {
			v.Add("name", "is required")
			v.Check(true, "ok", "never")
			v.Check(false, "sessions[0].end", "must be after start")
			v.Add("name", "is too long")
		}, "3 invalid fields", []popkit.FieldError{
			{Field: "name", Message: "is required"},
			{Field: "sessions[0].end", Message: "must be after start"},
			{Field: "name", Message: "is too long"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v popkit.Validation
			tt.build(&v)
			err := v.Err()
			if tt.message == "" {
				if err != nil {
					t.Fatalf("Err() = %v, want nil", err)
				}
				return
			}
			var e *popkit.Error
			if !errors.As(err, &e) {
				t.Fatalf("Err() = %T %v, want *popkit.Error", err, err)
			}
			if e.Code != popkit.EINVALID || e.Message != tt.message || !slices.Equal(e.Fields, tt.fields) {
				t.Errorf("Err() = %+v, want code %s, message %q, fields %v", e, popkit.EINVALID, tt.message, tt.fields)
			}
		})
	}
}

func TestInvalidField(t *testing.T) {
	t.Parallel()
	err := popkit.InvalidField("cursor", "is not a cursor returned by %s", "this API")
	checkFields(t, err, "cursor")
	if msg := popkit.ErrorMessage(err); msg != "invalid cursor: is not a cursor returned by this API" {
		t.Errorf("message = %q", msg)
	}
	if s := err.Error(); !strings.Contains(s, "code=invalid") {
		t.Errorf("Error() = %q", s)
	}
}
