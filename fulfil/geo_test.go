package fulfil

import (
	"math"
	"math/rand"
	"testing"
)

func TestHaversineKm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                   string
		lat1, lon1, lat2, lon2 float64
		want, tol              float64
	}{
		{"same point", 52.52, 13.405, 52.52, 13.405, 0, 1e-9},
		{"Berlin to Munich", 52.5200, 13.4050, 48.1351, 11.5820, 504.4, 1.5},
		{"New York to London", 40.7128, -74.0060, 51.5074, -0.1278, 5570, 10},
		{"across the antimeridian", 0, 179.9, 0, -179.9, 22.24, 0.05},
		{"pole to pole", 90, 0, -90, 0, math.Pi * EarthRadiusKm, 1e-6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := HaversineKm(tc.lat1, tc.lon1, tc.lat2, tc.lon2)
			if math.Abs(got-tc.want) > tc.tol {
				t.Errorf("HaversineKm = %.3f, want %.3f ± %.3f", got, tc.want, tc.tol)
			}
		})
	}
}

// TestGridIndexNeverDropsInRange checks the pre-filter against the plain
// distance test over random nodes and points, including near the poles and
// the antimeridian.
func TestGridIndexNeverDropsInRange(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(4))
	nodes := make([]Node, 300)
	for i := range nodes {
		nodes[i] = Node{Lat: rng.Float64()*178 - 89, Lon: rng.Float64()*360 - 180, ServiceRadiusKm: rng.Float64() * 200}
		if i%10 == 0 {
			nodes[i].Lon = 179.9 - rng.Float64()*0.2 // hug the antimeridian
		}
		if i%25 == 0 {
			nodes[i].Lat = 88.5
		}
	}
	g := newGridIndex(nodes)
	for k := 0; k < 5000; k++ {
		n := nodes[rng.Intn(len(nodes))]
		// A point near a random node, so that many are in range.
		lat := math.Max(-90, math.Min(90, n.Lat+(rng.Float64()-0.5)*4))
		lon := n.Lon + (rng.Float64()-0.5)*8
		if lon > 180 {
			lon -= 360
		} else if lon < -180 {
			lon += 360
		}
		near := map[int]bool{}
		for _, i := range g.near(nil, lat, lon) {
			near[i] = true
		}
		for i, m := range nodes {
			if HaversineKm(m.Lat, m.Lon, lat, lon) <= m.ServiceRadiusKm && !near[i] {
				t.Fatalf("node %d at (%.4f,%.4f) r=%.1f is in range of (%.4f,%.4f) but not indexed there", i, m.Lat, m.Lon, m.ServiceRadiusKm, lat, lon)
			}
		}
	}
}
