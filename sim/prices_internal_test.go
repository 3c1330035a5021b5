package sim

import "testing"

func TestPriceIn(t *testing.T) {
	for _, tt := range []struct {
		gbp    int64
		factor float64
		want   int64
	}{
		{250, 1.20, 299},   // 3.00 → 2.99
		{1000, 1.35, 1349}, // 13.50 → 13.49
		{1234, 2.10, 2594}, // 25.914 → 25.95 → 25.94
		{1234, 1, 1234},    // GBP as it is
		{2, 1.20, 5},       // a price point would be below 0.05: kept at 0.05
	} {
		if got := priceIn(tt.gbp, tt.factor); got != tt.want {
			t.Errorf("priceIn(%d, %v) = %d, want %d", tt.gbp, tt.factor, got, tt.want)
		}
	}
	if got := listPriceIn(250, "EUR"); got != 299 {
		t.Errorf("listPriceIn(250, EUR) = %d, want 299", got)
	}
	if got := listPriceIn(250, ""); got != 250 {
		t.Errorf("listPriceIn(250, \"\") = %d, want 250", got)
	}
}
