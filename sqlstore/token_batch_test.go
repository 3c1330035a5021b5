package sqlstore_test

import (
	"sync"
	"testing"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// TestTokenReadBatch: on PostgreSQL one batch of token reads answers each
// read with its own token, or not found, and concurrent authentications
// through the readers each get theirs; a revoked token is refused by the
// next read.
func TestTokenReadBatch(t *testing.T) {
	db := sqlstoretest.OpenPostgres(t, postgresOnly(t))
	ctx := t.Context()
	const n = 12
	secrets := make([]string, n)
	ids := make([]string, n)
	for i := range secrets {
		tok := &popkit.Token{Name: "t", Role: popkit.RoleCurator}
		s, err := db.CreateToken(ctx, tok)
		must(t, err)
		secrets[i], ids[i] = s, tok.ID
	}

	hashes := []string{popkit.HashToken(secrets[3]), popkit.HashToken("pk_unknown"), popkit.HashToken(secrets[0]), popkit.HashToken(secrets[3])}
	got, errs := db.ReadTokenBatch(hashes)
	if errs[0] != nil || got[0].ID != ids[3] || errs[2] != nil || got[2].ID != ids[0] || errs[3] != nil || got[3].ID != ids[3] {
		t.Fatalf("batch answers %+v, %v", got, errs)
	}
	if got[0] == got[3] {
		t.Error("two reads of one token share a value")
	}
	if popkit.ErrorCode(errs[1]) != popkit.ENOTFOUND {
		t.Errorf("unknown hash: %v", errs[1])
	}

	must(t, db.RevokeToken(ctx, ids[5]))
	var wg sync.WaitGroup
	for k := range 10 * n {
		wg.Go(func() {
			i := k % n
			tok, err := db.Authenticate(ctx, secrets[i])
			switch {
			case i == 5:
				if popkit.ErrorCode(err) != popkit.EUNAUTHORIZED {
					t.Errorf("revoked token: %v", err)
				}
			case err != nil || tok.ID != ids[i]:
				t.Errorf("token %d: %+v, %v", i, tok, err)
			}
		})
	}
	wg.Wait()
}
