package edge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/popkit/popkit"
	"go.yaml.in/yaml/v3"
)

// Config is the agent's configuration, read from YAML. Every key can be
// overridden by an environment variable and a flag (see ConfigKeys).
type Config struct {
	ServerURL     string        `yaml:"server_url"`     // control plane base URL
	Token         string        `yaml:"token"`          // device token
	DeviceID      string        `yaml:"device_id"`      // this device's id
	EventID       string        `yaml:"event_id"`       // the event the device is bound to
	DataDir       string        `yaml:"data_dir"`       // outbox, keys and quarantine
	Listen        string        `yaml:"listen"`         // local inputs and /metrics
	Retention     time.Duration `yaml:"retention"`      // raw readings kept this long
	MaxBytes      int64         `yaml:"max_bytes"`      // outbox size limit (raw readings plus uplink records); 0 means none
	BatchSize     int           `yaml:"batch_size"`     // uplink records per request
	BatchInterval time.Duration `yaml:"batch_interval"` // how long a partial batch waits
	KeyEpoch      time.Duration `yaml:"key_epoch"`      // pseudonym key lifetime
	RollupDelay   time.Duration `yaml:"rollup_delay"`   // wait after a minute ends before uplinking it
	K             int           `yaml:"k_anonymity"`    // smallest presence-derived count uplinked
	MaxBodyBytes  int64         `yaml:"max_body_bytes"` // largest HTTP input request
	RetryMin      time.Duration `yaml:"retry_min"`      // first uplink backoff
	RetryMax      time.Duration `yaml:"retry_max"`      // longest uplink backoff
	MQTT          MQTTConfig    `yaml:"mqtt"`
	OTLP          OTLPConfig    `yaml:"otlp"`
	POS           POSConfig     `yaml:"pos"`
}

// MQTTConfig configures the MQTT input; it is off without a broker.
type MQTTConfig struct {
	Broker   string   `yaml:"broker"`    // e.g. tcp://127.0.0.1:1883
	Topics   []string `yaml:"topics"`    // subscribed with QoS 1
	ClientID string   `yaml:"client_id"` // persistent session id; default popkit-edge-<device id>
}

// OTLPConfig configures the optional OTLP/HTTP JSON push of rollups.
type OTLPConfig struct {
	URL string `yaml:"url"` // e.g. http://collector:4318/v1/metrics
}

// DefaultConfig returns the configuration with every default set.
func DefaultConfig() Config {
	return Config{
		DataDir:       "./popkit-edge",
		Listen:        "127.0.0.1:8181",
		Retention:     7 * 24 * time.Hour,
		MaxBytes:      1 << 30,
		BatchSize:     1000,
		BatchInterval: 5 * time.Second,
		KeyEpoch:      30 * 24 * time.Hour,
		RollupDelay:   10 * time.Second,
		K:             5,
		MaxBodyBytes:  8 << 20,
		RetryMin:      200 * time.Millisecond,
		RetryMax:      30 * time.Second,
		POS:           DefaultPOSConfig(),
	}
}

// LoadConfig reads a YAML file over the defaults. Unknown keys are errors.
func LoadConfig(path string) (Config, error) {
	c := DefaultConfig()
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return c, fmt.Errorf("config %s: %s", path, strings.Join(te.Errors, "; "))
		}
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// ConfigKey is one configuration key with its environment variable and
// flag, and how to set it from a string.
type ConfigKey struct {
	Name  string // YAML key, dotted for nested ones
	Env   string
	Flag  string
	Usage string
	Set   func(c *Config, v string) error
}

func str(f func(c *Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *f(c) = v; return nil }
}

func dur(f func(c *Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		*f(c) = d
		return nil
	}
}

func i64(f func(c *Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errors.New("not an integer")
		}
		*f(c) = n
		return nil
	}
}

func integer(f func(c *Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errors.New("not an integer")
		}
		*f(c) = n
		return nil
	}
}

