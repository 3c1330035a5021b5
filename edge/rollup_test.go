package edge

import (
	"testing"
	"time"

	"github.com/popkit/popkit"
)

func TestQueueRollupKeepsQuantilesPastTheSampleCap(t *testing.T) {
	t.Parallel()
	var a minuteAgg
	n := 3*maxQueueSamples + 7
	for i := range n {
		a.applySimple(&storedReading{Type: TypeQueue, Length: float64(i % 100)})
	}
	if len(a.Queue) > maxQueueSamples || len(a.Queue) < maxQueueSamples/2 {
		t.Fatalf("kept %d samples", len(a.Queue))
	}
	r := a.rollup("e", minuteKey{Sensor: "q", Kind: popkit.RollupQueue, Minute: time.Now().Unix()}, 5)
	tests := []struct {
		name      string
		got, want float64
		tolerance float64
	}{
		{"p50", r.QueueP50, 50, 3},
		{"p95", r.QueueP95, 95, 3},
		{"max", r.QueueMax, 99, 1},
	}
	for _, tt := range tests {
		if d := tt.got - tt.want; d > tt.tolerance || d < -tt.tolerance {
			t.Errorf("%s = %v, want %v ± %v", tt.name, tt.got, tt.want, tt.tolerance)
		}
	}
}
