package fulfil

import (
	"fmt"
	"math/bits"
	"sort"
	"time"

	"github.com/popkit/popkit"
)

// BundleState is the state of a shared fulfilment bundle.
type BundleState string

// Bundle states, in order.
const (
	BundleForming    BundleState = "forming"
	BundleLocked     BundleState = "locked"
	BundleKitting    BundleState = "kitting"
	BundleDispatched BundleState = "dispatched"
	BundleDelivered  BundleState = "delivered"
)

// BundleStates lists every bundle state in order; a bundle moves only to
// the next one.
var BundleStates = []BundleState{BundleForming, BundleLocked, BundleKitting, BundleDispatched, BundleDelivered}

// SplitBasis says what a bundle's cost is split by.
type SplitBasis string

// Split bases.
const (
	ByUnits  SplitBasis = "units"
	ByWeight SplitBasis = "weight"
)

// Member is one order in a bundle. ShareMinor is its part of the bundle's
// cost, set by Bundle.Split.
type Member struct {
	OrderID     string `json:"order_id"`
	BrandID     string `json:"brand_id"`
	Units       int64  `json:"units"`
	WeightGrams int64  `json:"weight_grams"`
	ShareMinor  int64  `json:"share_minor"`
}

// BundleStep is one recorded bundle transition.
type BundleStep struct {
	From  BundleState `json:"from"`
	To    BundleState `json:"to"`
	Actor string      `json:"actor"`
	At    time.Time   `json:"at"`
}

// Bundle is a shared fulfilment bundle: orders of several brands at one
// node in one dispatch wave, kitted and sent together. Orders join and
// leave only while it is forming and before the wave's cutoff; at the
// cutoff it locks. Its cost is split between the brands pro rata to units
// or weight, and each order carries its share.
type Bundle struct {
	ID         string       `json:"id"`
	NodeID     string       `json:"node_id"`
	WaveCutoff time.Time    `json:"wave_cutoff"`
	CostMinor  int64        `json:"cost_minor"`
	Basis      SplitBasis   `json:"basis"`
	State      BundleState  `json:"state"`
	Members    []Member     `json:"members"`
	Steps      []BundleStep `json:"steps"`
}

// NewBundle returns a forming bundle. It returns EINVALID for bad ids, a
// zero cutoff, a negative cost or an unknown basis.
func NewBundle(id, nodeID string, cutoff time.Time, costMinor int64, basis SplitBasis) (*Bundle, error) {
	var v popkit.Validation
	v.Check(popkit.ValidID(id), "id", "must be a lower-case UUID")
	v.Check(popkit.ValidID(nodeID), "node_id", "must be a node id")
	v.Check(!cutoff.IsZero(), "wave_cutoff", "is required")
	v.Check(costMinor >= 0, "cost_minor", "must not be negative")
	v.Check(basis == ByUnits || basis == ByWeight, "basis", "must be units or weight")
	if err := v.Err(); err != nil {
		return nil, err
	}
	return &Bundle{ID: id, NodeID: nodeID, WaveCutoff: cutoff.UTC(), CostMinor: costMinor, Basis: basis, State: BundleForming}, nil
}

// open returns ECONFLICT unless orders may still join or leave at at.
func (b *Bundle) open(at time.Time) error {
	if b.State != BundleForming {
		return popkit.Errorf(popkit.ECONFLICT, "bundle is %s: orders join and leave only while it is forming", b.State)
	}
	if !at.Before(b.WaveCutoff) {
		return popkit.Errorf(popkit.ECONFLICT, "the wave's cutoff %s has passed", b.WaveCutoff.Format(time.RFC3339))
	}
	return nil
}

// Join adds an order at the instant at and re-splits the cost. It returns
// EINVALID for a bad member, ECONFLICT when the bundle no longer forms or
// the order is already in it.
func (b *Bundle) Join(m Member, at time.Time) error {
	var v popkit.Validation
	v.Check(popkit.ValidID(m.OrderID), "order_id", "must be an order id")
	v.Check(popkit.ValidID(m.BrandID), "brand_id", "must be a brand id")
	v.Check(m.Units > 0, "units", "must be positive")
	v.Check(m.WeightGrams >= 0, "weight_grams", "must not be negative")
	if err := v.Err(); err != nil {
		return err
	}
	if err := b.open(at); err != nil {
		return err
	}
	for _, x := range b.Members {
		if x.OrderID == m.OrderID {
			return popkit.Errorf(popkit.ECONFLICT, "order %s is already in the bundle", m.OrderID)
		}
	}
	m.ShareMinor = 0
	b.Members = append(b.Members, m)
	return b.Split()
}

// Leave removes an order at the instant at and re-splits the cost. It
// returns ECONFLICT once the bundle is locked or its cutoff has passed,
// and ENOTFOUND for an order not in the bundle.
func (b *Bundle) Leave(orderID string, at time.Time) error {
	if err := b.open(at); err != nil {
		return err
	}
	for i, x := range b.Members {
		if x.OrderID == orderID {
			b.Members = append(b.Members[:i], b.Members[i+1:]...)
			return b.Split()
		}
	}
	return popkit.Errorf(popkit.ENOTFOUND, "order %s is not in the bundle", orderID)
}

// LockDue reports whether a forming bundle should be locked at now.
func (b *Bundle) LockDue(now time.Time) bool {
	return b.State == BundleForming && !now.Before(b.WaveCutoff)
}

