package popkit_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/popkit/popkit"
)

func TestCurrencyExponent(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]int{"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3, "EUR": 2, "GBP": 2, "USD": 2, "AUD": 2, "CLF": 4} {
		if got, ok := popkit.CurrencyExponent(code); !ok || got != want {
			t.Errorf("CurrencyExponent(%s) = %d, %v; want %d, true", code, got, ok, want)
		}
	}
	for _, code := range []string{"", "eur", "EURO", "XXY", "ZWL"} {
		if _, ok := popkit.CurrencyExponent(code); ok {
			t.Errorf("CurrencyExponent(%q) is known", code)
		}
	}
}

func TestFXRateValidate(t *testing.T) {
	t.Parallel()
	valid := func() popkit.FXRate {
		return popkit.FXRate{Day: "2026-03-02", Base: "EUR", Quote: "GBP", Rate: "0.8571"}
	}
	tests := []struct {
		name   string
		change func(r *popkit.FXRate)
		fields []string
	}{
		{"valid", func(*popkit.FXRate) {}, nil},
		{"integer rate", func(r *popkit.FXRate) { r.Rate = "161" }, nil},
		{"not a day", func(r *popkit.FXRate) { r.Day = "2026-02-30" }, []string{"day"}},
		{"day with time", func(r *popkit.FXRate) { r.Day = "2026-03-02T00:00" }, []string{"day"}},
		{"unknown base", func(r *popkit.FXRate) { r.Base = "EUX" }, []string{"base"}},
		{"same currency", func(r *popkit.FXRate) { r.Quote = "EUR" }, []string{"quote"}},
		{"zero rate", func(r *popkit.FXRate) { r.Rate = "0.000" }, []string{"rate"}},
		{"negative rate", func(r *popkit.FXRate) { r.Rate = "-1.2" }, []string{"rate"}},
		{"exponent", func(r *popkit.FXRate) { r.Rate = "1e3" }, []string{"rate"}},
		{"fraction", func(r *popkit.FXRate) { r.Rate = "1/3" }, []string{"rate"}},
		{"trailing point", func(r *popkit.FXRate) { r.Rate = "1." }, []string{"rate"}},
		{"N/A", func(r *popkit.FXRate) { r.Rate = "N/A" }, []string{"rate"}},
		{"too many digits", func(r *popkit.FXRate) { r.Rate = "1.0000000000000000000000001" }, []string{"rate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid()
			tt.change(&r)
			checkFields(t, r.Validate(), tt.fields...)
		})
	}
}

// TestConvertMinor checks conversions computed by hand.
func TestConvertMinor(t *testing.T) {
	t.Parallel()
	eurGBP := &popkit.FXRate{Day: "2026-03-02", Base: "EUR", Quote: "GBP", Rate: "0.8571"}
	eurJPY := &popkit.FXRate{Day: "2026-03-02", Base: "EUR", Quote: "JPY", Rate: "161.25"}
	eurBHD := &popkit.FXRate{Day: "2026-03-02", Base: "EUR", Quote: "BHD", Rate: "0.4081"}
	tests := []struct {
		name     string
		amount   int64
		from, to string
		rate     *popkit.FXRate
		want     int64
	}{
		// 10.00 EUR × 0.8571 = 8.571 GBP → 857 pence.
		{"EUR to GBP", 1000, "EUR", "GBP", eurGBP, 857},
		// 8.57 GBP ÷ 0.8571 = 9.99883… EUR → 1000 cents.
		{"GBP to EUR by the inverse", 857, "GBP", "EUR", eurGBP, 1000},
		// 0.50 EUR × 0.8571 = 0.42855 → 43 (not a tie).
		{"half cent up", 50, "EUR", "GBP", eurGBP, 43},
		// 1.00 EUR × 161.25 = 161.25 JPY → 161 (JPY has no minor unit).
		{"EUR to JPY", 100, "EUR", "JPY", eurJPY, 161},
		// 1.00 EUR × 0.4081 = 0.4081 BHD → 408 fils (exponent 3).
		{"EUR to BHD", 100, "EUR", "BHD", eurBHD, 408},
		// 0.02 EUR × 161.25 = 3.225 JPY → 3.
		{"tiny to JPY", 2, "EUR", "JPY", eurJPY, 3},
		// Ties to even at a rate of 0.5: 0.01 EUR → 0.5 pence → 0;
		// 0.03 EUR → 1.5 pence → 2; −0.03 EUR → −1.5 pence → −2.
		{"tie to even down", 1, "EUR", "GBP", &popkit.FXRate{Base: "EUR", Quote: "GBP", Rate: "0.5"}, 0},
		{"tie to even up", 3, "EUR", "GBP", &popkit.FXRate{Base: "EUR", Quote: "GBP", Rate: "0.5"}, 2},
		{"negative tie", -3, "EUR", "GBP", &popkit.FXRate{Base: "EUR", Quote: "GBP", Rate: "0.5"}, -2},
		{"negative", -1000, "EUR", "GBP", eurGBP, -857},
		{"same currency needs no rate", 1234, "GBP", "GBP", nil, 1234},
		// A derived fraction: 3.00 USD at 1/3 → 1.00.
		{"fraction rate", 300, "USD", "EUR", &popkit.FXRate{Base: "USD", Quote: "EUR", Rate: "1/3", Derived: "inverse"}, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := popkit.ConvertMinor(tt.amount, tt.from, tt.to, tt.rate)
			if err != nil || got != tt.want {
				t.Errorf("ConvertMinor(%d, %s, %s) = %d, %v; want %d", tt.amount, tt.from, tt.to, got, err, tt.want)
			}
		})
	}
}