// ConfigKeys lists every key that a flag or environment variable can set.
var ConfigKeys = []ConfigKey{
	{"server_url", "POPKIT_EDGE_SERVER_URL", "server-url", "control plane base URL", str(func(c *Config) *string { return &c.ServerURL })},
	{"token", "POPKIT_EDGE_TOKEN", "token", "device token", str(func(c *Config) *string { return &c.Token })},
	{"device_id", "POPKIT_EDGE_DEVICE_ID", "device-id", "this device's id", str(func(c *Config) *string { return &c.DeviceID })},
	{"event_id", "POPKIT_EDGE_EVENT_ID", "event-id", "the event this device is bound to", str(func(c *Config) *string { return &c.EventID })},
	{"data_dir", "POPKIT_EDGE_DATA_DIR", "data-dir", "directory of the outbox, keys and quarantine", str(func(c *Config) *string { return &c.DataDir })},
	{"listen", "POPKIT_EDGE_LISTEN", "listen", "listen address of local inputs and /metrics", str(func(c *Config) *string { return &c.Listen })},
	{"retention", "POPKIT_EDGE_RETENTION", "retention", "how long raw readings are kept", dur(func(c *Config) *time.Duration { return &c.Retention })},
	{"max_bytes", "POPKIT_EDGE_MAX_BYTES", "max-bytes", "outbox size limit in bytes (0: none)", i64(func(c *Config) *int64 { return &c.MaxBytes })},
	{"batch_size", "POPKIT_EDGE_BATCH_SIZE", "batch-size", "uplink records per request", integer(func(c *Config) *int { return &c.BatchSize })},
	{"batch_interval", "POPKIT_EDGE_BATCH_INTERVAL", "batch-interval", "how long a partial uplink batch waits", dur(func(c *Config) *time.Duration { return &c.BatchInterval })},
	{"key_epoch", "POPKIT_EDGE_KEY_EPOCH", "key-epoch", "lifetime of the pseudonym key", dur(func(c *Config) *time.Duration { return &c.KeyEpoch })},
	{"rollup_delay", "POPKIT_EDGE_ROLLUP_DELAY", "rollup-delay", "wait after a minute ends before uplinking it", dur(func(c *Config) *time.Duration { return &c.RollupDelay })},
	{"k_anonymity", "POPKIT_EDGE_K_ANONYMITY", "k-anonymity", "smallest presence-derived count uplinked", integer(func(c *Config) *int { return &c.K })},
	{"max_body_bytes", "POPKIT_EDGE_MAX_BODY_BYTES", "max-body-bytes", "largest HTTP input request in bytes", i64(func(c *Config) *int64 { return &c.MaxBodyBytes })},
	{"retry_min", "POPKIT_EDGE_RETRY_MIN", "retry-min", "first uplink retry backoff", dur(func(c *Config) *time.Duration { return &c.RetryMin })},
	{"retry_max", "POPKIT_EDGE_RETRY_MAX", "retry-max", "longest uplink retry backoff", dur(func(c *Config) *time.Duration { return &c.RetryMax })},
	{"mqtt.broker", "POPKIT_EDGE_MQTT_BROKER", "mqtt-broker", "MQTT broker URL, e.g. tcp://127.0.0.1:1883", str(func(c *Config) *string { return &c.MQTT.Broker })},
	{"mqtt.topics", "POPKIT_EDGE_MQTT_TOPICS", "mqtt-topics", "comma-separated MQTT topics", func(c *Config, v string) error {
		c.MQTT.Topics = nil
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				c.MQTT.Topics = append(c.MQTT.Topics, t)
			}
		}
		return nil
	}},
	{"mqtt.client_id", "POPKIT_EDGE_MQTT_CLIENT_ID", "mqtt-client-id", "MQTT client id of the persistent session", str(func(c *Config) *string { return &c.MQTT.ClientID })},
	{"otlp.url", "POPKIT_EDGE_OTLP_URL", "otlp-url", "OTLP/HTTP JSON metrics endpoint for rollups", str(func(c *Config) *string { return &c.OTLP.URL })},
	{"pos.till", "POPKIT_EDGE_POS_TILL", "pos-till", "label of the POS till on receipts and sales", str(func(c *Config) *string { return &c.POS.Till })},
	{"pos.currency", "POPKIT_EDGE_POS_CURRENCY", "pos-currency", "ISO 4217 currency the POS page shows until its first assortment fetch; then the event's, as the server says", str(func(c *Config) *string { return &c.POS.Currency })},
	{"pos.refresh", "POPKIT_EDGE_POS_REFRESH", "pos-refresh", "how often the POS refetches the assortment while online", dur(func(c *Config) *time.Duration { return &c.POS.Refresh })},
	{"pos.card_offline_max_tx", "POPKIT_EDGE_POS_CARD_OFFLINE_MAX_TX", "pos-card-offline-max-tx", "largest offline card payment in minor units (0: offline cards refused)", i64(func(c *Config) *int64 { return &c.POS.CardOfflineMaxTx })},
	{"pos.card_offline_max_total", "POPKIT_EDGE_POS_CARD_OFFLINE_MAX_TOTAL", "pos-card-offline-max-total", "largest total of unsynced offline card payments on this device in minor units", i64(func(c *Config) *int64 { return &c.POS.CardOfflineMaxTotal })},
}

