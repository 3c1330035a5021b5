package edge

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// mqttInput subscribes to the configured topics with QoS 1 in a persistent
// session, and acknowledges a message to the broker only after its
// readings are durable (manual acks), so the broker redelivers anything
// the agent had not stored when it died.
type mqttInput struct {
	agent      *Agent
	client     mqtt.Client
	subscribed atomic.Bool
}

func (m *mqttInput) connect() error {
	c := m.agent.Config
	id := c.MQTT.ClientID
	if id == "" {
		id = "popkit-edge-" + c.DeviceID
	}
	opts := mqtt.NewClientOptions().AddBroker(c.MQTT.Broker).SetClientID(id).
		SetCleanSession(false).SetAutoAckDisabled(true).SetOrderMatters(false).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(30 * time.Second)
	// A resumed persistent session gets its queued messages right after
	// the broker accepts the connection, before the subscription below
	// registers its handler; without a default handler paho drops them
	// unacknowledged, and they stall until the next reconnect. The broker
	// only sends what this session subscribed to, so every message goes
	// to the same handler.
	opts.SetDefaultPublishHandler(m.handle)
	opts.SetOnConnectHandler(func(cl mqtt.Client) {
		filters := map[string]byte{}
		for _, t := range c.MQTT.Topics {
			filters[t] = 1
		}
		tok := cl.SubscribeMultiple(filters, m.handle)
		if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			m.agent.Logger.Error("mqtt subscribe", "err", tok.Error())
			return
		}
		m.subscribed.Store(true)
	})
	opts.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		m.agent.Logger.Warn("mqtt connection lost", "err", err)
	})
	m.client = mqtt.NewClient(opts)
	// With ConnectRetry the token completes once connected; the agent
	// does not wait for the broker, which may come up later.
	m.client.Connect()
	return nil
}

// handle stores the readings of one message (one reading, a JSON array or
// NDJSON) and acks it once durable. A message already stored (redelivered
// because the agent died between commit and ack) is acked without being
// stored again: the outbox remembers an HMAC of each message for a day. Invalid readings are counted and
// acked: redelivering them would not make them valid.
func (m *mqttInput) handle(_ mqtt.Client, msg mqtt.Message) {
	a := m.agent
	valid, _, errs, err := DecodeReadings(msg.Payload(), a.Now(), a.limits())
	if err != nil {
		errs = append(errs, ReadingError{Index: 0, Reason: err.Error()})
	}
	a.reject(errs)
	if len(errs) > 0 {
		a.Logger.Warn("mqtt readings refused", "topic", msg.Topic(), "errors", fmt.Sprint(errs))
	}
	if len(valid) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// The key is keyed (HMAC under the epoch key), as the payload may
		// hold raw presence identifiers.
		key, _, err := a.keys.Pseudonym(msg.Topic()+"\x00"+string(msg.Payload()), a.Now())
		if err != nil {
			a.Logger.Error("mqtt message key", "err", err)
			return
		}
		if _, err := a.ingest(ctx, []byte(key), valid); err != nil {
			// Not acked: the broker redelivers it after a reconnect.
			a.Logger.Error("mqtt readings not stored", "topic", msg.Topic(), "err", err)
			return
		}
	}
	msg.Ack()
}

func (m *mqttInput) close() {
	m.client.Disconnect(250)
}

// Connected reports whether the MQTT input is connected to its broker.
func (a *Agent) MQTTConnected() bool {
	return a.mqtt != nil && a.mqtt.client.IsConnectionOpen()
}
