package prestage

import (
	"runtime"
	"sync"
	"time"

	"github.com/popkit/popkit/forecast"
)

// ReplayRetail replays policy p for every SKU of d that sold before start,
// each staged daily at its own node with unbounded capacity, over the days
// days from start (a date of d), reviewing every review days, and returns
// the totals over all SKUs.
func ReplayRetail(d *forecast.Retail, start time.Time, days, review int, p Policy) Outcome {
	s := int(start.Sub(d.Start).Hours() / 24)
	var idx []int
	for i, f := range d.FirstSale {
		if f >= 0 && f < s-14 && s+days <= d.Days {
			idx = append(idx, i)
		}
	}
	out := make([]Outcome, len(idx))
	var wg sync.WaitGroup
	next := make(chan int, len(idx))
	for k := range idx {
		next <- k
	}
	close(next)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				i := idx[k]
				f := d.FirstSale[i]
				out[k] = Replay(d.Qty[i][f:], s-f, days, review, p, inf)
			}
		}()
	}
	wg.Wait()
	var tot Outcome
	for _, o := range out {
		tot = tot.Add(o)
	}
	return tot
}

var inf = 1e300

// MatchFillRate searches k in [lo, hi] (by bisection in steps halvings; the
// fill rate must grow with k) for the policy mk(k) whose ReplayRetail fill rate is the
// least at or above target, and returns k with its outcome. When even hi
// falls short, it returns hi.
func MatchFillRate(d *forecast.Retail, start time.Time, days, review int, mk func(k float64) Policy, target, lo, hi float64, steps int) (float64, Outcome) {
	best := ReplayRetail(d, start, days, review, mk(hi))
	if best.FillRate() < target {
		return hi, best
	}
	bk := hi
	for range steps {
		mid := (lo + hi) / 2
		o := ReplayRetail(d, start, days, review, mk(mid))
		if o.FillRate() >= target {
			hi, bk, best = mid, mid, o
		} else {
			lo = mid
		}
	}
	return bk, best
}
