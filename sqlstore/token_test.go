package sqlstore_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

func TestTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		clk := newClock(db, at)
		w := mkWorld(t, db)

		secrets := map[popkit.Role]string{}
		tokens := map[popkit.Role]*popkit.Token{}
		for _, tok := range []*popkit.Token{
			{Name: "root", Role: popkit.RoleAdmin},
			{Name: "curator", Role: popkit.RoleCurator},
			{Name: "brand", Role: popkit.RoleBrand, BrandID: w.brands[0].ID},
			{Name: "device", Role: popkit.RoleDevice, EventID: w.event.ID},
			{Name: "kitting", Role: popkit.RoleFulfiller, NodeID: popkit.NewID()},
		} {
			secret, err := db.CreateToken(ctx, tok)
			must(t, err)
			if !popkit.LooksLikeToken(secret) || !strings.HasPrefix(secret, tok.Prefix) || len(tok.Prefix) < 6 || tok.Hash != popkit.HashToken(secret) {
				t.Fatalf("CreateToken returned secret %q for %+v", secret, tok)
			}
			secrets[tok.Role], tokens[tok.Role] = secret, tok
		}

		t.Run("only the hash is stored", func(t *testing.T) {
			rows, err := db.SQL().QueryContext(ctx, "SELECT * FROM tokens")
			must(t, err)
			defer rows.Close()
			cols, err := rows.Columns()
			must(t, err)
			var dump strings.Builder
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				must(t, rows.Scan(ptrs...))
				for _, v := range vals {
					if b, ok := v.([]byte); ok {
						v = string(b)
					}
					fmt.Fprintf(&dump, "%v|", v)
				}
			}
			must(t, rows.Err())
			for role, secret := range secrets {
				if strings.Contains(dump.String(), secret) || strings.Contains(dump.String(), secret[len(popkit.TokenPrefix):]) {
					t.Errorf("the %s secret is stored in the tokens table", role)
				}
				if !strings.Contains(dump.String(), popkit.HashToken(secret)) {
					t.Errorf("the %s hash is not stored", role)
				}
			}
		})
		t.Run("authenticate", func(t *testing.T) {
			got, err := db.Authenticate(ctx, secrets[popkit.RoleBrand])
			must(t, err)
			if got.ID != tokens[popkit.RoleBrand].ID || got.Role != popkit.RoleBrand || got.BrandID != w.brands[0].ID || got.EventID != "" {
				t.Errorf("Authenticate = %+v", got)
			}
			got, err = db.Authenticate(ctx, secrets[popkit.RoleDevice])
			must(t, err)
			if got.EventID != w.event.ID || got.Role != popkit.RoleDevice {
				t.Errorf("device token = %+v", got)
			}
		})
		t.Run("last used at most once a minute", func(t *testing.T) {
			secret := secrets[popkit.RoleCurator]
			lastUsed := func() time.Time {
				t.Helper()
				list, _, err := db.FindTokens(ctx, popkit.TokenFilter{Role: popkit.RoleCurator})
				must(t, err)
				if len(list) != 1 || list[0].LastUsedAt == nil {
					t.Fatalf("curator tokens %+v", list)
				}
				return *list[0].LastUsedAt
			}
			first := clk.Now()
			_, err := db.Authenticate(ctx, secret)
			must(t, err)
			clk.Add(30 * time.Second)
			tok, err := db.Authenticate(ctx, secret)
			must(t, err)
			if got := lastUsed(); !got.Equal(first) || !tok.LastUsedAt.Equal(first) {
				t.Errorf("last used %v after 30s, want %v", got, first)
			}
			clk.Add(31 * time.Second)
			_, err = db.Authenticate(ctx, secret)
			must(t, err)
			if got := lastUsed(); !got.Equal(clk.Now()) {
				t.Errorf("last used %v after 61s, want %v", got, clk.Now())
			}
		})
		t.Run("revoke", func(t *testing.T) {
			id := tokens[popkit.RoleAdmin].ID
			must(t, db.RevokeToken(ctx, id))
			must(t, db.RevokeToken(ctx, id)) // twice is fine
			_, err := db.Authenticate(ctx, secrets[popkit.RoleAdmin])
			wantCode(t, err, popkit.EUNAUTHORIZED, "")

			live, _ := allPages(t, 2, func(t *popkit.Token) string { return t.ID }, func(p popkit.Page) ([]*popkit.Token, string, error) {
				return db.FindTokens(ctx, popkit.TokenFilter{Page: p})
			})
			all, _ := allPages(t, 2, func(t *popkit.Token) string { return t.ID }, func(p popkit.Page) ([]*popkit.Token, string, error) {
				return db.FindTokens(ctx, popkit.TokenFilter{IncludeRevoked: true, Page: p})
			})
			if len(live) != 4 || len(all) != 5 || slices.ContainsFunc(live, func(t *popkit.Token) bool { return t.ID == id }) {
				t.Errorf("%d live and %d tokens in all, want 4 and 5", len(live), len(all))
			}
			for _, tok := range all {
				if (tok.ID == id) != (tok.RevokedAt != nil) {
					t.Errorf("token %s revoked at %v", tok.Name, tok.RevokedAt)
				}
				if tok.Hash == "" || tok.Prefix == "" {
					t.Errorf("token %s listed without hash or prefix", tok.Name)
				}
			}
		})

		before := count(t, db, "tokens")
		errTests := []struct {
			name, code, field string
			call              func() error
		}{
			{"unknown secret", popkit.EUNAUTHORIZED, "", func() error {
				s, _ := popkit.NewTokenSecret()
				_, err := db.Authenticate(ctx, s)
				return err
			}},
			{"malformed secret", popkit.EUNAUTHORIZED, "", func() error { _, err := db.Authenticate(ctx, "Bearer nonsense"); return err }},
			{"missing scoped brand", popkit.EUNPROCESSABLE, "brand_id", func() error {
				_, err := db.CreateToken(ctx, &popkit.Token{Role: popkit.RoleBrand, BrandID: popkit.NewID()})
				return err
			}},
			{"missing scoped event", popkit.EUNPROCESSABLE, "event_id", func() error {
				_, err := db.CreateToken(ctx, &popkit.Token{Role: popkit.RoleDevice, EventID: popkit.NewID()})
				return err
			}},
			{"brand token without brand", popkit.EINVALID, "brand_id", func() error {
				_, err := db.CreateToken(ctx, &popkit.Token{Role: popkit.RoleBrand})
				return err
			}},
			{"unknown role", popkit.EINVALID, "role", func() error {
				_, err := db.CreateToken(ctx, &popkit.Token{Role: "root"})
				return err
			}},
			{"revoke missing", popkit.ENOTFOUND, "", func() error { return db.RevokeToken(ctx, popkit.NewID()) }},
			{"filter bad role", popkit.EINVALID, "role", func() error {
				_, _, err := db.FindTokens(ctx, popkit.TokenFilter{Role: "root"})
				return err
			}},
		}
		for _, tt := range errTests {
			t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), tt.code, tt.field) })
		}
		if n := count(t, db, "tokens"); n != before {
			t.Errorf("%d tokens after failed calls, want %d", n, before)
		}
	})
}

