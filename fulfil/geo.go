package fulfil

import (
	"math"
	"sort"
)

// EarthRadiusKm is the mean Earth radius used by HaversineKm (IUGG R1).
const EarthRadiusKm = 6371.0088

// HaversineKm returns the great-circle distance in kilometres between two
// points given in decimal degrees.
func HaversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	s1 := math.Sin(dLat / 2)
	s2 := math.Sin(dLon / 2)
	a := s1*s1 + math.Cos(lat1*rad)*math.Cos(lat2*rad)*s2*s2
	if a > 1 {
		a = 1
	}
	return 2 * EarthRadiusKm * math.Asin(math.Sqrt(a))
}

// gridCellDeg is the side of a grid cell in degrees (about 28 km north-south).
const gridCellDeg = 0.25

// kmPerDegLat is the length of one degree of latitude on the mean sphere.
const kmPerDegLat = EarthRadiusKm * math.Pi / 180

// gridIndex is a spatial pre-filter: each node is listed in every cell of a
// latitude/longitude grid that its service circle touches, so a delivery
// point only needs to look at the nodes of its own cell. It never drops a
// node that is in range; it may keep nodes that are not (the InRange rule
// decides). Nodes whose circle reaches a pole or spans more than half the
// globe go to a global list checked for every point.
type gridIndex struct {
	cells  map[uint64][]int
	global []int
}

func cellKey(latIdx, lonIdx int) uint64 {
	return uint64(uint32(int32(latIdx)))<<32 | uint64(uint32(int32(lonIdx)))
}

func latCell(lat float64) int { return int(math.Floor((lat + 90) / gridCellDeg)) }

// lonCells is the number of longitude cells around the globe.
var lonCells = int(math.Round(360 / gridCellDeg))

func lonCell(lon float64) int {
	i := int(math.Floor((lon + 180) / gridCellDeg))
	return ((i % lonCells) + lonCells) % lonCells
}

// newGridIndex indexes nodes by their service circles. Indexes into nodes
// are stored, in ascending order within every cell.
func newGridIndex(nodes []Node) *gridIndex {
	g := &gridIndex{cells: make(map[uint64][]int)}
	for i := range nodes {
		n := &nodes[i]
		// A small margin covers the difference between the spherical
		// bounding box and the haversine circle at the box's edges.
		r := n.ServiceRadiusKm*1.01 + 0.1
		dLat := r / kmPerDegLat
		if math.Abs(n.Lat)+dLat >= 89 {
			g.global = append(g.global, i)
			continue
		}
		cosLat := math.Cos((math.Abs(n.Lat) + dLat) * math.Pi / 180)
		dLon := r / (kmPerDegLat * cosLat)
		if dLon >= 90 {
			g.global = append(g.global, i)
			continue
		}
		lat0, lat1 := latCell(n.Lat-dLat), latCell(n.Lat+dLat)
		lonStart := int(math.Floor((n.Lon - dLon + 180) / gridCellDeg))
		lonEnd := int(math.Floor((n.Lon + dLon + 180) / gridCellDeg))
		for la := lat0; la <= lat1; la++ {
			for lo := lonStart; lo <= lonEnd; lo++ {
				k := cellKey(la, ((lo%lonCells)+lonCells)%lonCells)
				g.cells[k] = append(g.cells[k], i)
			}
		}
	}
	return g
}

// near appends to dst the indexes of the nodes whose circle may contain the
// point, in ascending order, and returns dst.
func (g *gridIndex) near(dst []int, lat, lon float64) []int {
	cell := g.cells[cellKey(latCell(lat), lonCell(lon))]
	dst = append(dst, cell...)
	if len(g.global) > 0 {
		dst = append(dst, g.global...)
		sort.Ints(dst)
	}
	return dst
}
