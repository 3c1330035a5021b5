package edge

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/popkit/popkit"

	"github.com/popkit/popkit/edge/edgetest"
)

func TestAgentRollsUpEveryReadingType(t *testing.T) {
	t.Parallel()
	f := newFakeIngest(t)
	a := startAgent(t, testConfig(t, f.srv.URL))
	m := time.Now().UTC().Truncate(time.Minute).Add(-3 * time.Minute)
	at := func(sec float64) string {
		return m.Add(time.Duration(sec * float64(time.Second))).Format(time.RFC3339Nano)
	}
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	add(`{"type":"footfall","sensor":"door-1","ts":%q,"in":3,"out":1}`, at(1))
	add(`{"type":"footfall","sensor":"door-1","ts":%q,"in":2}`, at(2))
	add(`{"type":"occupancy","sensor":"floor","ts":%q,"count":7}`, at(1))
	add(`{"type":"occupancy","sensor":"floor","ts":%q,"count":4}`, at(2))
	for i := 1; i <= 20; i++ {
		add(`{"type":"queue","sensor":"tills","ts":%q,"length":%d,"open_tills":2}`, at(float64(i)), i)
	}
	add(`{"type":"temperature","sensor":"fridge-1","ts":%q,"celsius":3.5}`, at(1))
	add(`{"type":"temperature","sensor":"fridge-1","ts":%q,"celsius":4.5}`, at(2))
	add(`{"type":"energy","sensor":"meter-1","ts":%q,"kwh":100}`, at(-30))
	add(`{"type":"energy","sensor":"meter-1","ts":%q,"kwh":100.75}`, at(30))
	// Six visitors enter and leave after 40 s: enough for k = 5.
	for i := range 6 {
		add(`{"type":"presence","sensor":"ble","ts":%q,"id":"aa:bb:cc:00:00:%02d","action":"enter"}`, at(float64(i)), i)
		add(`{"type":"presence","sensor":"ble","ts":%q,"id":"aa:bb:cc:00:00:%02d","action":"exit"}`, at(float64(i+40)), i)
	}
	code, body := post(t, a, strings.Join(lines, "\n"))
	if code != http.StatusAccepted || body["accepted"] != float64(len(lines)) {
		t.Fatalf("post = %d %v, want 202 accepted %d", code, body, len(lines))
	}
	waitFor(t, 10*time.Second, "all rollups at the server", func() bool {
		return len(f.rollups(popkit.RollupDwell)) == 1 && len(f.rollups(popkit.RollupEnergy)) == 2 && a.Outbox.Stats().Backlog == 0
	})
	one := func(kind, sensor string, minute time.Time) popkit.Rollup {
		for _, r := range f.rollups(kind) {
			if r.Sensor == sensor && r.Minute.Equal(minute) {
				return r
			}
		}
		t.Fatalf("no %s rollup of %s at %s", kind, sensor, minute)
		return popkit.Rollup{}
	}
	tests := []struct {
		name      string
		got, want float64
	}{
		{"footfall in", float64(one(popkit.RollupFootfall, "door-1", m).In), 5},
		{"footfall out", float64(one(popkit.RollupFootfall, "door-1", m).Out), 1},
		{"occupancy max", float64(one(popkit.RollupOccupancy, "floor", m).OccupancyMax), 7},
		{"queue p50", one(popkit.RollupQueue, "tills", m).QueueP50, 10},
		{"queue p95", one(popkit.RollupQueue, "tills", m).QueueP95, 19},
		{"queue max", one(popkit.RollupQueue, "tills", m).QueueMax, 20},
		{"open tills", float64(one(popkit.RollupQueue, "tills", m).OpenTills), 2},
		{"temp min", one(popkit.RollupTemperature, "fridge-1", m).TempMin, 3.5},
		{"temp max", one(popkit.RollupTemperature, "fridge-1", m).TempMax, 4.5},
		{"temp mean", one(popkit.RollupTemperature, "fridge-1", m).TempMean, 4},
		{"kwh delta", one(popkit.RollupEnergy, "meter-1", m).KWh, 0.75},
		{"first meter reading has no delta", one(popkit.RollupEnergy, "meter-1", m.Add(-time.Minute)).KWh, 0},
		{"dwell visitors", float64(one(popkit.RollupDwell, "ble", m).Visitors), 6},
		{"dwell median", one(popkit.RollupDwell, "ble", m).DwellMedianSeconds, 40},
		// Inside after each of the 12 readings: 1..6 then 5..0, mean 3; 6 arrivals a minute.
		{"dwell by Little's law", one(popkit.RollupDwell, "ble", m).DwellLittleSeconds, 30},
	}
	for _, tt := range tests {
		if math.Abs(tt.got-tt.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	// The raw presence identifiers never reach the disk.
	for _, name := range []string{"outbox.db", "outbox.db-wal"} {
		b, err := os.ReadFile(filepath.Join(a.Config.DataDir, name))
		if err != nil {
			continue
		}
		if bytes.Contains(b, []byte("aa:bb:cc:00:00")) {
			t.Errorf("%s holds a raw presence identifier", name)
		}
	}
}

func TestDwellBelowKIsSuppressed(t *testing.T) {
	t.Parallel()
	f := newFakeIngest(t)
	a := startAgent(t, testConfig(t, f.srv.URL))
	m := time.Now().UTC().Truncate(time.Minute).Add(-3 * time.Minute)
	var lines []string
	for i := range 3 {
		lines = append(lines, fmt.Sprintf(`{"type":"presence","sensor":"ble","ts":%q,"id":"dev-%d","action":"enter"}`, m.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano), i))
	}
	if code, body := post(t, a, strings.Join(lines, "\n")); code != http.StatusAccepted {
		t.Fatalf("post = %d %v", code, body)
	}
	waitFor(t, 10*time.Second, "dwell rollup", func() bool { return len(f.rollups(popkit.RollupDwell)) == 1 })
	r := f.rollups(popkit.RollupDwell)[0]
	if !r.Suppressed || r.Visitors != 0 {
		t.Errorf("3 visitors with k = 5: rollup %+v, want suppressed with 0 visitors", r)
	}
}

func TestLateReadingIsACorrection(t *testing.T) {
	t.Parallel()
	f := newFakeIngest(t)
	a := startAgent(t, testConfig(t, f.srv.URL))
	m := time.Now().UTC().Truncate(time.Minute).Add(-3 * time.Minute)
	body1, in1 := edgetest.FootfallJSON("door", m, 10)
	if code, _ := post(t, a, body1); code != http.StatusAccepted {
		t.Fatalf("post = %d", code)
	}
	waitFor(t, 10*time.Second, "first uplink", func() bool { return f.footfallIn()["door"] == in1 })
	body2, in2 := edgetest.FootfallJSON("door", m.Add(30*time.Second), 5)
	if code, _ := post(t, a, body2); code != http.StatusAccepted {
		t.Fatalf("post = %d", code)
	}
	waitFor(t, 10*time.Second, "correction", func() bool { return f.footfallIn()["door"] == in1+in2 })
	if got := len(f.rollups(popkit.RollupFootfall)); got != 1 {
		t.Errorf("server holds %d footfall minutes, want 1 (corrected)", got)
	}
}

func TestServerDownThenBack(t *testing.T) {
	t.Parallel()
	f := newFakeIngest(t)
	f.setDown(true)
	a := startAgent(t, testConfig(t, f.srv.URL))
	m := time.Now().UTC().Truncate(time.Minute).Add(-30 * time.Minute)
	want := map[string]int64{}
	for i := range 20 {
		sensor := fmt.Sprintf("door-%d", i)
		body, sum := edgetest.FootfallJSON(sensor, m.Add(time.Duration(i)*time.Minute), 50)
		if code, _ := post(t, a, body); code != http.StatusAccepted {
			t.Fatalf("post = %d", code)
		}
		want[sensor] = sum
	}
	waitFor(t, 10*time.Second, "failed uplinks", func() bool { return metric(t, a, "popkit_edge_uplink_errors_total", "") >= 2 })
	if a.Outbox.Stats().Backlog == 0 {
		t.Fatal("backlog is empty while the server is down")
	}
	f.setDown(false)
	waitFor(t, 10*time.Second, "backlog drained", func() bool { return a.Outbox.Stats().Backlog == 0 && a.Outbox.Stats().LastSeq >= 20 })
	got := f.footfallIn()
	for s, w := range want {
		if got[s] != w {
			t.Errorf("server footfall in of %s = %d, want %d", s, got[s], w)
		}
	}
	f.mu.Lock()
	order := slices.Clone(f.order)
	f.mu.Unlock()
	if !slices.IsSorted(order) || len(order) != int(a.Outbox.Stats().LastSeq) {
		t.Errorf("server stored seqs %v: want 1..%d once each, in order", order, a.Outbox.Stats().LastSeq)
	}
	if metric(t, a, "popkit_edge_last_sync_timestamp_seconds", "") == 0 {
		t.Error("last sync metric not set")
	}
}

func TestCorruptOutboxIsQuarantined(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		corrupt func(t *testing.T, path string)
	}{
		{"garbage", func(t *testing.T, path string) {
			if err := os.WriteFile(path, bytes.Repeat([]byte("not a database "), 1000), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"truncated", func(t *testing.T, path string) {
			o, _, err := OpenOutbox(context.Background(), path, OutboxOptions{EventID: "e"})
			if err != nil {
				t.Fatal(err)
			}
			recs := make([]popkit.UplinkRecord, 3000)
			for i := range recs {
				recs[i] = popkit.UplinkRecord{Kind: popkit.RecordRollup, Rollup: &popkit.Rollup{Sensor: "door", Kind: popkit.RollupFootfall, In: int64(i)}}
			}
			if err := o.AppendRecords(context.Background(), ClassRollup, recs); err != nil {
				t.Fatal(err)
			}
			if err := o.Close(); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
		}},
		{"damaged header", func(t *testing.T, path string) {
			o, _, err := OpenOutbox(context.Background(), path, OutboxOptions{EventID: "e"})
			if err != nil {
				t.Fatal(err)
			}
			o.Close()
			fh, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			fh.WriteAt(bytes.Repeat([]byte{0xff}, 100), 0)
			fh.Close()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeIngest(t)
			c := testConfig(t, f.srv.URL)
			if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
				t.Fatal(err)
			}
			tt.corrupt(t, filepath.Join(c.DataDir, "outbox.db"))
			a := startAgent(t, c)
			if a.Quarantine == nil || a.Quarantine.Bytes == 0 {
				t.Fatalf("quarantine = %+v, want the corrupt file reported", a.Quarantine)
			}
			if _, err := os.Stat(a.Quarantine.File); err != nil {
				t.Errorf("quarantined file: %v", err)
			}
			if got := metric(t, a, "popkit_edge_quarantined_outboxes", ""); got != 1 {
				t.Errorf("quarantined metric = %v, want 1", got)
			}
			body, sum := edgetest.FootfallJSON("door", time.Now().Add(-3*time.Minute), 5)
			if code, _ := post(t, a, body); code != http.StatusAccepted {
				t.Fatalf("post after quarantine = %d", code)
			}
			waitFor(t, 10*time.Second, "uplink after quarantine", func() bool { return f.footfallIn()["door"] == sum })
			if a.Report().Quarantined != 1 {
				t.Errorf("agent report quarantined = %d, want 1", a.Report().Quarantined)
			}
		})
	}
}

func TestDiskLimitPolicy(t *testing.T) {
	t.Parallel()
	f := newFakeIngest(t)
	f.setDown(true)
	c := testConfig(t, f.srv.URL)
	c.MaxBytes = 60_000
	a := startAgent(t, c)
	m := time.Now().UTC().Truncate(time.Minute).Add(-60 * time.Minute)
	// Raw readings past the limit: the oldest are dropped, input goes on.
	for i := range 10 {
		body, _ := edgetest.FootfallJSON(fmt.Sprintf("door-%d", i), m.Add(time.Duration(i)*time.Minute), 100)
		if code, resp := post(t, a, body); code != http.StatusAccepted {
			t.Fatalf("post %d = %d %v", i, code, resp)
		}
	}
	if got := metric(t, a, "popkit_edge_readings_dropped_total", `class="raw"`); got == 0 {
		t.Error("no raw readings dropped past the size limit")
	}
	if st := a.Outbox.Stats(); st.RawBytes+st.RecordBytes > c.MaxBytes {
		t.Errorf("outbox holds %d bytes, over the limit %d", st.RawBytes+st.RecordBytes, c.MaxBytes)
	}
	// Rollups are kept even past the limit; then input is refused.
	recs := make([]popkit.UplinkRecord, 400)
	for i := range recs {
		recs[i] = popkit.UplinkRecord{Kind: popkit.RecordRollup, Rollup: &popkit.Rollup{EventID: c.EventID, Sensor: "door-x", Kind: popkit.RollupFootfall, Minute: m, In: 1}}
	}
	if err := a.Outbox.AppendRecords(context.Background(), ClassRollup, recs); err != nil {
		t.Fatalf("append rollups: %v", err)
	}
	body, _ := edgetest.FootfallJSON("door-late", m, 10)
	code, resp := post(t, a, body)
	if code != http.StatusInsufficientStorage {
		t.Fatalf("post when full = %d %v, want 507", code, resp)
	}
	if got := metric(t, a, "popkit_edge_outbox_full", ""); got != 1 {
		t.Errorf("outbox full alarm = %v, want 1", got)
	}
	if got := metric(t, a, "popkit_edge_readings_refused_total", ""); got != 10 {
		t.Errorf("refused readings = %v, want 10", got)
	}
	sale := []popkit.UplinkRecord{{Kind: "sale"}}
	if err := a.Outbox.AppendRecords(context.Background(), ClassSale, sale); err != ErrOutboxFull {
		t.Errorf("sale when full: %v, want ErrOutboxFull", err)
	}
	// The server comes back: the backlog drains and input is taken again.
	f.setDown(false)
	waitFor(t, 15*time.Second, "drain", func() bool { return a.Outbox.Stats().Backlog == 0 })
	if code, resp := post(t, a, body); code != http.StatusAccepted {
		t.Fatalf("post after drain = %d %v", code, resp)
	}
	if got := metric(t, a, "popkit_edge_outbox_full", ""); got != 0 {
		t.Errorf("outbox full alarm after drain = %v, want 0", got)
	}
}

func TestSecondAgentOnOneDataDirIsRefused(t *testing.T) {
	t.Parallel()
	f := newFakeIngest(t)
	c := testConfig(t, f.srv.URL)
	startAgent(t, c)
	b := &Agent{Config: c}
	err := b.Open(context.Background())
	if err == nil || !strings.Contains(err.Error(), "in use by another popkit edge") {
		t.Fatalf("second agent: %v, want in use", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(c.DataDir, "quarantine")); len(ents) > 0 {
		t.Errorf("a healthy outbox was quarantined: %v", ents)
	}
}
