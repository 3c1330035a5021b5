package forecast

import "math"

// Croston is Croston's method (Croston 1972) for intermittent demand: SES
// with constant Alpha on the non-zero demand sizes z and on the intervals p
// between them, both updated only in periods with demand, initialised from
// the first demand; forecast z/p. With Bias set it is the Syntetos–Boylan
// Approximation (SBA, Syntetos & Boylan 2005): (1 − α/2)·z/p.
type Croston struct {
	Alpha float64
	Bias  bool
}

// Name returns "croston" or "sba".
func (m Croston) Name() string {
	if m.Bias {
		return "sba"
	}
	return "croston"
}

// Forecast implements Method.
func (m Croston) Forecast(y []float64, h int, out []float64) {
	f := crostonLevel(y, m.Alpha)
	if m.Bias {
		f *= 1 - m.Alpha/2
	}
	for j := range h {
		out[j] = f
	}
}

// crostonLevel returns z/p of Croston's method on y, 0 without demand.
func crostonLevel(y []float64, a float64) float64 {
	var z, p float64
	q := 1.0
	started := false
	for _, v := range y {
		if v <= 0 {
			q++
			continue
		}
		if !started {
			z, p, started = v, q, true
		} else {
			z += a * (v - z)
			p += a * (q - p)
		}
		q = 1
	}
	if !started {
		return 0
	}
	return z / p
}

// TSB is the Teunter–Syntetos–Babai method (2011): the demand probability d
// is smoothed every period, d ← d + Beta·(1[y>0] − d), and the size z only
// in periods with demand, z ← z + Alpha·(y − z); forecast d·z. It starts
// from the first demand's size and the share of periods with demand.
type TSB struct{ Alpha, Beta float64 }

// Name returns "tsb".
func (TSB) Name() string { return "tsb" }

// Forecast implements Method.
func (m TSB) Forecast(y []float64, h int, out []float64) {
	var z, nz float64
	for _, v := range y {
		if v > 0 {
			if nz == 0 {
				z = v
			}
			nz++
		}
	}
	d := nz / float64(len(y))
	if nz > 0 {
		started := false
		for _, v := range y {
			if v > 0 {
				if started {
					z += m.Alpha * (v - z)
				}
				started = true
				d += m.Beta * (1 - d)
			} else {
				d -= m.Beta * d
			}
		}
	}
	for j := range h {
		out[j] = d * z
	}
}

// ADIDA is the aggregate–disaggregate intermittent demand approach
// (Nikolopoulos et al. 2011): y is summed over non-overlapping buckets of
// Bucket periods, aligned to end at the last value (a partial first bucket
// is dropped), SES with α chosen by least squares forecasts the bucket
// total, and each period gets total/Bucket. Bucket zero means the mean
// interval between demands, rounded (at least 1).
type ADIDA struct{ Bucket int }

// Name returns "adida".
func (ADIDA) Name() string { return "adida" }

// Forecast implements Method.
func (m ADIDA) Forecast(y []float64, h int, out []float64) {
	k := m.Bucket
	if k <= 0 {
		k = meanInterval(y)
	}
	f := aggregateSES(y, k)
	for j := range h {
		out[j] = f
	}
}

// IMAPA is the intermittent multiple aggregation prediction algorithm
// (Petropoulos & Kourentzes 2015): the mean over bucket sizes k = 1..K of
// the ADIDA per-period forecast with bucket k, K = MaxBucket or, when zero,
// the mean interval between demands rounded up (at least 1).
type IMAPA struct{ MaxBucket int }

// Name returns "imapa".
func (IMAPA) Name() string { return "imapa" }

// Forecast implements Method.
func (m IMAPA) Forecast(y []float64, h int, out []float64) {
	K := m.MaxBucket
	if K <= 0 {
		K = int(math.Ceil(meanIntervalF(y)))
		K = max(K, 1)
	}
	f := 0.0
	for k := 1; k <= K; k++ {
		f += aggregateSES(y, k)
	}
	f /= float64(K)
	for j := range h {
		out[j] = f
	}
}

// aggregateSES returns the SES forecast of bucket totals of size k, per
// period.
func aggregateSES(y []float64, k int) float64 {
	nb := len(y) / k
	if nb == 0 {
		return mean(y)
	}
	var buf [512]float64
	var agg []float64
	if nb <= len(buf) {
		agg = buf[:nb]
	} else {
		agg = make([]float64, nb)
	}
	off := len(y) - nb*k
	for b := range nb {
		s := 0.0
		for _, v := range y[off+b*k : off+(b+1)*k] {
			s += v
		}
		agg[b] = s
	}
	return sesLevel(agg, FitSESAlpha(agg)) / float64(k)
}

// meanIntervalF returns the mean number of periods between demands (the
// series length when there is at most one demand).
func meanIntervalF(y []float64) float64 {
	nz := 0
	for _, v := range y {
		if v > 0 {
			nz++
		}
	}
	if nz == 0 {
		return float64(len(y))
	}
	return float64(len(y)) / float64(nz)
}

func meanInterval(y []float64) int {
	return max(1, int(math.Round(meanIntervalF(y))))
}

func mean(y []float64) float64 {
	if len(y) == 0 {
		return 0
	}
	s := 0.0
	for _, v := range y {
		s += v
	}
	return s / float64(len(y))
}
