package fulfil

import (
	"math/rand"
	"reflect"
	"testing"
	"time"

	"github.com/popkit/popkit"
)

func TestSplitCost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		total   int64
		weights []int64
		want    []int64
	}{
		{"even", 900, []int64{1, 1, 1}, []int64{300, 300, 300}},
		{"thirds of 100", 100, []int64{1, 1, 1}, []int64{34, 33, 33}},
		{"largest remainder wins", 10, []int64{1, 2, 4}, []int64{1, 3, 6}},
		{"zero weight gets nothing", 7, []int64{0, 3, 4}, []int64{0, 3, 4}},
		{"all zero splits equally", 5, []int64{0, 0}, []int64{3, 2}},
		{"zero cost", 0, []int64{5, 7}, []int64{0, 0}},
		{"one part", 999, []int64{17}, []int64{999}},
		{"huge numbers", 1 << 61, []int64{1 << 40, 3 << 40}, []int64{1 << 59, 3 << 59}},
		{"primes", 1009, []int64{7, 11, 13}, []int64{228, 358, 423}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitCost(tc.total, tc.weights)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("SplitCost(%d, %v) = %v, %v; want %v", tc.total, tc.weights, got, err, tc.want)
			}
		})
	}
	for _, bad := range []struct {
		name    string
		total   int64
		weights []int64
	}{{"negative total", -1, []int64{1}}, {"negative weight", 5, []int64{1, -1}}, {"no weights", 5, nil}} {
		t.Run(bad.name, func(t *testing.T) {
			if _, err := SplitCost(bad.total, bad.weights); popkit.ErrorCode(err) != popkit.EINVALID {
				t.Errorf("SplitCost = %v, want EINVALID", err)
			}
		})
	}
}

// TestSplitCostProperties checks, over many random awkward cases with a
// fixed seed, that the parts sum exactly to the total and each part is
// within one minor unit of its exact pro-rata share (floor or ceiling),
// and that a heavier weight never gets less than a lighter one.
func TestSplitCostProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(2026))
	for k := 0; k < 20000; k++ {
		n := 1 + rng.Intn(12)
		weights := make([]int64, n)
		var sum int64
		for i := range weights {
			switch rng.Intn(4) {
			case 0:
				weights[i] = 0
			case 1:
				weights[i] = 1 + rng.Int63n(3)
			default:
				weights[i] = rng.Int63n(1_000_000)
			}
			sum += weights[i]
		}
		total := rng.Int63n(1_000_000_007)
		parts, err := SplitCost(total, weights)
		if err != nil {
			t.Fatal(err)
		}
		var got int64
		for i, p := range parts {
			got += p
			if sum > 0 {
				lo := total * weights[i] / sum // exact enough: total*w < 2^63 here
				if p != lo && p != lo+1 {
					t.Fatalf("case %d: part %d = %d, exact share %d..%d (total %d weights %v)", k, i, p, lo, lo+1, total, weights)
				}
			}
			for j := range parts {
				if weights[i] > weights[j] && parts[i] < parts[j] {
					t.Fatalf("case %d: heavier %d got %d < %d", k, i, parts[i], parts[j])
				}
			}
		}
		if got != total {
			t.Fatalf("case %d: parts %v sum to %d, want %d", k, parts, got, total)
		}
	}
}