// Advance moves the bundle to the next state, to, on behalf of actor at
// the instant at. Locking before the wave's cutoff, skipping a state or
// going back returns ECONFLICT; a locked bundle must have members.
func (b *Bundle) Advance(to BundleState, actor string, at time.Time) error {
	if actor == "" || at.IsZero() {
		return popkit.InvalidField("actor", "actor and time are required")
	}
	next := -1
	for i, s := range BundleStates {
		if s == b.State && i+1 < len(BundleStates) {
			next = i + 1
		}
	}
	if next < 0 || BundleStates[next] != to {
		return popkit.Errorf(popkit.ECONFLICT, "illegal bundle transition from %s to %s", b.State, to)
	}
	if to == BundleLocked && at.Before(b.WaveCutoff) {
		return popkit.Errorf(popkit.ECONFLICT, "bundle locks at the wave's cutoff %s", b.WaveCutoff.Format(time.RFC3339))
	}
	if to == BundleLocked && len(b.Members) == 0 {
		return popkit.Errorf(popkit.ECONFLICT, "an empty bundle cannot be locked")
	}
	if n := len(b.Steps); n > 0 && at.Before(b.Steps[n-1].At) {
		return popkit.InvalidField("at", "is before the last transition")
	}
	b.Steps = append(b.Steps, BundleStep{From: b.State, To: to, Actor: actor, At: at.UTC()})
	b.State = to
	return nil
}

// Split sets every member's ShareMinor. The cost is first split between
// brands pro rata to their units (or weight), then each brand's part
// between its orders the same way; both splits use the largest-remainder
// method, so the shares are exact minor units that sum to CostMinor. When
// every weight is zero under ByWeight, units are used instead.
func (b *Bundle) Split() error {
	if len(b.Members) == 0 {
		return nil
	}
	basis := b.Basis
	if basis == ByWeight {
		var total int64
		for _, m := range b.Members {
			total += m.WeightGrams
		}
		if total == 0 {
			basis = ByUnits
		}
	}
	weight := func(m Member) int64 {
		if basis == ByWeight {
			return m.WeightGrams
		}
		return m.Units
	}
	var brands []string
	byBrand := map[string][]int{}
	for i, m := range b.Members {
		if _, ok := byBrand[m.BrandID]; !ok {
			brands = append(brands, m.BrandID)
		}
		byBrand[m.BrandID] = append(byBrand[m.BrandID], i)
	}
	bw := make([]int64, len(brands))
	for i, br := range brands {
		for _, j := range byBrand[br] {
			bw[i] += weight(b.Members[j])
		}
	}
	brandShares, err := SplitCost(b.CostMinor, bw)
	if err != nil {
		return fmt.Errorf("split bundle cost: %w", err)
	}
	for i, br := range brands {
		idx := byBrand[br]
		w := make([]int64, len(idx))
		for k, j := range idx {
			w[k] = weight(b.Members[j])
		}
		shares, err := SplitCost(brandShares[i], w)
		if err != nil {
			return fmt.Errorf("split brand share: %w", err)
		}
		for k, j := range idx {
			b.Members[j].ShareMinor = shares[k]
		}
	}
	return nil
}

// BrandShares returns each brand's part of the bundle's cost.
func (b *Bundle) BrandShares() map[string]int64 {
	out := map[string]int64{}
	for _, m := range b.Members {
		out[m.BrandID] += m.ShareMinor
	}
	return out
}

// SplitCost splits total minor units pro rata to weights by the
// largest-remainder (Hamilton) method: each part gets the floor of its exact
// share, and the units left over go one each to the largest remainders,
// earlier parts first among equal remainders. The parts sum exactly to
// total. All weights zero split equally. Negative inputs return EINVALID.
func SplitCost(total int64, weights []int64) ([]int64, error) {
	if total < 0 {
		return nil, popkit.InvalidField("total", "must not be negative")
	}
	if len(weights) == 0 {
		if total == 0 {
			return nil, nil
		}
		return nil, popkit.InvalidField("weights", "are required to split a cost")
	}
	var sum uint64
	for _, w := range weights {
		if w < 0 {
			return nil, popkit.InvalidField("weights", "must not be negative")
		}
		var carry uint64
		sum, carry = bits.Add64(sum, uint64(w), 0)
		if carry != 0 || sum > 1<<62 {
			return nil, popkit.InvalidField("weights", "sum too large")
		}
	}
	ws := make([]uint64, len(weights))
	for i, w := range weights {
		ws[i] = uint64(w)
		if sum == 0 {
			ws[i] = 1
		}
	}
	if sum == 0 {
		sum = uint64(len(weights))
	}
	parts := make([]int64, len(ws))
	rems := make([]uint64, len(ws))
	var given uint64
	for i, w := range ws {
		// total*w/sum in 128 bits: w ≤ sum, so the quotient ≤ total
		// fits and Div64 cannot overflow.
		hi, lo := bits.Mul64(uint64(total), w)
		q, r := bits.Div64(hi, lo, sum)
		parts[i], rems[i] = int64(q), r
		given += q
	}
	order := make([]int, len(ws))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rems[order[a]] > rems[order[b]] })
	for k := uint64(0); k < uint64(total)-given; k++ {
		parts[order[k]]++
	}
	return parts, nil
}
