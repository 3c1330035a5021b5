package http

import "testing"

func TestCanonicalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"keys sorted, whitespace dropped", "{ \"b\" : 1,\n\t\"a\" : [ true , null ] }", `{"a":[true,null],"b":1}`, true},
		{"nested objects sorted", `{"z":{"y":1,"x":2},"a":[{"d":0,"c":0}]}`, `{"a":[{"c":0,"d":0}],"z":{"x":2,"y":1}}`, true},
		{"numbers as written", `{"n":1.0,"m":1e2,"k":-0}`, `{"k":-0,"m":1e2,"n":1.0}`, true},
		{"string escapes normalised", `{"s":"\u0041\/b"}`, `{"s":"A/b"}`, true},
		{"duplicate keys keep their order", `{"b":1,"a":2,"a":1}`, `{"a":2,"a":1,"b":1}`, true},
		{"scalar", ` "x" `, `"x"`, true},
		{"empty", ``, ``, false},
		{"two values", `{} {}`, ``, false},
		{"malformed", `{"a":}`, ``, false},
		{"trailing comma", `{"a":1,}`, ``, false},
		{"unclosed", `{"a":[1`, ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := canonicalJSON([]byte(tt.in))
			if ok != tt.ok || string(got) != tt.want {
				t.Errorf("canonicalJSON(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestRequestHashCanonical(t *testing.T) {
	t.Parallel()
	a := requestHash("POST", "/api/v1/orders", []byte(`{"a":1,"b":[1,2]}`))
	for _, same := range []string{`{"b":[1,2],"a":1}`, "{\n  \"a\": 1,\n  \"b\": [ 1, 2 ]\n}\n"} {
		if got := requestHash("POST", "/api/v1/orders", []byte(same)); got != a {
			t.Errorf("hash of %q differs from the same value spelled otherwise", same)
		}
	}
	for _, other := range []string{`{"a":2,"b":[1,2]}`, `{"a":1,"b":[2,1]}`, `{"a":1.0,"b":[1,2]}`, `{"a":1,"b":[1,2],"c":null}`} {
		if got := requestHash("POST", "/api/v1/orders", []byte(other)); got == a {
			t.Errorf("hash of %q equals that of another value", other)
		}
	}
	if requestHash("POST", "/api/v1/cities", []byte(`{"a":1,"b":[1,2]}`)) == a {
		t.Error("hash ignores the path")
	}
	// A body that is not JSON is fingerprinted raw, never as a JSON value.
	if requestHash("POST", "/x", []byte(`{"a":1} `)) == requestHash("POST", "/x", []byte(`{"a":1} x`)) {
		t.Error("raw bodies that differ hash alike")
	}
}
