package plan

import (
	"container/heap"
	"fmt"
	"math"
	"sort"
)

// scaled is f·D: demand at a price whose response multiplies expected units
// by f. E[min(f·D, q)] = f·E[min(D, q/f)], with E[min(D, x)] linear between
// whole x for demand on whole units.
type scaled struct {
	d Demand
	f float64
}

func scaleDemand(d Demand, f float64) Demand {
	if f == 1 {
		return d
	}
	return scaled{d, f}
}

func (s scaled) Quantile(p float64) float64 { return math.Round(s.f * s.d.Quantile(p)) }
func (s scaled) Mean() float64              { return s.f * s.d.Mean() }
func (s scaled) ExpectedMin(q int) float64 {
	if q <= 0 {
		return 0
	}
	x := float64(q) / s.f
	lo := math.Floor(x)
	a := s.d.ExpectedMin(int(lo))
	b := s.d.ExpectedMin(int(lo) + 1)
	return s.f * (a + (x-lo)*(b-a))
}

// item is a candidate that may be carried, with the expected contribution
// of each successive unit: marg[k-1] = (price − salvage)·P(D ≥ k) −
// (cost − salvage), non-increasing in k (concave contribution).
type item struct {
	idx      int
	brand    string
	price    int64
	cost     int64
	salvage  int64
	must     bool
	forced   int // leading units that must be taken (must-carry: 1)
	marg     []float64
	floorCut bool // stopped by the overall margin floor, not by profit
	d        Demand
}

// newItem values the candidate's units for the optimiser: unit k is worth
// m + mu·(m − overallFloor·price·P(D ≥ k)) (see solveFloor), and units are
// listed while m and that value are positive (must-carry: the first
// always).
func newItem(idx int, k Candidate, price int64, d Demand, overallFloor, mu float64, must bool) *item {
	it := &item{idx: idx, brand: k.Brand, price: price, cost: k.UnitCost, salvage: k.Salvage, must: must, d: d}
	p, c, s := float64(price), float64(k.UnitCost), float64(k.Salvage)
	for u := 1; u <= maxSupport && (k.MaxUnits == 0 || u <= k.MaxUnits); u++ {
		sk := survival(d, u)
		m := (p-s)*sk - (c - s)
		v := m + mu*(m-overallFloor*p*sk)
		if u == 1 && must {
			it.marg = append(it.marg, v)
			it.forced = 1
			continue
		}
		if m <= 0 {
			break
		}
		if v <= 0 {
			it.floorCut = u == 1
			break
		}
		it.marg = append(it.marg, v)
	}
	return it
}

// allocation is the units of each item of a subset under the budget.
type allocation struct {
	units map[int]int // candidate index → units
	value float64     // expected contribution
	bound float64     // upper bound on the best value for this subset
	exact bool
	ok    bool // the forced units fit the budget
}

// dpLimit bounds the dynamic programme's table (budget steps × units).
const dpLimit = 20_000_000

// allocate spends the budget on the items' units. Forced units come first.
// The rest is a knapsack of concave items: when the budget, in steps of
// the greatest common divisor of the costs, times the units considered is
// at most dpLimit, a dynamic programme over the budget solves it exactly;
// otherwise units are taken greedily by expected contribution per unit of
// cost (optimal for the continuous relaxation), skipping units that no
// longer fit, and bound is the relaxation's value (the greedy value plus
// the fractional next unit).
func allocate(items []*item, budget int64) allocation {
	a := allocation{units: map[int]int{}, ok: true}
	rem := budget
	for _, it := range items {
		a.units[it.idx] = it.forced
		for k := 0; k < it.forced; k++ {
			a.value += it.marg[k]
		}
		rem -= int64(it.forced) * it.cost
	}
	if rem < 0 {
		a.ok = false
		a.value, a.bound = math.Inf(-1), math.Inf(-1)
		return a
	}
	var g int64
	total := 0
	for _, it := range items {
		g = gcd(g, it.cost)
		total += len(it.marg) - it.forced
	}
	if total == 0 {
		a.bound, a.exact = a.value, true
		return a
	}
	steps := rem/g + 1
	if steps*int64(total+1) <= dpLimit && steps*int64(len(items)) <= dpLimit/4 {
		allocateDP(items, rem, g, &a)
		return a
	}
	allocateGreedy(items, rem, &a)
	return a
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func allocateDP(items []*item, rem, g int64, a *allocation) {
	w := int(rem / g)
	dp := make([]float64, w+1)
	choice := make([][]int32, len(items))
	next := make([]float64, w+1)
	for i, it := range items {
		step := int(it.cost / g)
		opt := it.marg[it.forced:]
		choice[i] = make([]int32, w+1)
		for b := 0; b <= w; b++ {
			best, bq := dp[b], 0
			v := 0.0
			for q := 1; q <= len(opt) && q*step <= b; q++ {
				v += opt[q-1]
				if x := dp[b-q*step] + v; x > best+1e-9 {
					best, bq = x, q
				}
			}
			next[b] = best
			choice[i][b] = int32(bq)
		}
		dp, next = next, dp
	}
	b := w
	for i := len(items) - 1; i >= 0; i-- {
		q := int(choice[i][b])
		a.units[items[i].idx] += q
		b -= q * int(items[i].cost/g)
	}
	a.value += dp[w]
	a.bound, a.exact = a.value, true
}

// heads is a max-heap of each item's next unit by expected contribution
// per unit of cost (ties: fewer units first, then candidate order). Each
// item's units are already in that order (concavity), so the heap merges
// them without sorting every unit.
type heads struct {
	items []*item
	next  []int // next unit index per heap entry
}

func (h *heads) Len() int { return len(h.items) }
func (h *heads) ratio(i int) float64 {
	return h.items[i].marg[h.next[i]] / float64(h.items[i].cost)
}
func (h *heads) Less(i, j int) bool {
	if ri, rj := h.ratio(i), h.ratio(j); ri != rj {
		return ri > rj
	}
	if h.next[i] != h.next[j] {
		return h.next[i] < h.next[j]
	}
	return h.items[i].idx < h.items[j].idx
}
func (h *heads) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.next[i], h.next[j] = h.next[j], h.next[i]
}
func (h *heads) Push(x any) { panic("heads: fixed size") }
func (h *heads) Pop() any {
	n := len(h.items) - 1
	h.items, h.next = h.items[:n], h.next[:n]
	return nil
}

