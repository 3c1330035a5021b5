package sim

import (
	"math/rand/v2"
	"testing"
)

func TestBuyers(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, entries := range []int64{40, 5000} { // exact draws and the normal approximation
		var bought, seen int64
		for range 200 {
			bought += Buyers(rng, entries, 0.25)
			seen += entries
		}
		if r := float64(bought) / float64(seen); r < 0.24 || r > 0.26 {
			t.Errorf("%d entries at a time: %.3f bought, want 0.25", entries, r)
		}
	}
	if n := Buyers(rng, 0, 0.3); n != 0 {
		t.Errorf("no entries, %d buyers", n)
	}
	for range 100 {
		if c := DrawConversion(rng); c < ConversionLow || c > ConversionHigh {
			t.Fatalf("conversion %v outside [%v, %v]", c, ConversionLow, ConversionHigh)
		}
	}
}

// TestPickWeighted checks that products are drawn in proportion to their
// UCI demand and never twice in one basket.
func TestPickWeighted(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	w := []float64{3000, 1000, 0}
	counts := make([]int, len(w))
	for range 4000 {
		got := pickWeighted(rng, w, 1)
		counts[got[0]]++
		if two := pickWeighted(rng, w, 3); len(two) != 2 || two[0] == two[1] {
			t.Fatalf("three from two weighted products: %v", two)
		}
	}
	if counts[2] != 0 || counts[0] < 2800 || counts[0] > 3200 {
		t.Errorf("draws %v, want about 3000:1000:0", counts)
	}
	if demandWeight("Jumbo Bag Red Retrospot") <= demandWeight("no such product") {
		t.Error("a best seller of the UCI data weighs no more than an unknown product")
	}
}