func TestConvertMinorErrors(t *testing.T) {
	t.Parallel()
	eurGBP := &popkit.FXRate{Base: "EUR", Quote: "GBP", Rate: "0.8571"}
	tests := []struct {
		name     string
		amount   int64
		from, to string
		rate     *popkit.FXRate
		code     string
	}{
		{"missing rate", 100, "EUR", "GBP", nil, popkit.EINVALID},
		{"unrelated rate", 100, "EUR", "USD", eurGBP, popkit.EINVALID},
		{"unknown currency", 100, "EUX", "GBP", eurGBP, popkit.EINVALID},
		{"bad rate", 100, "EUR", "GBP", &popkit.FXRate{Base: "EUR", Quote: "GBP", Rate: "x"}, popkit.EINVALID},
		{"zero rate", 100, "EUR", "GBP", &popkit.FXRate{Base: "EUR", Quote: "GBP", Rate: "0"}, popkit.EINVALID},
		{"overflow", math.MaxInt64, "EUR", "JPY", &popkit.FXRate{Base: "EUR", Quote: "JPY", Rate: "161"}, popkit.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := popkit.ConvertMinor(tt.amount, tt.from, tt.to, tt.rate)
			if popkit.ErrorCode(err) != tt.code {
				t.Errorf("error %v, want code %s", err, tt.code)
			}
		})
	}
}

func TestAllocateMinor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		total   int64
		weights []int64
		want    []int64
	}{
		// 100 / 3 = 33.33 each; the one unit left goes to the first tie.
		{"thirds", 100, []int64{1, 1, 1}, []int64{34, 33, 33}},
		// 10 × 2/7 = 2.857, × 5/7 = 7.142: floors 2 and 7, remainder to the first.
		{"largest remainder", 10, []int64{2, 5}, []int64{3, 7}},
		{"zero weight", 7, []int64{0, 3}, []int64{0, 7}},
		{"exact", 600, []int64{1, 2, 3}, []int64{100, 200, 300}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := popkit.AllocateMinor(tt.total, tt.weights)
			if err != nil || !equalInts(got, tt.want) {
				t.Errorf("AllocateMinor(%d, %v) = %v, %v; want %v", tt.total, tt.weights, got, err, tt.want)
			}
		})
	}
	if _, err := popkit.AllocateMinor(10, []int64{0, 0}); popkit.ErrorCode(err) != popkit.EINVALID {
		t.Errorf("all-zero weights: %v, want EINVALID", err)
	}
	if _, err := popkit.AllocateMinor(10, []int64{-1, 2}); popkit.ErrorCode(err) != popkit.EINVALID {
		t.Errorf("negative weight: %v, want EINVALID", err)
	}
}

