package sqlstore_test

import (
	"sync"
	"testing"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

// TestTokenReadBatch: on both stores one batch of token reads answers each
// read with its own token, or not found, in one statement; concurrent
// authentications all go through the readers and each gets its own token;
// a revoked token is refused by the next read.
func TestTokenReadBatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		testTokenReadBatch(t, db)
	})
}

func testTokenReadBatch(t *testing.T, db *sqlstore.DB) {
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
	reads0, stmts0 := db.TokenReadStats()
	got, errs := db.ReadTokenBatch(hashes)
	if reads, stmts := db.TokenReadStats(); reads-reads0 != 4 || stmts-stmts0 != 1 {
		t.Errorf("one batch of 4 reads counted as %d reads in %d statements", reads-reads0, stmts-stmts0)
	}
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
	reads0, stmts0 = db.TokenReadStats()
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
	reads, stmts := db.TokenReadStats()
	if reads-reads0 != 10*n || stmts-stmts0 > reads-reads0 {
		t.Errorf("%d authentications read %d tokens through the readers in %d statements", 10*n, reads-reads0, stmts-stmts0)
	}
	t.Logf("%d concurrent token reads took %d statements", reads-reads0, stmts-stmts0)
}
