package edge

import (
	"fmt"
	"net"
	"os"
	"strings"
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
