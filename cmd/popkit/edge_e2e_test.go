package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/popkit/popkit"
	"github.com/popkit/popkit/edge"
	"github.com/popkit/popkit/sim"
	"github.com/popkit/popkit/sqlstore/sqlstoretest"

	"github.com/popkit/popkit/edge/edgetest"
)

// childArgsEnv, when set, makes the test binary run the popkit command
// with these (newline-separated) arguments instead of the tests: the
// end-to-end edge tests run `popkit edge` as a real child process so that
// they can kill it with SIGKILL.
const childArgsEnv = "POPKIT_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childArgsEnv); args != "" {
		root := newRootCmd(os.Stdout, os.Stderr)
		root.SetArgs(strings.Split(args, "\n"))
		ctx, stop := signalContext()
		err := root.ExecuteContext(ctx)
		stop()
		if err != nil {
			fmt.Fprintf(os.Stderr, "popkit: %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// edgeSite is a control plane with a seeded program and one device with
// its token, for end-to-end edge tests.
type edgeSite struct {
	m      *Main
	admin  string
	device *popkit.Device
	token  string
	other  string // a device token of another event
}

func newEdgeSite(t *testing.T) *edgeSite {
	t.Helper()
	ctx := context.Background()
	m := openMain(t, sqlstoretest.OpenDSN(t))
	if _, err := sim.Seed(ctx, sim.Services{Program: m.DB, Cities: m.DB, Venues: m.DB, Brands: m.DB, Events: m.DB, SKUs: m.DB, Assortment: m.DB, Devices: m.DB},
		sim.SeedOptions{Now: time.Now(), Seed: 1}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	devices, _, err := m.DB.FindDevices(ctx, popkit.DeviceFilter{Page: popkit.Page{Limit: 2}})
	if err != nil || len(devices) < 2 || devices[0].EventID == devices[1].EventID {
		t.Fatalf("want two devices of two events: %v, %v", devices, err)
	}
	s := &edgeSite{m: m, admin: adminToken(t, m), device: devices[0]}
	if s.token, err = m.DB.CreateToken(ctx, &popkit.Token{Role: popkit.RoleDevice, EventID: devices[0].EventID, Name: "edge test"}); err != nil {
		t.Fatal(err)
	}
	if s.other, err = m.DB.CreateToken(ctx, &popkit.Token{Role: popkit.RoleDevice, EventID: devices[1].EventID, Name: "edge test other"}); err != nil {
		t.Fatal(err)
	}
	return s
}

// footfall returns the server's footfall-in total of the device's event
// over the last day, of one sensor when sensor is set.
func (s *edgeSite) footfall(t *testing.T, sensor string) int64 {
	t.Helper()
	q := url.Values{"metric": {popkit.MetricFootfallIn}, "step": {"1d"},
		"from": {time.Now().UTC().Add(-48 * time.Hour).Truncate(24 * time.Hour).Format(time.RFC3339)},
		"to":   {time.Now().UTC().Add(48 * time.Hour).Truncate(24 * time.Hour).Format(time.RFC3339)}}
	if sensor != "" {
		q.Set("sensor", sensor)
	}
	var series popkit.Series
	u := s.m.URL() + "/api/v1/events/" + s.device.EventID + "/telemetry?" + q.Encode()
	if code := do(t, "GET", u, s.admin, nil, &series); code != http.StatusOK {
		t.Fatalf("GET telemetry = %d", code)
	}
	var sum float64
	for _, p := range series.Points {
		sum += p.Value
	}
	return int64(sum)
}

// writeEdgeConfig writes a YAML config of an agent of the site's device.
func (s *edgeSite) writeEdgeConfig(t *testing.T, dataDir string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "edge.yaml")
	cfg := fmt.Sprintf(`server_url: %s
token: %s
device_id: %s
event_id: %s
data_dir: %s
listen: 127.0.0.1:0
batch_size: 50
batch_interval: 20ms
rollup_delay: 0s
retry_min: 10ms
retry_max: 200ms
`, s.m.URL(), s.token, s.device.ID, s.device.EventID, dataDir)
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// startEdgeChild runs `popkit edge --config cfg` as a child process and
// returns it with the agent's address.
func startEdgeChild(t *testing.T, cfg string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgsEnv+"=edge\n--config\n"+cfg, "POPKIT_LOG_FORMAT=text")
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("popkit edge did not start: %v", err)
	}
	go io.Copy(io.Discard, out)
	rest, ok := strings.CutPrefix(line, "edge agent listening on http://")
	if !ok {
		t.Fatalf("popkit edge said %q", line)
	}
	return cmd, strings.Fields(rest)[0]
}

// TestEdgeKill9EndToEnd kills `popkit edge` with SIGKILL at random moments
// while readings flow, 20+ times, against the real control plane, and
// checks that the server's footfall-in total equals the sum of the `in`
// counts of every acknowledged request, to the unit (requests cut by a
// kill are stored whole or not at all).
func TestEdgeKill9EndToEnd(t *testing.T) {
	s := newEdgeSite(t)
	cfg := s.writeEdgeConfig(t, t.TempDir())
	kills := 21
	if testing.Short() {
		kills = 4
	}
	base := time.Now().UTC().Truncate(time.Minute).Add(-10 * time.Minute)
	requests := edgetest.KillUnderLoad(t, kills, func() (*exec.Cmd, string) { return startEdgeChild(t, cfg) }, base, 300*time.Millisecond)
	cmd, _ := startEdgeChild(t, cfg)
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	var acked int64
	var ambiguous []string
	for sensor, r := range requests {
		if r.Acked {
			acked += r.Sum
		} else {
			ambiguous = append(ambiguous, sensor)
		}
	}
	if acked == 0 {
		t.Fatal("no request was acknowledged")
	}
	var landed int64
	deadline := time.Now().Add(45 * time.Second)
	for {
		// Read the total before the parts: records that arrive in between
		// can then only raise the parts, so total > parts is a real double
		// count and never a race of this check.
		total := s.footfall(t, "")
		landed = 0
		for _, sensor := range ambiguous {
			v := s.footfall(t, sensor)
			if v != 0 && v != requests[sensor].Sum {
				t.Fatalf("sensor %s: an unanswered request was stored in part (%d of %d)", sensor, v, requests[sensor].Sum)
			}
			landed += v
		}
		if total == acked+landed {
			break
		}
		if total > acked+landed || time.Now().After(deadline) {
			t.Fatalf("server footfall in = %d, want acknowledged %d + unanswered but stored %d", total, acked, landed)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%d kills, %d requests, acknowledged in %d, unanswered but stored %d", kills, len(requests), acked, landed)

	// The device's status at the server shows the agent's report.
	var st popkit.DeviceStatus
	if code := do(t, "GET", s.m.URL()+"/api/v1/devices/"+s.device.ID+"/status", s.admin, nil, &st); code != http.StatusOK {
		t.Fatalf("device status = %d", code)
	}
}

// TestEdgeUplinkToRealServer covers the uplink contract with the real
// ingest: the server down and back (through a proxy) delivers everything
// once, a replayed batch adds nothing, and a token of another event is
// refused with 403.
func TestEdgeUplinkToRealServer(t *testing.T) {
	s := newEdgeSite(t)
	ctx := context.Background()
	proxy := newFlakyProxy(t, strings.TrimPrefix(s.m.URL(), "http://"))
	proxy.SetDown(true)
	c := edge.DefaultConfig()
	c.ServerURL, c.Token, c.DeviceID, c.EventID = "http://"+proxy.ln.Addr().String(), s.token, s.device.ID, s.device.EventID
	c.DataDir, c.Listen = t.TempDir(), "127.0.0.1:0"
	c.BatchSize, c.BatchInterval, c.RollupDelay, c.RetryMin, c.RetryMax = 7, 20*time.Millisecond, 0, 10*time.Millisecond, 100*time.Millisecond
	a := &edge.Agent{Config: c}
	if err := a.Open(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	defer func() { cancel(); <-done }()
	m := time.Now().UTC().Truncate(time.Minute).Add(-40 * time.Minute)
	var want int64
	for i := range 30 {
		body := fmt.Sprintf(`[{"type":"footfall","sensor":"door","ts":%q,"in":%d,"out":1}]`, m.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), i+1)
		resp, err := http.Post("http://"+a.Addr()+"/v1/readings", "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("post readings: %v %v", resp, err)
		}
		resp.Body.Close()
		want += int64(i + 1)
	}
	waitUntil(t, 10*time.Second, "a backlog while the server is down", func() bool { return a.Outbox.Stats().LastSeq == 30 })
	if got := s.footfall(t, ""); got != 0 {
		t.Fatalf("server has %d while down", got)
	}
	proxy.SetDown(false)
	waitUntil(t, 20*time.Second, "the backlog delivered", func() bool { return a.Outbox.Stats().Backlog == 0 })
	if got := s.footfall(t, ""); got != want {
		t.Errorf("server footfall in = %d after the outage, want %d", got, want)
	}

	// A late reading for a minute already uplinked is a correction: the
	// minute is sent again whole and replaces the earlier record.
	late := fmt.Sprintf(`[{"type":"footfall","sensor":"door","ts":%q,"in":100}]`, m.Add(30*time.Second).Format(time.RFC3339))
	resp, err := http.Post("http://"+a.Addr()+"/v1/readings", "application/json", strings.NewReader(late))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("post late reading: %v %v", resp, err)
	}
	resp.Body.Close()
	want += 100
	waitUntil(t, 20*time.Second, "the correction at the server", func() bool { return s.footfall(t, "") == want })

	// Replaying records the server already stored adds nothing.
	var recs []popkit.UplinkRecord
	for i := range 5 {
		recs = append(recs, popkit.UplinkRecord{Seq: int64(i + 1), Kind: popkit.RecordRollup, Rollup: &popkit.Rollup{EventID: c.EventID, Sensor: "door", Kind: popkit.RollupFootfall, Minute: m, In: 1000}})
	}
	batch := popkit.IngestBatch{DeviceID: c.DeviceID, Stream: a.Outbox.Stream(), SentAt: time.Now().UTC(), Records: recs}
	var res popkit.IngestResult
	if code := postIngest(t, s.m.URL(), s.token, batch, &res); code != http.StatusOK || res.Duplicates != 5 || res.Stored != 0 {
		t.Errorf("replay = %d %+v, want 200 with 5 duplicates", code, res)
	}
	if got := s.footfall(t, ""); got != want {
		t.Errorf("server footfall in = %d after a replay, want %d", got, want)
	}
	// A device token of another event cannot ingest for this device.
	if code := postIngest(t, s.m.URL(), s.other, batch, nil); code != http.StatusForbidden {
		t.Errorf("ingest with another event's token = %d, want 403", code)
	}
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// signalContext is canceled by SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// postIngest sends a batch to POST /api/v1/ingest as an agent does and
// decodes the answer into out (when not nil).
func postIngest(t *testing.T, base, token string, b popkit.IngestBatch, out any) int {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(b); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/ingest", &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// TestEdgeMQTTToTelemetry publishes readings to a real MQTT broker and
// reads them back from the control plane's telemetry endpoint.
func TestEdgeMQTTToTelemetry(t *testing.T) {
	broker := "127.0.0.1:1883"
	if c, err := net.DialTimeout("tcp", broker, time.Second); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must run an MQTT broker on %s (.ci/run starts mosquitto): %v", broker, err)
		}
		t.Skipf("no MQTT broker on %s (install and start mosquitto; CI does): %v", broker, err)
	} else {
		c.Close()
	}
	s := newEdgeSite(t)
	topic := "popkit/e2e/" + s.device.ID
	c := edge.DefaultConfig()
	c.ServerURL, c.Token, c.DeviceID, c.EventID = s.m.URL(), s.token, s.device.ID, s.device.EventID
	c.DataDir, c.Listen = t.TempDir(), "127.0.0.1:0"
	c.BatchInterval, c.RollupDelay, c.RetryMin, c.RetryMax = 20*time.Millisecond, 0, 10*time.Millisecond, 100*time.Millisecond
	c.MQTT = edge.MQTTConfig{Broker: "tcp://" + broker, Topics: []string{topic}, ClientID: "popkit-e2e-" + s.device.ID}
	a := &edge.Agent{Config: c}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitUntil(t, 10*time.Second, "mqtt connected", a.MQTTConnected)

	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + broker).SetClientID("popkit-e2e-pub-" + s.device.ID))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect publisher: %v", tok.Error())
	}
	defer pub.Disconnect(100)
	m := time.Now().UTC().Truncate(time.Minute).Add(-5 * time.Minute)
	var want int64
	deadline := time.Now().Add(20 * time.Second)
	// Publish until the subscription is in place and the first reading
	// arrives; then the rest.
	for i := 0; ; i++ {
		payload := fmt.Sprintf(`{"type":"footfall","sensor":"door-mqtt","ts":%q,"in":%d}`, m.Add(time.Duration(i)*time.Second).Format(time.RFC3339), 3)
		if tok := pub.Publish(topic, 1, false, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
		want += 3
		time.Sleep(50 * time.Millisecond)
		if got := s.footfall(t, "door-mqtt"); got > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no MQTT reading reached the telemetry endpoint")
		}
	}
	waitUntil(t, 20*time.Second, "every MQTT reading in the telemetry", func() bool { return s.footfall(t, "door-mqtt") >= want })
	if got := s.footfall(t, "door-mqtt"); got != want {
		t.Errorf("telemetry footfall = %d, want %d", got, want)
	}
}
