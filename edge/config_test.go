package edge

import (
	"reflect"
	"strings"
	"testing"
)

// TestExampleConfig keeps edge.example.yaml loadable and valid.
func TestExampleConfig(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig("edge.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("example config: %v", err)
	}
	if c.MQTT.Broker == "" || c.KeyEpoch.Hours() != 720 {
		t.Errorf("example config read as %+v", c)
	}
}

func TestConfigKeysCoverEveryYAMLKey(t *testing.T) {
	t.Parallel()
	keys := map[string]bool{}
	for _, k := range ConfigKeys {
		keys[k.Name] = true
		if !strings.HasPrefix(k.Env, "POPKIT_EDGE_") || k.Flag == "" || k.Set == nil {
			t.Errorf("key %s: env %q flag %q", k.Name, k.Env, k.Flag)
		}
	}
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for f := range typ.Fields() {
			name := prefix + f.Tag.Get("yaml")
			if f.Type.Kind() == reflect.Struct && f.Type.PkgPath() != "time" {
				walk(name+".", f.Type)
				continue
			}
			if !keys[name] {
				t.Errorf("no env/flag override for %s", name)
			}
		}
	}
	walk("", reflect.TypeFor[Config]())
}