// Validate reports every problem of the configuration at once.
func (c *Config) Validate() error {
	var v popkit.Validation
	u, err := url.Parse(c.ServerURL)
	v.Check(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "", "server_url", "must be an http or https URL")
	v.Check(c.Token != "", "token", "required")
	_, err = uuid.Parse(c.DeviceID)
	v.Check(err == nil, "device_id", "must be a device id (UUID)")
	_, err = uuid.Parse(c.EventID)
	v.Check(err == nil, "event_id", "must be an event id (UUID)")
	v.Check(c.DataDir != "", "data_dir", "required")
	_, _, err = net.SplitHostPort(c.Listen)
	v.Check(err == nil, "listen", "must be host:port")
	v.Check(c.Retention >= time.Minute, "retention", "must be at least 1m")
	v.Check(c.MaxBytes >= 0, "max_bytes", "must be 0 (no limit) or more")
	v.Check(c.BatchSize >= 1 && c.BatchSize <= popkit.MaxIngestRecords, "batch_size", "must be 1 to %d", popkit.MaxIngestRecords)
	v.Check(c.BatchInterval > 0, "batch_interval", "must be positive")
	v.Check(c.KeyEpoch >= time.Hour, "key_epoch", "must be at least 1h")
	v.Check(c.RollupDelay >= 0, "rollup_delay", "must not be negative")
	v.Check(c.K >= 2, "k_anonymity", "must be at least 2")
	v.Check(c.MaxBodyBytes >= 1024, "max_body_bytes", "must be at least 1024")
	v.Check(c.RetryMin > 0 && c.RetryMax >= c.RetryMin, "retry_max", "retry_min must be positive and retry_max at least retry_min")
	if c.MQTT.Broker != "" {
		u, err := url.Parse(c.MQTT.Broker)
		v.Check(err == nil && u.Host != "" && (u.Scheme == "tcp" || u.Scheme == "mqtt" || u.Scheme == "ssl" || u.Scheme == "tls" || u.Scheme == "ws" || u.Scheme == "wss"), "mqtt.broker", "must be a tcp://, ssl:// or ws:// URL")
		v.Check(len(c.MQTT.Topics) > 0, "mqtt.topics", "at least one topic when a broker is set")
	}
	if c.OTLP.URL != "" {
		u, err := url.Parse(c.OTLP.URL)
		v.Check(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "", "otlp.url", "must be an http or https URL")
	}
	c.POS.validate(&v)
	return v.Err()
}