func TestDevices(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := mkWorld(t, db)
		other := mkEvent(t, db, w.venue.ID, []string{w.brands[0].ID})
		var want []string
		for i := range 5 {
			d := &popkit.Device{EventID: w.event.ID, Name: fmt.Sprintf("counter %d", i)}
			must(t, db.CreateDevice(ctx, d))
			want = append(want, d.ID)
		}
		must(t, db.CreateDevice(ctx, &popkit.Device{EventID: other.ID, Name: "fridge"}))

		t.Run("find", func(t *testing.T) {
			got, err := db.FindDeviceByID(ctx, want[0])
			must(t, err)
			if got.Name != "counter 0" || got.EventID != w.event.ID || got.LastSeenAt != nil {
				t.Errorf("device %+v", got)
			}
		})
		t.Run("list by event with pages", func(t *testing.T) {
			got, pages := allPages(t, 2, func(d *popkit.Device) string { return d.ID }, func(p popkit.Page) ([]*popkit.Device, string, error) {
				return db.FindDevices(ctx, popkit.DeviceFilter{EventID: w.event.ID, Page: p})
			})
			if !slices.Equal(ids(got, func(d *popkit.Device) string { return d.ID }), sortedIDs(want...)) || pages != 3 {
				t.Errorf("devices %v in %d pages", got, pages)
			}
		})
		t.Run("update", func(t *testing.T) {
			got, err := db.UpdateDevice(ctx, want[1], popkit.DeviceUpdate{Name: ptr("door")})
			must(t, err)
			again, err := db.FindDeviceByID(ctx, want[1])
			must(t, err)
			if got.Name != "door" || again.Name != "door" {
				t.Errorf("after update %+v", again)
			}
		})

		errTests := []struct {
			name, code, field string
			call              func() error
		}{
			{"missing event", popkit.EUNPROCESSABLE, "event_id", func() error {
				return db.CreateDevice(ctx, &popkit.Device{EventID: popkit.NewID(), Name: "x"})
			}},
			{"invalid name", popkit.EINVALID, "name", func() error {
				return db.CreateDevice(ctx, &popkit.Device{EventID: w.event.ID})
			}},
			{"update invalid", popkit.EINVALID, "name", func() error {
				_, err := db.UpdateDevice(ctx, want[0], popkit.DeviceUpdate{Name: ptr("")})
				return err
			}},
			{"update missing", popkit.ENOTFOUND, "", func() error {
				_, err := db.UpdateDevice(ctx, popkit.NewID(), popkit.DeviceUpdate{Name: ptr("x")})
				return err
			}},
			{"find missing", popkit.ENOTFOUND, "", func() error { _, err := db.FindDeviceByID(ctx, popkit.NewID()); return err }},
		}
		for _, tt := range errTests {
			t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), tt.code, tt.field) })
		}
		if n := count(t, db, "devices"); n != 6 {
			t.Errorf("%d devices after failed calls, want 6", n)
		}
	})
}

