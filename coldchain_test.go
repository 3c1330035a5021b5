package popkit_test

import (
	"math"
	"testing"

	"github.com/popkit/popkit"
)

func TestSensorBindingValidate(t *testing.T) {
	t.Parallel()
	good := popkit.SensorBinding{NodeID: popkit.NewID(), DeviceID: popkit.NewID(), Sensor: "fridge-1",
		LimitC: popkit.DefaultColdLimitC, MinMinutes: popkit.DefaultExcursionMinutes}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid binding: %v", err)
	}
	for name, tc := range map[string]struct {
		mod   func(*popkit.SensorBinding)
		field string
	}{
		"node":          {func(b *popkit.SensorBinding) { b.NodeID = "x" }, "node_id"},
		"device":        {func(b *popkit.SensorBinding) { b.DeviceID = "" }, "device_id"},
		"sensor blank":  {func(b *popkit.SensorBinding) { b.Sensor = "" }, "sensor"},
		"sensor spaces": {func(b *popkit.SensorBinding) { b.Sensor = "fridge 1" }, "sensor"},
		"cold box":      {func(b *popkit.SensorBinding) { b.ColdBox = "box/1" }, "cold_box"},
		"limit NaN":     {func(b *popkit.SensorBinding) { b.LimitC = math.NaN() }, "limit_c"},
		"limit high":    {func(b *popkit.SensorBinding) { b.LimitC = 250 }, "limit_c"},
		"minutes zero":  {func(b *popkit.SensorBinding) { b.MinMinutes = 0 }, "min_minutes"},
		"minutes long":  {func(b *popkit.SensorBinding) { b.MinMinutes = popkit.MaxExcursionMinutes + 1 }, "min_minutes"},
	} {
		t.Run(name, func(t *testing.T) {
			b := good
			tc.mod(&b)
			wantColdField(t, b.Validate(), tc.field)
		})
	}
}

func TestResolutionValidate(t *testing.T) {
	t.Parallel()
	for _, ok := range []popkit.Resolution{{Action: popkit.ActionRelease}, {Action: popkit.ActionDiscard, Note: "warm"}} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
	wantColdField(t, (&popkit.Resolution{Action: "keep"}).Validate(), "action")
	wantColdField(t, (&popkit.Resolution{Action: popkit.ActionDiscard}).Validate(), "note")
	wantColdField(t, (&popkit.Resolution{Action: popkit.ActionRelease, Note: string(make([]byte, 1001))}).Validate(), "note")
}

func wantColdField(t *testing.T, err error, field string) {
	t.Helper()
	if popkit.ErrorCode(err) != popkit.EINVALID {
		t.Fatalf("error %v, want EINVALID", err)
	}
	for _, f := range popkit.ErrorFields(err) {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("error %v does not name %s", err, field)
}