// TestConvertSumProperty checks over random amounts, rates and currencies
// that conversion never loses or invents a minor unit across a sum:
//
//   - each ConvertMinor result is within half a minor unit of the exact
//     value (|got − exact| ≤ ½, computed with big.Rat);
//   - Σ ConvertMinor(part) differs from ConvertMinor(Σ part) by at most
//     ⌊(n+1)/2⌋ minor units for n parts (n rounding errors of at most ½
//     each, plus the sum's own);
//   - ConvertParts adds up exactly to ConvertMinor(Σ part), and each of its
//     results is less than one minor unit from the part's exact value;
//   - AllocateMinor's shares add up to the total exactly.
func TestConvertSumProperty(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(12, 2026))
	codes := []string{"EUR", "GBP", "USD", "AUD", "JPY", "BHD", "KWD", "CLF"}
	for iter := 0; iter < 1000; iter++ {
		from, to := codes[rng.IntN(len(codes))], codes[rng.IntN(len(codes))]
		var rate *popkit.FXRate
		if from != to {
			r := randomRate(rng)
			if rng.IntN(2) == 0 {
				rate = &popkit.FXRate{Base: from, Quote: to, Rate: r}
			} else {
				rate = &popkit.FXRate{Base: to, Quote: from, Rate: r}
			}
		}
		n := 1 + rng.IntN(40)
		parts := make([]int64, n)
		var sum int64
		for i := range parts {
			parts[i] = rng.Int64N(2_000_000) - 200_000 // refunds are negative
			sum += parts[i]
		}
		var sumOfConverted int64
		for _, p := range parts {
			got, err := popkit.ConvertMinor(p, from, to, rate)
			if err != nil {
				t.Fatalf("ConvertMinor(%d, %s, %s, %+v): %v", p, from, to, rate, err)
			}
			if d := new(big.Rat).Sub(new(big.Rat).SetInt64(got), exactValue(p, from, to, rate)); d.Abs(d).Cmp(big.NewRat(1, 2)) > 0 {
				t.Fatalf("ConvertMinor(%d, %s, %s, %s) = %d, off by %s", p, from, to, rate.Rate, got, d.FloatString(4))
			}
			sumOfConverted += got
		}
		convertedSum, err := popkit.ConvertMinor(sum, from, to, rate)
		if err != nil {
			t.Fatal(err)
		}
		if d := sumOfConverted - convertedSum; d < -int64((n+1)/2) || d > int64((n+1)/2) {
			t.Fatalf("%d parts: Σ converted %d, converted Σ %d: differ by %d > %d", n, sumOfConverted, convertedSum, d, (n+1)/2)
		}
		split, err := popkit.ConvertParts(parts, from, to, rate)
		if err != nil {
			t.Fatal(err)
		}
		var splitSum int64
		for i, s := range split {
			splitSum += s
			if d := new(big.Rat).Sub(new(big.Rat).SetInt64(s), exactValue(parts[i], from, to, rate)); d.Abs(d).Cmp(big.NewRat(1, 1)) >= 0 {
				t.Fatalf("ConvertParts part %d = %d, a unit or more from exact %s", i, s, exactValue(parts[i], from, to, rate).FloatString(4))
			}
		}
		if splitSum != convertedSum {
			t.Fatalf("ConvertParts adds up to %d, converted sum is %d (lost or invented %d)", splitSum, convertedSum, splitSum-convertedSum)
		}
		weights := make([]int64, n)
		for i := range weights {
			weights[i] = rng.Int64N(1000)
		}
		weights[rng.IntN(n)]++
		total := rng.Int64N(10_000_000)
		shares, err := popkit.AllocateMinor(total, weights)
		if err != nil {
			t.Fatal(err)
		}
		var shareSum int64
		for _, s := range shares {
			shareSum += s
		}
		if shareSum != total {
			t.Fatalf("AllocateMinor(%d, %v) adds up to %d", total, weights, shareSum)
		}
	}
}

// randomRate returns a decimal rate between 0.0001 and 9999.9999.
func randomRate(rng *rand.Rand) string {
	r := new(big.Rat).SetFrac64(1+rng.Int64N(99_999_999), 10_000)
	return r.FloatString(4)
}

// exactValue is the exact converted amount, written independently of the
// package: amount / 10^ef × rate × 10^et.
func exactValue(amount int64, from, to string, rate *popkit.FXRate) *big.Rat {
	ef, _ := popkit.CurrencyExponent(from)
	et, _ := popkit.CurrencyExponent(to)
	q := new(big.Rat).SetInt64(amount)
	if rate != nil {
		r, _ := new(big.Rat).SetString(rate.Rate)
		if rate.Base == from {
			q.Mul(q, r)
		} else {
			q.Quo(q, r)
		}
	}
	ten := new(big.Rat).SetInt64(10)
	for i := ef; i < et; i++ {
		q.Mul(q, ten)
	}
	for i := et; i < ef; i++ {
		q.Quo(q, ten)
	}
	return q
}

func TestFormatMinor(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		amount   int64
		currency string
		want     string
	}{
		{1250, "EUR", "12.50 EUR"}, {5, "GBP", "0.05 GBP"}, {1200, "JPY", "1200 JPY"}, {-125, "BHD", "-0.125 BHD"},
	} {
		if got := popkit.FormatMinor(tt.amount, tt.currency); got != tt.want {
			t.Errorf("FormatMinor(%d, %s) = %q, want %q", tt.amount, tt.currency, got, tt.want)
		}
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
