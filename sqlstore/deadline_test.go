package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// TestTokenReadDeadline: on PostgreSQL a batched token read that the
// database does not answer (the table is locked) ends when the caller's
// context ends, and, for a caller without a deadline, when the DB's
// QueryTimeout passes, as EUNAVAILABLE; neither waits for the lock.
func TestTokenReadDeadline(t *testing.T) {
	db := sqlstoretest.OpenPostgres(t, postgresOnly(t))
	ctx := t.Context()
	tok := &popkit.Token{Name: "t", Role: popkit.RoleCurator}
	secret, err := db.CreateToken(ctx, tok)
	must(t, err)

	lock, err := db.SQL().BeginTx(ctx, nil)
	must(t, err)
	_, err = lock.ExecContext(ctx, `LOCK TABLE tokens IN ACCESS EXCLUSIVE MODE`)
	must(t, err)
	// Without the deadlines the reads below would wait for this.
	const held = 20 * time.Second
	release := time.AfterFunc(held, func() { lock.Rollback() })
	t.Cleanup(func() { release.Stop(); lock.Rollback() })
	const within = 5 * time.Second

	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := db.Authenticate(cctx, secret); err == nil {
		t.Error("read under a lock succeeded")
	}
	if took := time.Since(start); took > within {
		t.Errorf("read with a 300ms context took %s", took)
	}

	db.QueryTimeout = 300 * time.Millisecond
	start = time.Now()
	_, err = db.Authenticate(ctx, secret)
	if popkit.ErrorCode(err) != popkit.EUNAVAILABLE {
		t.Errorf("read past QueryTimeout: %v, want EUNAVAILABLE", err)
	}
	if took := time.Since(start); took > within {
		t.Errorf("read with a 300ms QueryTimeout took %s", took)
	}
}
