package edge

import (
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/uuid"

	"github.com/popkit/popkit/edge/edgetest"
)

// mqttBroker returns the URL of the MQTT broker the tests use, skipping
// the test when none listens (CI always starts Mosquitto).
func mqttBroker(t *testing.T) string {
	t.Helper()
	addr := "127.0.0.1:1883"
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil && os.Getenv("CI") != "" {
		t.Fatalf("CI must run an MQTT broker on %s (.ci/run starts mosquitto): %v", addr, err)
	}
	if err != nil {
		t.Skipf("no MQTT broker on %s (install and start mosquitto; CI does): %v", addr, err)
	}
	c.Close()
	return "tcp://" + addr
}

func publish(t *testing.T, broker, topic string, payloads ...string) {
	t.Helper()
	cl := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID("popkit-test-pub-" + uuid.NewString()))
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect publisher: %v", tok.Error())
	}
	defer cl.Disconnect(100)
	for _, p := range payloads {
		if tok := cl.Publish(topic, 1, false, p); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
}

// TestMQTTInput publishes readings to a real broker with QoS 1, including
// while the agent is stopped (the persistent session keeps them), and
// checks that each valid reading reaches the server once.
func TestMQTTInput(t *testing.T) {
	t.Parallel()
	broker := mqttBroker(t)
	f := newFakeIngest(t)
	c := testConfig(t, f.srv.URL)
	topic := "popkit/test/" + uuid.NewString()
	c.MQTT = MQTTConfig{Broker: broker, Topics: []string{topic + "/#"}, ClientID: "popkit-edge-test-" + uuid.NewString()}
	a := startAgentStoppable(t, c)
	waitFor(t, 10*time.Second, "mqtt connected", a.agent.MQTTConnected)
	waitFor(t, 10*time.Second, "mqtt subscribed", func() bool { return a.agent.mqtt.subscribed.Load() })
	ts := time.Now().UTC().Add(-3 * time.Minute).Truncate(time.Minute)
	reading := func(sensor string, i, in int) string {
		return fmt.Sprintf(`{"type":"footfall","sensor":%q,"ts":%q,"in":%d}`, sensor, ts.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano), in)
	}
	publish(t, broker, topic+"/door-1",
		reading("door-1", 0, 2),
		"["+reading("door-1", 1, 3)+`,{"type":"footfall","sensor":"door-1","ts":"x"}]`,
		`not json`)
	waitFor(t, 10*time.Second, "mqtt readings at the server", func() bool { return f.footfallIn()["door-1"] == 5 })
	if got := a.agent.rejected.Load(); got != 2 {
		t.Errorf("rejected = %d, want 2", got)
	}
	// Stop the agent; readings published meanwhile wait in the broker.
	a.stop()
	publish(t, broker, topic+"/door-2", reading("door-2", 0, 4), reading("door-2", 1, 6))
	b := startAgentStoppable(t, c)
	defer b.stop()
	waitFor(t, 15*time.Second, "readings published while the agent was down", func() bool { return f.footfallIn()["door-2"] == 10 })
	if got := f.footfallIn()["door-1"]; got != 5 {
		t.Errorf("door-1 = %d after restart, want 5", got)
	}
}

func TestMQTTRedeliveryIsNotCountedTwice(t *testing.T) {
	t.Parallel()
	f := newFakeIngest(t)
	a := startAgent(t, testConfig(t, f.srv.URL))
	body, sum := edgetest.FootfallJSON("door", time.Now().Add(-3*time.Minute), 5)
	m := &mqttInput{agent: a}
	for range 3 {
		msg := &fakeMessage{topic: "t", payload: []byte(body)}
		m.handle(nil, msg)
		if !msg.acked {
			t.Fatal("message not acked")
		}
	}
	waitFor(t, 10*time.Second, "uplink", func() bool { return a.Outbox.Stats().LastSeq > 0 && a.Outbox.Stats().Backlog == 0 })
	if got := f.footfallIn()["door"]; got != sum {
		t.Errorf("server counts %d after 3 deliveries, want %d", got, sum)
	}
	if !strings.Contains(body, "door") {
		t.Fatal("bad fixture")
	}
}

type fakeMessage struct {
	mqtt.Message
	topic   string
	payload []byte
	acked   bool
}

func (m *fakeMessage) Topic() string   { return m.topic }
func (m *fakeMessage) Payload() []byte { return m.payload }
func (m *fakeMessage) Ack()            { m.acked = true }

// subscribeGate stands in for a busy CPU in front of paho: installed as
// paho's debug logger, and while armed, it holds the first
// SubscribeMultiple call (which registers the subscription's handler)
// until a message has reached paho's router and been either handled or
// dropped for want of a handler (paho logs the drop), or until the
// gate's release condition holds. It records whether paho dropped a
// message. Without it the race between the broker's queued messages and
// the agent's subscription is lost only now and then, under load.
type subscribeGate struct {
	armed   atomic.Bool
	held    atomic.Int32 // SubscribeMultiple calls held
	dropped atomic.Int32 // messages paho dropped: no handler
	mu      sync.Mutex
	release func() bool
}

