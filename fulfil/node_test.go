package fulfil

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/popkit/popkit"
)

func TestParseClock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Clock
		wantErr bool
	}{
		{"00:00", 0, false},
		{"14:30", 870, false},
		{"23:59", 1439, false},
		{"24:00", 1440, false},
		{"24:01", 0, true},
		{"12:60", 0, true},
		{"7:00", 0, true},
		{"07-00", 0, true},
		{"", 0, true},
		{"ab:cd", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseClock(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("ParseClock(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
			}
			if err == nil && got.String() != tc.in {
				t.Errorf("String() = %q, want %q", got.String(), tc.in)
			}
		})
	}
}

func TestNodeValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(n *Node)
		fields []string // invalid fields expected; none for a valid node
	}{
		{"valid", func(n *Node) {}, nil},
		{"bad id", func(n *Node) { n.ID = "node-1" }, []string{"id"}},
		{"no name", func(n *Node) { n.Name = " " }, []string{"name"}},
		{"bad kind", func(n *Node) { n.Kind = "warehouse" }, []string{"kind"}},
		{"lat and lon out of range", func(n *Node) { n.Lat, n.Lon = 91, -181 }, []string{"lat", "lon"}},
		{"negative radius", func(n *Node) { n.ServiceRadiusKm = -1 }, []string{"service_radius_km"}},
		{"local zone", func(n *Node) { n.TimeZone = "Local" }, []string{"time_zone"}},
		{"unknown zone", func(n *Node) { n.TimeZone = "Mars/Olympus" }, []string{"time_zone"}},
		{"bad day and close before open", func(n *Node) {
			n.OpeningHours = []Opening{{Day: "funday", Open: 600, Close: 500}}
		}, []string{"opening_hours[0].day", "opening_hours[0].close"}},
		{"cutoff at 24:00", func(n *Node) { n.SameDayCutoff = 1440 }, []string{"same_day_cutoff"}},
		{"no capacity", func(n *Node) { n.CapacityPerHour, n.CapacityPerDay = 0, 0 }, []string{"capacity_per_hour", "capacity_per_day"}},
		{"day below hour", func(n *Node) { n.CapacityPerDay = 5 }, []string{"capacity_per_day"}},
		{"station that makes", func(n *Node) { n.Makes = []string{sku(1)} }, []string{"makes"}},
		{"bad made sku", func(n *Node) { n.Kind, n.Makes = KindMicrofactory, []string{"x"} }, []string{"makes[0]"}},
		{"negative stock", func(n *Node) { n.Stock[sku(2)] = -1 }, []string{"stock." + sku(2)}},
		{"negative costs", func(n *Node) { n.CostPerOrderMinor, n.CostPerBundleMinor = -1, -1 }, []string{"cost_per_order_minor", "cost_per_bundle_minor"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := berlinNode(1)
			tc.mutate(&n)
			err := n.Validate()
			if tc.fields == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if popkit.ErrorCode(err) != popkit.EINVALID {
				t.Fatalf("Validate = %v, want EINVALID", err)
			}
			var got []string
			for _, f := range popkit.ErrorFields(err) {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("invalid fields = %v, want %v", got, tc.fields)
			}
		})
	}
}

func TestDecodeNodes(t *testing.T) {
	t.Parallel()
	good, err := json.Marshal([]Node{berlinNode(1), berlinNode(2)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      string
		want    int
		wantErr string
	}{
		{"two nodes", string(good), 2, ""},
		{"empty array", "[]", 0, ""},
		{"unknown field", `[{"id":"` + id(1) + `","colour":"red"}]`, 0, "unknown field"},
		{"trailing data", string(good) + " []", 0, "trailing data"},
		{"bad clock", strings.Replace(string(good), `"14:00"`, `"2pm"`, 1), 0, "want HH:MM"},
		{"invalid node", strings.Replace(string(good), `"kitting_station"`, `"shed"`, 1), 0, "kind"},
		{"duplicate id", strings.Replace(string(good), id(2), id(1), 1), 0, "duplicate"},
		{"not json", "{", 0, "decode nodes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nodes, err := DecodeNodes(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if popkit.ErrorCode(err) != popkit.EINVALID || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("DecodeNodes = %v, want EINVALID mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || len(nodes) != tc.want {
				t.Fatalf("DecodeNodes = %d nodes, %v; want %d", len(nodes), err, tc.want)
			}
		})
	}
}

// FuzzDecodeNodes checks that DecodeNodes never panics, that what it
// accepts is valid, and that accepted nodes survive a JSON round trip.
func FuzzDecodeNodes(f *testing.F) {
	good, _ := json.Marshal([]Node{berlinNode(1)})
	f.Add(good)
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"id":"x"}]`))
	f.Add([]byte(`[{"same_day_cutoff":"24:00"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		nodes, err := DecodeNodes(bytes.NewReader(b))
		if err != nil {
			if popkit.ErrorCode(err) != popkit.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		for i := range nodes {
			if err := nodes[i].Validate(); err != nil {
				t.Fatalf("accepted an invalid node: %v", err)
			}
		}
		again, err := json.Marshal(nodes)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeNodes(bytes.NewReader(again)); err != nil {
			t.Fatalf("round trip refused: %v", err)
		}
	})
}
