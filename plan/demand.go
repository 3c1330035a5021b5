package plan

import (
	"fmt"
	"math"
	"sort"
)

// Demand is a SKU's demand distribution over an event's horizon (all its
// sessions together), in units, at the SKU's reference price.
type Demand interface {
	// Quantile returns the smallest whole number of units x with
	// P(D ≤ x) ≥ p, for p in [0, 1].
	Quantile(p float64) float64
	// ExpectedMin returns E[min(D, stock)], the expected units sold when
	// stock units are on the shelf. It is 0 for stock ≤ 0.
	ExpectedMin(stock int) float64
	// Mean returns E[D].
	Mean() float64
}

// survival returns P(D ≥ k) for k ≥ 1 as the increment of ExpectedMin,
// which holds for any distribution on whole units.
func survival(d Demand, k int) float64 {
	s := d.ExpectedMin(k) - d.ExpectedMin(k-1)
	return math.Min(1, math.Max(0, s))
}

// serviceLevel returns P(D ≤ q), the quantile of the distribution that a
// stock of q units covers.
func serviceLevel(d Demand, q int) float64 {
	return 1 - survival(d, q+1)
}

// Discrete is a demand distribution on whole units 0..len(PMF)-1. Its
// methods precompute nothing the caller can observe; build it with
// NewDiscrete so the tail sums are ready.
type Discrete struct {
	pmf  []float64
	surv []float64 // surv[k] = P(D ≥ k), k = 0..len(pmf)
	em   []float64 // em[k] = E[min(D, k)]
	mean float64
}

// NewDiscrete returns the distribution with the given probabilities of
// 0, 1, 2, … units. The weights must be non-negative with a positive sum;
// they are normalised.
func NewDiscrete(pmf []float64) (*Discrete, error) {
	var sum float64
	for k, p := range pmf {
		if p < 0 || math.IsNaN(p) || math.IsInf(p, 0) {
			return nil, fmt.Errorf("pmf[%d]: must be a non-negative number", k)
		}
		sum += p
	}
	if sum <= 0 {
		return nil, fmt.Errorf("pmf: needs a positive total weight")
	}
	d := &Discrete{pmf: make([]float64, len(pmf))}
	for k, p := range pmf {
		d.pmf[k] = p / sum
	}
	n := len(pmf)
	d.surv = make([]float64, n+1)
	for k := n - 1; k >= 0; k-- {
		d.surv[k] = d.surv[k+1] + d.pmf[k]
	}
	d.em = make([]float64, n+1)
	for k := 1; k <= n; k++ {
		d.em[k] = d.em[k-1] + math.Min(1, d.surv[k])
	}
	d.mean = d.em[n]
	return d, nil
}

// Quantile implements Demand.
func (d *Discrete) Quantile(p float64) float64 {
	var cum float64
	for k, m := range d.pmf {
		cum += m
		if cum >= p-1e-12 {
			return float64(k)
		}
	}
	return float64(len(d.pmf) - 1)
}

// ExpectedMin implements Demand.
func (d *Discrete) ExpectedMin(stock int) float64 {
	if stock <= 0 {
		return 0
	}
	if stock >= len(d.em) {
		return d.mean
	}
	return d.em[stock]
}

// Mean implements Demand.
func (d *Discrete) Mean() float64 { return d.mean }

// Quantiles is a forecast's quantiles of demand over the event's horizon,
// in units, as the forecast package produces them.
type Quantiles struct {
	Q50, Q80, Q90, Q95 float64
}

// maxSupport bounds the units a quantile-built distribution spans, so a
// wild forecast cannot allocate without bound.
const maxSupport = 1 << 20

// FromQuantiles turns a forecast's quantiles into a distribution on whole
// units. The cumulative distribution function F is piecewise linear
// through (q50, 0.50), (q80, 0.80), (q90, 0.90) and (q95, 0.95). Below the
// median it continues with the slope between q50 and q80 down to F = 0;
// where that line reaches zero units first, the remaining probability is a
// point mass at 0 units (intermittent demand). Above q95 the tail is
// exponential with the hazard implied between q90 and q95 (the survival
// halves over q95 − q90), cut where it falls under 1e-6. Whole units take
// F(k + 0.5) − F(k − 0.5), so the median of the result is round(q50).
// Quantiles must be non-negative and non-decreasing.
func FromQuantiles(q Quantiles) (*Discrete, error) {
	xs := []float64{q.Q50, q.Q80, q.Q90, q.Q95}
	ps := []float64{0.5, 0.8, 0.9, 0.95}
	for i, x := range xs {
		if x < 0 || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("quantile q%d: must be a non-negative number", int(ps[i]*100))
		}
		if i > 0 && x < xs[i-1] {
			return nil, fmt.Errorf("quantile q%d: must not be below q%d", int(ps[i]*100), int(ps[i-1]*100))
		}
	}
	// Strictly increasing knots: ties spread by a hair so F stays a function.
	for i := 1; i < len(xs); i++ {
		if xs[i] <= xs[i-1] {
			xs[i] = xs[i-1] + 1e-9
		}
	}
	lowSlope := 0.3 / (xs[1] - xs[0]) // probability per unit below the median
	tailScale := (xs[3] - xs[2]) / math.Ln2
	if tailScale < 1e-9 {
		tailScale = 1e-9
	}
	cdf := func(x float64) float64 {
		switch {
		case x < 0:
			return 0
		case x < xs[0]:
			return math.Max(0, 0.5-lowSlope*(xs[0]-x))
		case x < xs[3]:
			i := sort.SearchFloat64s(xs, x)
			if i > 0 && (i == len(xs) || xs[i] > x) {
				i--
			}
			t := (x - xs[i]) / (xs[i+1] - xs[i])
			return ps[i] + t*(ps[i+1]-ps[i])
		default:
			return 1 - 0.05*math.Exp(-(x-xs[3])/tailScale)
		}
	}
	top := xs[3] + tailScale*math.Log(0.05/1e-6)
	if top > maxSupport {
		return nil, fmt.Errorf("quantile q95: %.0f units is beyond the %d units a plan can span", xs[3], maxSupport)
	}
	n := int(math.Ceil(top)) + 1
	pmf := make([]float64, n)
	prev := 0.0
	for k := range n {
		c := cdf(float64(k) + 0.5)
		pmf[k] = c - prev
		prev = c
	}
	pmf[n-1] += 1 - prev
	return NewDiscrete(pmf)
}

// Empirical returns the distribution that puts equal weight on each past
// horizon total in samples (for example every rolling 7-day sum of the
// last 13 weeks of daily sales), rounded to whole units and floored at 0.
// It is the bootstrap distribution of those totals: no shape is assumed,
// and a demand never seen in the samples has probability 0, so it needs
// enough samples (the replay uses 85) to cover the upper tail.
func Empirical(samples []float64) (*Discrete, error) {
	if len(samples) == 0 {
		return nil, fmt.Errorf("samples: need at least one past total")
	}
	hi := 0
	for i, s := range samples {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("samples[%d]: must be a number", i)
		}
		hi = max(hi, int(math.Round(math.Max(0, s))))
	}
	if hi > maxSupport {
		return nil, fmt.Errorf("samples: %d units is beyond the %d units a plan can span", hi, maxSupport)
	}
	pmf := make([]float64, hi+1)
	for _, s := range samples {
		pmf[int(math.Round(math.Max(0, s)))]++
	}
	return NewDiscrete(pmf)
}