func allocateGreedy(items []*item, rem int64, a *allocation) {
	h := &heads{}
	for _, it := range items {
		if it.forced < len(it.marg) {
			h.items = append(h.items, it)
			h.next = append(h.next, it.forced)
		}
	}
	heap.Init(h)
	// Up to the first unit that does not fit, the greedy order is the
	// continuous relaxation's; its bound adds that unit's fitting fraction.
	bound, bounded := 0.0, false
	for h.Len() > 0 {
		it, k := h.items[0], h.next[0]
		if it.cost > rem {
			if !bounded {
				bound, bounded = a.value+it.marg[k]*float64(rem)/float64(it.cost), true
			}
			heap.Pop(h) // later units of this item cost the same: none fits
			continue
		}
		rem -= it.cost
		a.units[it.idx]++
		a.value += it.marg[k]
		if k+1 < len(it.marg) {
			h.next[0]++
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	if !bounded {
		bound = a.value
	}
	a.bound = math.Max(bound, a.value)
}

// slotSolution is the chosen units and how they were found.
type slotSolution struct {
	units    map[int]int
	slotWhy  map[int]string
	method   string
	upper    float64
	warnings []string
}

// enumerateLimit is the most optional candidates whose slot subsets are
// enumerated exactly.
const enumerateLimit = 14

// solveSlots chooses which items fill the slots. When the items fit the
// slots, all are allocated together. Otherwise, with at most
// enumerateLimit optional items, every maximal subset that fits the slots
// (must-carry always in) is allocated and the best kept: exact when each
// allocation is. With more, a Lagrangian relaxation of the budget is used:
// for a price λ per minor unit of budget each item is worth
// v(λ) = Σ_k max(0, marg_k − λ·cost) (forced units always counted), the
// slots are filled greedily by v (optimal on this laminar matroid of
// brand and total limits), L(λ) = λ·budget + Σ v is an upper bound on the
// best plan, and λ is searched (golden section) to make the bound
// tightest; each λ's subset is allocated and the best plan kept. The
// reported upper bound is the least of those bounds (and the allocations'
// bounds), so the gap is proven, not estimated.
func solveSlots(items []*item, c Constraints) slotSolution {
	sol := slotSolution{units: map[int]int{}, slotWhy: map[int]string{}}
	limit := func(brand string) int {
		if n, ok := c.BrandSlots[brand]; ok && n > 0 {
			return n
		}
		return math.MaxInt
	}
	total := c.TotalSlots
	if total == 0 {
		total = math.MaxInt
	}
	fits := func(sub []*item) bool {
		per := map[string]int{}
		for _, it := range sub {
			per[it.brand]++
			if per[it.brand] > limit(it.brand) {
				return false
			}
		}
		return len(sub) <= total
	}
	var must, opt []*item
	for _, it := range items {
		if it.must {
			must = append(must, it)
		} else {
			opt = append(opt, it)
		}
	}
	if !fits(must) {
		sol.warnings = append(sol.warnings, "must-carry SKUs alone exceed the slots: they are kept and nothing else of a full brand is added")
	}
	finish := func(best allocation, sub []*item, method string) slotSolution {
		if !best.ok {
			sol.warnings = append(sol.warnings, "the budget does not cover one unit of each must-carry SKU: nothing is carried")
			sol.method = method
			return sol
		}
		sol.units = best.units
		sol.method = method
		if !best.exact {
			sol.method += fmt.Sprintf("; allocation greedy by contribution per unit of cost (dynamic programme over %d cells too large)", dpLimit)
		}
		in := map[int]bool{}
		per := map[string]int{}
		n := 0
		for _, it := range sub {
			in[it.idx] = true
			if best.units[it.idx] > 0 {
				per[it.brand]++
				n++
			}
		}
		for _, it := range items {
			if in[it.idx] {
				continue
			}
			if l := limit(it.brand); per[it.brand] >= l {
				sol.slotWhy[it.idx] = fmt.Sprintf("slot limit (brand %s: %d of %d)", it.brand, per[it.brand], l)
			} else {
				sol.slotWhy[it.idx] = fmt.Sprintf("slot limit (total: %d of %d)", n, c.TotalSlots)
			}
		}
		return sol
	}
	if fits(items) {
		a := allocate(items, c.Budget)
		sol.upper = a.bound
		return finish(a, items, "slots do not bind; budget allocated exactly")
	}
	if len(opt) <= enumerateLimit {
		best := allocation{value: math.Inf(-1)}
		var bestSub []*item
		sol.upper = math.Inf(-1)
		sub := append([]*item(nil), must...)
		var rec func(i int)
		rec = func(i int) {
			if i == len(opt) {
				for _, it := range opt { // only maximal subsets
					if !containsItem(sub, it) && fits(append(sub[:len(sub):len(sub)], it)) {
						return
					}
				}
				a := allocate(sub, c.Budget)
				sol.upper = math.Max(sol.upper, a.bound)
				if a.value > best.value+1e-9 || bestSub == nil {
					best, bestSub = a, append([]*item(nil), sub...)
				}
				return
			}
			if next := append(sub, opt[i]); fits(next) {
				sub = next
				rec(i + 1)
				sub = sub[:len(sub)-1]
			}
			rec(i + 1)
		}
		rec(0)
		return finish(best, bestSub, "slots bind; every maximal slot-feasible subset enumerated, budget allocated exactly")
	}
	// Lagrangian relaxation of the budget.
	value := func(it *item, lambda float64) float64 {
		v := 0.0
		for k, m := range it.marg {
			if d := m - lambda*float64(it.cost); k < it.forced || d > 0 {
				v += d
			}
		}
		return v
	}
	pick := func(lambda float64) ([]*item, float64) {
		sub := append([]*item(nil), must...)
		l := lambda * float64(c.Budget)
		for _, it := range must {
			l += value(it, lambda)
		}
		type vi struct {
			it *item
			v  float64
		}
		var vs []vi
		for _, it := range opt {
			if v := value(it, lambda); v > 0 {
				vs = append(vs, vi{it, v})
			}
		}
		sort.SliceStable(vs, func(i, j int) bool { return vs[i].v > vs[j].v })
		per := map[string]int{}
		for _, it := range sub {
			per[it.brand]++
		}
		for _, x := range vs {
			if len(sub) >= total || per[x.it.brand] >= limit(x.it.brand) {
				continue
			}
			sub = append(sub, x.it)
			per[x.it.brand]++
			l += x.v
		}
		return sub, l
	}
	best := allocation{value: math.Inf(-1)}
	var bestSub []*item
	sol.upper = math.Inf(1)
	try := func(lambda float64) float64 {
		sub, l := pick(lambda)
		sol.upper = math.Min(sol.upper, l)
		a := allocate(sub, c.Budget)
		if a.value > best.value+1e-9 || bestSub == nil {
			best, bestSub = a, sub
		}
		return l
	}
	hi := 0.0
	for _, it := range items {
		if len(it.marg) > 0 {
			hi = math.Max(hi, it.marg[0]/float64(it.cost))
		}
	}
	try(0)
	a, b := 0.0, hi
	phi := (math.Sqrt(5) - 1) / 2
	x1, x2 := b-phi*(b-a), a+phi*(b-a)
	f1, f2 := try(x1), try(x2)
	for range 40 {
		if f1 <= f2 {
			b, x2, f2 = x2, x1, f1
			x1 = b - phi*(b-a)
			f1 = try(x1)
		} else {
			a, x1, f1 = x1, x2, f2
			x2 = a + phi*(b-a)
			f2 = try(x2)
		}
	}
	sol.upper = math.Max(sol.upper, best.value)
	return finish(best, bestSub, "slots bind; Lagrangian relaxation of the budget (golden-section search over its price), slots filled greedily per price; the gap to the bound is reported")
}

func containsItem(xs []*item, it *item) bool {
	for _, x := range xs {
		if x == it {
			return true
		}
	}
	return false
}
