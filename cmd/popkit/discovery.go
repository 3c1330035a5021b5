package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sim"
)

// envBillingSecret names the variable that holds the payment provider's
// webhook signing secret. Standard Webhooks providers show it as
// "whsec_<base64>"; any other value is used as raw bytes. When it is unset
// the server uses a secret generated once and stored in the database
// (shared by all replicas), which `popkit demo` prints.
const envBillingSecret = "POPKIT_BILLING_SECRET"

// billingSecret returns the billing webhook secret from the environment,
// or nil when it is unset.
func billingSecret() ([]byte, error) {
	v := os.Getenv(envBillingSecret)
	if v == "" {
		return nil, nil
	}
	if b64, ok := strings.CutPrefix(v, "whsec_"); ok {
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(b) < 16 {
			return nil, errors.New(envBillingSecret + ": a whsec_ secret must be base64 of at least 16 bytes")
		}
		return b, nil
	}
	if len(v) < 16 {
		return nil, errors.New(envBillingSecret + ": must be at least 16 characters")
	}
	return []byte(v), nil
}

// seedDiscovery looks up the demo's listings, tiers and members (seeding
// them when seedDemo has not) and prints where to look: the curator queue,
// the listing in review, the members-only listing and a member's personal
// link.
func seedDiscovery(ctx context.Context, m *Main, out io.Writer, now time.Time) error {
	res, err := sim.SeedListings(ctx, sim.ListingServices{Brands: m.DB, Events: m.DB, Listings: m.DB, Tiers: m.DB, Members: m.DB},
		sim.SeedOptions{Now: now})
	if err != nil {
		return fmt.Errorf("seed listings: %w", err)
	}
	base := m.URL()
	if res.InReview != nil {
		fmt.Fprintf(out, "in review:    %s/e/%s (a revision waits in the curator queue at %s/curator)\n", base, res.InReview.Slug, base)
	}
	if res.MembersOnly != nil {
		fmt.Fprintf(out, "members only: %s/e/%s (public from %s)\n", base, res.MembersOnly.Slug, res.MembersOnly.Live.PublicFrom.Format(time.RFC3339))
	}
	if res.Cancelled != nil {
		fmt.Fprintf(out, "cancelled:    %s/e/%s\n", base, res.Cancelled.Slug)
	}
	if res.Member != nil {
		key, err := m.DB.Secret(ctx, popkit.SecretMemberLink)
		if err != nil {
			return fmt.Errorf("member link secret: %w", err)
		}
		code := popkit.SignMemberCode(key, res.Member.ID, now.Add(90*24*time.Hour))
		fmt.Fprintf(out, "member link:  %s/m/%s (%s)\n", base, code, res.Member.Email)
	}
	if os.Getenv(envBillingSecret) == "" {
		key, err := m.DB.Secret(ctx, popkit.SecretBilling)
		if err != nil {
			return fmt.Errorf("billing secret: %w", err)
		}
		fmt.Fprintf(out, "billing webhook secret: whsec_%s\n", base64.StdEncoding.EncodeToString(key))
	}
	return nil
}