func TestIdempotency(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		clk := newClock(db, at)
		tokenID := popkit.NewID()
		rec := func(key string) *popkit.IdempotencyRecord {
			return &popkit.IdempotencyRecord{TokenID: tokenID, Key: key, Method: "POST", Path: "/api/v1/events", RequestHash: "abc"}
		}

		first := rec("k1")
		existing, claimed, err := db.ClaimIdempotencyKey(ctx, first)
		must(t, err)
		if !claimed || existing != nil || !first.CreatedAt.Equal(at) {
			t.Fatalf("first claim: existing %v claimed %v created %v", existing, claimed, first.CreatedAt)
		}

		existing, claimed, err = db.ClaimIdempotencyKey(ctx, rec("k1"))
		must(t, err)
		if claimed || existing == nil || !existing.InFlight() || existing.RequestHash != "abc" || existing.Method != "POST" {
			t.Fatalf("second claim: %+v claimed %v", existing, claimed)
		}

		clk.Add(time.Second)
		first.Status, first.ContentType, first.Location, first.Body = 201, "application/json", "/api/v1/events/1", []byte(`{"id":"1"}`)
		must(t, db.CompleteIdempotencyKey(ctx, first))
		existing, claimed, err = db.ClaimIdempotencyKey(ctx, rec("k1"))
		must(t, err)
		if claimed || existing.InFlight() || existing.Status != 201 || string(existing.Body) != `{"id":"1"}` ||
			existing.Location != "/api/v1/events/1" || existing.ContentType != "application/json" || !existing.CompletedAt.Equal(at.Add(time.Second)) {
			t.Fatalf("completed record %+v", existing)
		}

		t.Run("keys are per token", func(t *testing.T) {
			r := rec("k1")
			r.TokenID = popkit.NewID()
			_, claimed, err := db.ClaimIdempotencyKey(ctx, r)
			must(t, err)
			if !claimed {
				t.Error("another token's key k1 was not claimable")
			}
		})
		t.Run("release frees an in-flight key only", func(t *testing.T) {
			_, _, err := db.ClaimIdempotencyKey(ctx, rec("k2"))
			must(t, err)
			must(t, db.ReleaseIdempotencyKey(ctx, tokenID, "k2"))
			_, claimed, err := db.ClaimIdempotencyKey(ctx, rec("k2"))
			must(t, err)
			if !claimed {
				t.Error("released key could not be claimed again")
			}
			must(t, db.ReleaseIdempotencyKey(ctx, tokenID, "k1")) // completed: kept
			_, claimed, err = db.ClaimIdempotencyKey(ctx, rec("k1"))
			must(t, err)
			if claimed {
				t.Error("release deleted a completed key")
			}
		})
		t.Run("complete unknown key", func(t *testing.T) {
			wantCode(t, db.CompleteIdempotencyKey(ctx, rec("nope")), popkit.ENOTFOUND, "")
		})
		t.Run("empty key", func(t *testing.T) {
			_, _, err := db.ClaimIdempotencyKey(ctx, rec(""))
			wantCode(t, err, popkit.EINVALID, "idempotency_key")
		})
		t.Run("reap", func(t *testing.T) {
			clk.Add(time.Hour)
			_, _, err := db.ClaimIdempotencyKey(ctx, rec("late"))
			must(t, err)
			total := count(t, db, "idempotency_keys")
			n, err := db.ReapIdempotencyKeys(ctx, at.Add(30*time.Minute))
			must(t, err)
			if n != total-1 || count(t, db, "idempotency_keys") != 1 {
				t.Errorf("reaped %d of %d, left %d; want all but the late one", n, total, count(t, db, "idempotency_keys"))
			}
		})
	})
}

// TestIdempotency_ClaimRace claims one key from many goroutines at once,
// many times over: each time exactly one wins.
func TestIdempotency_ClaimRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		tokenID := popkit.NewID()
		for round := range 20 {
			key := fmt.Sprintf("race-%d", round)
			var winners, losers atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range 4 {
				wg.Go(func() {
					<-start
					existing, claimed, err := db.ClaimIdempotencyKey(ctx, &popkit.IdempotencyRecord{TokenID: tokenID, Key: key, Method: "POST", Path: "/x"})
					switch {
					case err != nil:
						t.Errorf("claim: %v", err)
					case claimed:
						winners.Add(1)
					case existing != nil && existing.Key == key:
						losers.Add(1)
					default:
						t.Errorf("lost claim without the existing record")
					}
				})
			}
			close(start)
			wg.Wait()
			if winners.Load() != 1 || losers.Load() != 3 {
				t.Fatalf("round %d: %d winners, %d losers; want 1 and 3", round, winners.Load(), losers.Load())
			}
		}
	})
}
