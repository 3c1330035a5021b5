package fulfil

import (
	"math/rand"
	"testing"
)

// BenchmarkRoute10k routes 10,000 orders across 200 nodes in 8 cities per
// iteration, booking capacity in a ledger as it goes, and reports the time
// per order. "scan" checks every node for every order; "indexed" uses the
// grid pre-filter.
func BenchmarkRoute10k(b *testing.B) {
	rng := rand.New(rand.NewSource(10))
	nodes, gen := randomWorld(rng, 200)
	reqs := make([]Request, 10000)
	for i := range reqs {
		reqs[i] = gen(i)
	}
	for _, bc := range []struct {
		name    string
		noIndex bool
	}{{"indexed", false}, {"scan", true}} {
		b.Run(bc.name, func(b *testing.B) {
			sameDay := 0
			for b.Loop() {
				ledger := NewLedger()
				rt, err := NewRouter(nodes, DefaultRules(ledger))
				if err != nil {
					b.Fatal(err)
				}
				rt.NoIndex = bc.noIndex
				sameDay = 0
				for i := range reqs {
					res, err := rt.Route(&reqs[i])
					if err != nil {
						b.Fatal(err)
					}
					if res.Outcome == OutcomeSameDay {
						ledger.Book(res)
						sameDay++
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(reqs)), "ns/order")
			b.ReportMetric(float64(sameDay)/float64(len(reqs))*100, "%same_day")
		})
	}
}
