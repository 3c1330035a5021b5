package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEdgeCheckConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", `server_url: https://popkit.example
token: secret
device_id: 0195f3a0-0000-7000-8000-000000000001
event_id: 0195f3a0-0000-7000-8000-000000000002
data_dir: /var/lib/popkit-edge
retention: 168h
batch_size: 500
mqtt:
  broker: tcp://127.0.0.1:1883
  topics: [site/readings]
`)
	noToken := write("notoken.yaml", strings.Replace(string(must(os.ReadFile(good))), "token: secret\n", "", 1))
	unknown := write("unknown.yaml", string(must(os.ReadFile(good)))+"colour: red\n")
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantOut string
		wantErr string
	}{
		{"valid file", []string{"--config", good}, nil, "config ok", ""},
		{"missing token", []string{"--config", noToken}, nil, "", "token: required"},
		{"token from env", []string{"--config", noToken}, map[string]string{"POPKIT_EDGE_TOKEN": "t"}, "config ok", ""},
		{"token from flag", []string{"--config", noToken, "--token", "t"}, nil, "config ok", ""},
		{"flag beats env", []string{"--config", good, "--batch-size", "9999"}, map[string]string{"POPKIT_EDGE_BATCH_SIZE": "10"}, "", "batch_size: must be 1 to 5000"},
		{"bad env value", []string{"--config", good}, map[string]string{"POPKIT_EDGE_RETENTION": "forever"}, "", "POPKIT_EDGE_RETENTION"},
		{"unknown key", []string{"--config", unknown}, nil, "", "colour"},
		{"missing file", []string{"--config", filepath.Join(dir, "nope.yaml")}, nil, "", "read config"},
		{"mqtt without topics", []string{"--config", good, "--mqtt-topics", ""}, nil, "", "mqtt.topics"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var out, errOut bytes.Buffer
			root := newRootCmd(&out, &errOut)
			root.SetArgs(append([]string{"edge", "--check-config"}, tt.args...))
			err := root.ExecuteContext(context.Background())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil || !strings.Contains(out.String(), tt.wantOut) {
				t.Fatalf("out %q, err %v; want %q", out.String(), err, tt.wantOut)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
