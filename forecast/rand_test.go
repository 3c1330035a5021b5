package forecast

import (
	"math"
	"math/rand/v2"
)

type testRand struct{ r *rand.Rand }

func newRand(seed uint64) testRand { return testRand{rand.New(rand.NewPCG(seed, 7))} }

func (t testRand) float() float64 { return t.r.Float64() }
func (t testRand) norm() float64  { return t.r.NormFloat64() }

// poisson draws by inversion (fine for the small means used in tests).
func (t testRand) poisson(mu float64) int {
	l, k, p := math.Exp(-mu), 0, 1.0
	for {
		p *= t.r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