// mqttGate is the gate TestMain installs as paho's debug logger.
var mqttGate subscribeGate

// arm makes the gate hold the next SubscribeMultiple until a message
// was dropped or release reports true.
func (g *subscribeGate) arm(release func() bool) {
	g.mu.Lock()
	g.release = release
	g.mu.Unlock()
	g.held.Store(0)
	g.dropped.Store(0)
	g.armed.Store(true)
}

// Println is paho's debug log; it holds SubscribeMultiple when armed.
func (g *subscribeGate) Println(v ...any) {
	if len(v) != 2 {
		return
	}
	msg, _ := v[1].(string)
	switch {
	case strings.HasSuffix(msg, "no handler was available. Message will NOT be acknowledged."):
		g.dropped.Add(1)
	case msg == "enter SubscribeMultiple" && g.armed.CompareAndSwap(true, false):
		g.held.Add(1)
		g.mu.Lock()
		release := g.release
		g.mu.Unlock()
		deadline := time.Now().Add(10 * time.Second)
		for g.dropped.Load() == 0 && !release() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond) // polling interval
		}
	}
}

// Printf is paho's debug log; the gate needs none of its lines.
func (g *subscribeGate) Printf(string, ...any) {}

// TestMQTTQueuedWhileDown queues QoS 1 messages in the agent's persistent
// session while the agent is stopped, restarts it, and checks that every
// message is stored exactly once. The broker sends the queued messages
// right after it accepts the connection, possibly before the agent has
// subscribed again; an agent that registers its handler only when it
// subscribes leaves such messages unacknowledged (and unstored) until the
// next reconnect. The subscription is held back (subscribeGate) so that
// the messages do arrive first.
func TestMQTTQueuedWhileDown(t *testing.T) {
	// Not parallel: the gate holds whichever client subscribes next.
	broker := mqttBroker(t)
	f := newFakeIngest(t)
	c := testConfig(t, f.srv.URL)
	topic := "popkit/queued/" + uuid.NewString()
	c.MQTT = MQTTConfig{Broker: broker, Topics: []string{topic}, ClientID: "popkit-edge-queued-" + uuid.NewString()}
	// A first run creates the persistent session and its subscription.
	a := startAgentStoppable(t, c)
	waitFor(t, 10*time.Second, "mqtt subscribed", func() bool { return a.agent.mqtt.subscribed.Load() })
	a.stop()

	const n = 60 // more than Mosquitto's default of 20 messages in flight
	ts := time.Now().UTC().Add(-3 * time.Minute).Truncate(time.Minute)
	want := map[string]int64{}
	var payloads []string
	for i := range n {
		sensor := fmt.Sprintf("queued-%02d", i)
		want[sensor] = int64(i + 1) // each message its own count, so a repeat shows
		payloads = append(payloads, fmt.Sprintf(`{"type":"footfall","sensor":%q,"ts":%q,"in":%d}`, sensor, ts.Format(time.RFC3339), i+1))
	}
	publish(t, broker, topic, payloads...)

	// Every message stored and uplinked, none of them twice: a repeat
	// would double its sensor's count.
	same := func() bool {
		got := f.footfallIn()
		if len(got) != len(want) {
			return false
		}
		for s, v := range want {
			if got[s] != v {
				return false
			}
		}
		return true
	}
	mqttGate.arm(func() bool { return len(f.footfallIn()) > 0 })
	b := startAgentStoppable(t, c)
	defer b.stop()
	deadline := time.Now().Add(30 * time.Second)
	for !same() {
		if time.Now().After(deadline) {
			got := f.footfallIn()
			var missing, wrong []string
			for s, v := range want {
				switch {
				case got[s] == 0:
					missing = append(missing, s)
				case got[s] != v:
					wrong = append(wrong, fmt.Sprintf("%s=%d (want %d)", s, got[s], v))
				}
			}
			sort.Strings(missing)
			t.Fatalf("after 30s %d of %d queued messages are not stored (%v), %d were dropped for want of a handler; counted wrongly: %v",
				len(missing), n, missing, mqttGate.dropped.Load(), wrong)
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	if mqttGate.held.Load() != 1 {
		t.Fatalf("the subscription was held %d times, want 1 (did paho's debug line change?)", mqttGate.held.Load())
	}
	if d := mqttGate.dropped.Load(); d > 0 {
		t.Errorf("paho dropped %d messages for want of a handler", d)
	}
	// Nothing arrives a second time once the outbox has drained.
	waitFor(t, 10*time.Second, "outbox drained", func() bool { return b.agent.Outbox.Stats().Backlog == 0 })
	if !same() {
		t.Errorf("server counts changed after the outbox drained: %v", f.footfallIn())
	}
}
