package popkit_test

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/popkit/popkit"
)

func TestTokenValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		token  popkit.Token
		fields []string
	}{
		{"admin", popkit.Token{Role: popkit.RoleAdmin, Name: "ops"}, nil},
		{"curator", popkit.Token{Role: popkit.RoleCurator}, nil},
		{"brand with brand", popkit.Token{Role: popkit.RoleBrand, BrandID: brandA}, nil},
		{"device with event", popkit.Token{Role: popkit.RoleDevice, EventID: eventID}, nil},
		{"fulfiller with node", popkit.Token{Role: popkit.RoleFulfiller, NodeID: nodeID}, nil},
		{"unknown role", popkit.Token{Role: "root"}, []string{"role"}},
		{"empty role", popkit.Token{}, []string{"role"}},
		{"long name", popkit.Token{Role: popkit.RoleAdmin, Name: strings.Repeat("n", 201)}, []string{"name"}},
		{"brand without scope", popkit.Token{Role: popkit.RoleBrand}, []string{"brand_id"}},
		{"brand with a bad id", popkit.Token{Role: popkit.RoleBrand, BrandID: "pantry-lane"}, []string{"brand_id"}},
		{"device without scope", popkit.Token{Role: popkit.RoleDevice}, []string{"event_id"}},
		{"fulfiller without scope", popkit.Token{Role: popkit.RoleFulfiller}, []string{"node_id"}},
		{"admin with brand scope", popkit.Token{Role: popkit.RoleAdmin, BrandID: brandA}, []string{"brand_id"}},
		{"curator with event scope", popkit.Token{Role: popkit.RoleCurator, EventID: eventID}, []string{"event_id"}},
		{"brand with node scope", popkit.Token{Role: popkit.RoleBrand, BrandID: brandA, NodeID: nodeID}, []string{"node_id"}},
		{"device with every scope", popkit.Token{Role: popkit.RoleDevice, BrandID: brandA, EventID: eventID, NodeID: nodeID}, []string{"brand_id", "node_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFields(t, tt.token.Validate(), tt.fields...)
		})
	}
}

func TestTokenIs(t *testing.T) {
	t.Parallel()
	var none *popkit.Token
	brand := &popkit.Token{Role: popkit.RoleBrand}
	tests := []struct {
		name  string
		token *popkit.Token
		roles []popkit.Role
		want  bool
	}{
		{"nil token", none, []popkit.Role{popkit.RoleAdmin}, false},
		{"one of", brand, []popkit.Role{popkit.RoleAdmin, popkit.RoleBrand}, true},
		{"none of", brand, []popkit.Role{popkit.RoleAdmin, popkit.RoleCurator}, false},
		{"no roles", brand, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.token.Is(tt.roles...); got != tt.want {
				t.Errorf("Is(%v) = %t, want %t", tt.roles, got, tt.want)
			}
		})
	}
	for _, r := range popkit.Roles {
		if !r.Valid() {
			t.Errorf("role %s is not Valid", r)
		}
	}
}

func TestTokenSecrets(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		secret, hash := popkit.NewTokenSecret()
		if !strings.HasPrefix(secret, popkit.TokenPrefix) || !popkit.LooksLikeToken(secret) {
			t.Fatalf("secret %q does not look like a token", secret)
		}
		if hash != popkit.HashToken(secret) {
			t.Fatalf("hash of %q = %s, HashToken gives %s", secret, hash, popkit.HashToken(secret))
		}
		if b, err := hex.DecodeString(hash); err != nil || len(b) != 32 {
			t.Fatalf("hash %q is not 32 bytes of hex", hash)
		}
		if seen[secret] {
			t.Fatalf("secret %q made twice", secret)
		}
		seen[secret] = true
	}
}

func TestHashToken(t *testing.T) {
	t.Parallel()
	tests := []struct{ secret, want string }{
		// sha256 of the empty string and of "abc" (FIPS 180-2 test vector).
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	for _, tt := range tests {
		t.Run(tt.secret, func(t *testing.T) {
			if got := popkit.HashToken(tt.secret); got != tt.want {
				t.Errorf("HashToken(%q) = %s, want %s", tt.secret, got, tt.want)
			}
		})
	}
}

func TestLooksLikeToken(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("A", 43)
	tests := []struct {
		name string
		s    string
		want bool
	}{
		{"shape of a secret", "pk_" + body, true},
		{"empty", "", false},
		{"prefix only", "pk_", false},
		{"one short", "pk_" + body[1:], false},
		{"one long", "pk_" + body + "A", false},
		{"other prefix", "gh_" + body, false},
		{"bearer prefix kept", "Bearer pk_" + body, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := popkit.LooksLikeToken(tt.s); got != tt.want {
				t.Errorf("LooksLikeToken(%q) = %t, want %t", tt.s, got, tt.want)
			}
		})
	}
}

func TestTokenContext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if got := popkit.TokenFromContext(ctx); got != nil {
		t.Errorf("empty context carries %+v", got)
	}
	tok := &popkit.Token{ID: "t", Role: popkit.RoleCurator}
	if got := popkit.TokenFromContext(popkit.NewContextWithToken(ctx, tok)); got != tok {
		t.Errorf("TokenFromContext = %+v, want %+v", got, tok)
	}
}
