package edge

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"
)

// TestKill9MQTT kills the agent with SIGKILL at random moments while
// readings arrive over MQTT with QoS 1. The broker keeps what the agent
// has not acked for its persistent session and redelivers it; the agent
// acks only after a message is durable and recognises redeliveries of
// messages it had stored, so every published reading is counted once.
func TestKill9MQTT(t *testing.T) {
	broker := mqttBroker(t)
	f := newFakeIngest(t)
	c := testConfig(t, f.srv.URL)
	c.BatchSize = 50
	topic := "popkit/kill/" + uuid.NewString()
	c.MQTT = MQTTConfig{Broker: broker, Topics: []string{topic}, ClientID: "popkit-kill-" + uuid.NewString()}
	cfgPath := filepath.Join(t.TempDir(), "edge.yaml")
	b, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID("popkit-kill-pub-" + uuid.NewString()))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect publisher: %v", tok.Error())
	}
	defer pub.Disconnect(100)
	// A first run creates the persistent session, so that the broker
	// keeps messages for the agent from then on.
	cmd, addr := startChild(t, cfgPath)
	var published atomic.Int64
	var sum atomic.Int64
	stop := make(chan struct{})
	pubDone := make(chan struct{})
	base := time.Now().UTC().Truncate(time.Minute).Add(-5 * time.Minute)
	waitFor(t, 10*time.Second, "the first agent's subscription", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var h struct{ MQTT string }
		return json.NewDecoder(resp.Body).Decode(&h) == nil && h.MQTT == "subscribed"
	})
	go func() {
		defer close(pubDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			in := int64(i%4 + 1)
			payload := fmt.Sprintf(`{"type":"footfall","sensor":"door","ts":%q,"in":%d}`, base.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), in)
			if tok := pub.Publish(topic, 1, false, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
				t.Errorf("publish: %v", tok.Error())
				return
			}
			published.Add(1)
			sum.Add(in)
			time.Sleep(5 * time.Millisecond)
		}
	}()
	kills := 10
	if testing.Short() {
		kills = 3
	}
	for k := range kills {
		time.Sleep(time.Duration(100+rand.IntN(300)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if k < kills-1 {
			cmd, _ = startChild(t, cfgPath)
		}
	}
	close(stop)
	<-pubDone
	cmd, _ = startChild(t, cfgPath)
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	want := sum.Load()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := f.footfallIn()["door"]
		if got == want {
			break
		}
		if got > want || time.Now().After(deadline) {
			t.Fatalf("server footfall in = %d, want %d (the sum of %d published readings)", got, want, published.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d kills, %d readings published over MQTT, %d in, counted once", kills, published.Load(), want)
}