func TestBundleLifecycle(t *testing.T) {
	t.Parallel()
	cutoff := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	before := cutoff.Add(-time.Hour)
	b, err := NewBundle(id(500), id(1), cutoff, 1000, ByUnits)
	if err != nil {
		t.Fatal(err)
	}
	brandA, brandB := id(801), id(802)
	joins := []Member{
		{OrderID: id(1), BrandID: brandA, Units: 1, WeightGrams: 100},
		{OrderID: id(2), BrandID: brandA, Units: 1, WeightGrams: 100},
		{OrderID: id(3), BrandID: brandB, Units: 1, WeightGrams: 800},
		{OrderID: id(4), BrandID: brandB, Units: 5, WeightGrams: 10},
	}
	for _, m := range joins {
		if err := b.Join(m, before); err != nil {
			t.Fatalf("join %s: %v", m.OrderID, err)
		}
	}
	if err := b.Join(joins[0], before); popkit.ErrorCode(err) != popkit.ECONFLICT {
		t.Errorf("join twice: %v", err)
	}
	if err := b.Leave(id(4), before); err != nil {
		t.Fatal(err)
	}
	if err := b.Leave(id(4), before); popkit.ErrorCode(err) != popkit.ENOTFOUND {
		t.Errorf("leave twice: %v", err)
	}
	// Units 1,1 for brand A and 1 for brand B: 1000 splits 667/333 by
	// brand, then 334/333 within brand A.
	wantShares := []int64{334, 333, 333}
	for i, m := range b.Members {
		if m.ShareMinor != wantShares[i] {
			t.Errorf("member %d share %d, want %d", i, m.ShareMinor, wantShares[i])
		}
	}
	if got := b.BrandShares(); got[brandA] != 667 || got[brandB] != 333 {
		t.Errorf("brand shares %v", got)
	}
	b.Basis = ByWeight
	if err := b.Split(); err != nil {
		t.Fatal(err)
	}
	if got := b.BrandShares(); got[brandA] != 200 || got[brandB] != 800 {
		t.Errorf("brand shares by weight %v", got)
	}

	if err := b.Advance(BundleLocked, "cron", before); popkit.ErrorCode(err) != popkit.ECONFLICT {
		t.Errorf("lock before the cutoff: %v", err)
	}
	if b.LockDue(before) || !b.LockDue(cutoff) {
		t.Error("LockDue is wrong around the cutoff")
	}
	if err := b.Join(Member{OrderID: id(9), BrandID: brandA, Units: 1}, cutoff); popkit.ErrorCode(err) != popkit.ECONFLICT {
		t.Errorf("join at the cutoff while still forming: %v", err)
	}
	steps := []BundleState{BundleLocked, BundleKitting, BundleDispatched, BundleDelivered}
	for i, s := range steps {
		if err := b.Advance(s, "cron", cutoff.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatalf("advance to %s: %v", s, err)
		}
		if s == BundleLocked {
			if err := b.Leave(id(1), cutoff.Add(-time.Hour)); popkit.ErrorCode(err) != popkit.ECONFLICT {
				t.Errorf("leave after lock: %v", err)
			}
		}
	}
	if len(b.Steps) != 4 || b.State != BundleDelivered {
		t.Errorf("steps %+v", b.Steps)
	}
}

// TestBundleAdvanceEveryPair tries every pair of bundle states: only the
// next state in order is legal.
func TestBundleAdvanceEveryPair(t *testing.T) {
	t.Parallel()
	cutoff := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for i, from := range BundleStates {
		for j, to := range BundleStates {
			t.Run(string(from)+"→"+string(to), func(t *testing.T) {
				b, _ := NewBundle(id(1), id(2), cutoff, 100, ByUnits)
				b.Members = []Member{{OrderID: id(3), BrandID: id(4), Units: 1}}
				b.State = from
				err := b.Advance(to, "x", cutoff)
				if j == i+1 {
					if err != nil || b.State != to {
						t.Fatalf("Advance: %v", err)
					}
				} else if popkit.ErrorCode(err) != popkit.ECONFLICT || b.State != from {
					t.Fatalf("Advance = %v, want ECONFLICT", err)
				}
			})
		}
	}
	empty, _ := NewBundle(id(1), id(2), cutoff, 100, ByUnits)
	if err := empty.Advance(BundleLocked, "x", cutoff); popkit.ErrorCode(err) != popkit.ECONFLICT {
		t.Errorf("lock empty bundle: %v", err)
	}
}

// TestBundleSharesSumExactly joins random members to bundles with awkward
// costs and checks that order shares add up to brand shares and brand
// shares to the bundle's cost, on both bases.
func TestBundleSharesSumExactly(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(7))
	cutoff := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for k := 0; k < 2000; k++ {
		basis := ByUnits
		if k%2 == 1 {
			basis = ByWeight
		}
		b, err := NewBundle(id(1), id(2), cutoff, rng.Int63n(100_003), basis)
		if err != nil {
			t.Fatal(err)
		}
		for m := 0; m < 1+rng.Intn(15); m++ {
			mem := Member{OrderID: id(100 + m), BrandID: id(900 + rng.Intn(4)), Units: 1 + rng.Int63n(7), WeightGrams: rng.Int63n(3) * rng.Int63n(5000)}
			if err := b.Join(mem, cutoff.Add(-time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if rng.Intn(2) == 0 {
			if err := b.Leave(b.Members[0].OrderID, cutoff.Add(-time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		var sum int64
		for _, m := range b.Members {
			sum += m.ShareMinor
		}
		var brands int64
		for _, s := range b.BrandShares() {
			brands += s
		}
		if len(b.Members) > 0 && (sum != b.CostMinor || brands != b.CostMinor) {
			t.Fatalf("case %d: shares sum %d, brands %d, cost %d", k, sum, brands, b.CostMinor)
		}
	}
}
