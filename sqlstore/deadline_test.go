package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"
)

// TestTokenReadDeadline: on PostgreSQL a batched token read that the
// database does not answer (the table is locked) ends when the caller's
// context ends, and, for a caller without a deadline, when the DB's
// QueryTimeout passes, as EUNAVAILABLE; neither waits for the lock.
func TestTokenReadDeadline(t *testing.T) {
	const within = 5 * time.Second
	// lockedToken opens a database whose QueryTimeout is timeout (set
	// before any read starts: the batch reader reads it), creates a token
	// and locks the tokens table for longer than any read may wait.
	lockedToken := func(t *testing.T, timeout time.Duration) (*sqlstore.DB, string) {
		db := sqlstoretest.OpenPostgres(t, postgresOnly(t))
		db.QueryTimeout = timeout
		ctx := t.Context()
		tok := &popkit.Token{Name: "t", Role: popkit.RoleCurator}
		secret, err := db.CreateToken(ctx, tok)
		must(t, err)
		lock, err := db.SQL().BeginTx(ctx, nil)
		must(t, err)
		_, err = lock.ExecContext(ctx, `LOCK TABLE tokens IN ACCESS EXCLUSIVE MODE`)
		must(t, err)
		// Without the deadlines the reads below would wait for this.
		release := time.AfterFunc(20*time.Second, func() { lock.Rollback() })
		t.Cleanup(func() { release.Stop(); lock.Rollback() })
		return db, secret
	}

	t.Run("caller context", func(t *testing.T) {
		db, secret := lockedToken(t, 0)
		cctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		if _, err := db.Authenticate(cctx, secret); err == nil {
			t.Error("read under a lock succeeded")
		}
		if took := time.Since(start); took > within {
			t.Errorf("read with a 300ms context took %s", took)
		}
	})

	t.Run("query timeout", func(t *testing.T) {
		db, secret := lockedToken(t, 300*time.Millisecond)
		start := time.Now()
		_, err := db.Authenticate(t.Context(), secret)
		if popkit.ErrorCode(err) != popkit.EUNAVAILABLE {
			t.Errorf("read past QueryTimeout: %v, want EUNAVAILABLE", err)
		}
		if took := time.Since(start); took > within {
			t.Errorf("read with a 300ms QueryTimeout took %s", took)
		}
	})
}
