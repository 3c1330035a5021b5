package popkit_test

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/popkit/popkit"
)

func TestPageNormalize(t *testing.T) {
	t.Parallel()
	id := popkit.NewID()
	tests := []struct {
		name      string
		page      popkit.Page
		wantLimit int
		wantAfter string
		field     string // invalid field, "" when valid
	}{
		{"zero page", popkit.Page{}, popkit.DefaultPageLimit, "", ""},
		{"limit 1", popkit.Page{Limit: 1}, 1, "", ""},
		{"max limit", popkit.Page{Limit: popkit.MaxPageLimit}, popkit.MaxPageLimit, "", ""},
		{"cursor", popkit.Page{Limit: 10, After: popkit.Cursor(id)}, 10, id, ""},
		{"cursor with default limit", popkit.Page{After: popkit.Cursor(id)}, popkit.DefaultPageLimit, id, ""},
		{"limit above max", popkit.Page{Limit: popkit.MaxPageLimit + 1}, 0, "", "limit"},
		{"negative limit", popkit.Page{Limit: -1}, 0, "", "limit"},
		{"cursor not base64", popkit.Page{After: "not a cursor!"}, 0, "", "cursor"},
		{"cursor of a non-id", popkit.Page{After: base64.RawURLEncoding.EncodeToString([]byte("hello"))}, 0, "", "cursor"},
		{"cursor of an upper-case id", popkit.Page{After: base64.RawURLEncoding.EncodeToString([]byte(strings.ToUpper(id)))}, 0, "", "cursor"},
		{"padded cursor", popkit.Page{After: base64.URLEncoding.EncodeToString([]byte(id + "x"))}, 0, "", "cursor"},
		{"standard base64 cursor", popkit.Page{After: base64.StdEncoding.EncodeToString([]byte("\xfb\xff" + id[2:]))}, 0, "", "cursor"},
		{"raw id as cursor", popkit.Page{After: id}, 0, "", "cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit, after, err := tt.page.Normalize()
			if tt.field != "" {
				checkFields(t, err, tt.field)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if limit != tt.wantLimit || after != tt.wantAfter {
				t.Errorf("Normalize() = %d, %q; want %d, %q", limit, after, tt.wantLimit, tt.wantAfter)
			}
		})
	}
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	if got := popkit.Cursor(""); got != "" {
		t.Errorf(`Cursor("") = %q, want ""`, got)
	}
	for range 50 {
		id := popkit.NewID()
		c := popkit.Cursor(id)
		if strings.Contains(c, id) || strings.ContainsAny(c, "+/=") {
			t.Fatalf("cursor %q is not opaque and URL-safe", c)
		}
		_, after, err := popkit.Page{After: c}.Normalize()
		if err != nil || after != id {
			t.Fatalf("round trip of %s: %q, %v", id, after, err)
		}
	}
}

func TestNewID(t *testing.T) {
	t.Parallel()
	before := time.Now().Truncate(time.Millisecond)
	ids := make([]string, 2000)
	for i := range ids {
		ids[i] = popkit.NewID()
	}
	// Within one millisecond ids count up in the sub-millisecond bits and
	// may run into the next milliseconds; allow for that.
	after := time.Now().Add(5 * time.Millisecond)
	for _, id := range ids {
		if !popkit.ValidID(id) {
			t.Fatalf("NewID() = %q is not a valid id", id)
		}
		u := uuid.MustParse(id)
		if u.Version() != 7 || u.Variant() != uuid.RFC4122 {
			t.Fatalf("%s: version %d, variant %v; want 7, RFC 4122", id, u.Version(), u.Variant())
		}
		sec, nsec := u.Time().UnixTime()
		if at := time.Unix(sec, nsec); at.Before(before) || at.After(after) {
			t.Fatalf("%s: time %s outside [%s, %s]", id, at, before, after)
		}
	}
	if !slices.IsSorted(ids) {
		t.Error("ids made one after another do not sort in creation order")
	}
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Error("NewID repeated an id")
	}
}

func TestValidID(t *testing.T) {
	t.Parallel()
	id := "01963d6e-8a10-7c3e-9a4e-6f1f2b3c4d5e"
	tests := []struct {
		name string
		s    string
		want bool
	}{
		{"canonical", id, true},
		{"version 4", "0b3e9f4a-5a55-4c8e-9a5b-2f5b7c6d8e9f", true},
		{"nil uuid", "00000000-0000-0000-0000-000000000000", true},
		{"empty", "", false},
		{"upper case", strings.ToUpper(id), false},
		{"mixed case", id[:30] + "4D5E", false},
		{"no hyphens", strings.ReplaceAll(id, "-", ""), false},
		{"braces", "{" + id + "}", false},
		{"urn", "urn:uuid:" + id, false},
		{"hyphens moved", "01963d6e8-a10-7c3e-9a4e-6f1f2b3c4d5e", false},
		{"not hex", "01963d6e-8a10-7c3e-9a4e-6f1f2b3c4d5g", false},
		{"trailing space", id[:35] + " ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := popkit.ValidID(tt.s); got != tt.want {
				t.Errorf("ValidID(%q) = %t, want %t", tt.s, got, tt.want)
			}
		})
	}
}
