package edge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// testConfig returns a valid configuration for an agent that uplinks to
// serverURL and keeps its data in a temp dir.
func testConfig(t testing.TB, serverURL string) Config {
	t.Helper()
	c := DefaultConfig()
	c.ServerURL = serverURL
	c.Token = "device-token"
	c.DeviceID = uuid.Must(uuid.NewV7()).String()
	c.EventID = uuid.Must(uuid.NewV7()).String()
	c.DataDir = t.TempDir()
	c.Listen = "127.0.0.1:0"
	c.BatchInterval = 20 * time.Millisecond
	c.RollupDelay = 0
	c.RetryMin, c.RetryMax = 10*time.Millisecond, 100*time.Millisecond
	return c
}

// startAgent opens and runs an agent until the test ends.
func startAgent(t testing.TB, c Config) *Agent {
	t.Helper()
	a := &Agent{Config: c}
	if err := a.Open(context.Background()); err != nil {
		t.Fatalf("open agent: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent run: %v", err)
		}
	})
	return a
}

// post sends body to the agent's readings endpoint and decodes the answer.
func post(t testing.TB, a *Agent, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post("http://"+a.Addr()+"/v1/readings", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("post readings: %v", err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode answer %q: %v", b, err)
	}
	return resp.StatusCode, m
}

// metric returns the value of the sample of name whose labels contain
// labels (e.g. `class="raw"`), or 0.
func metric(t testing.TB, a *Agent, name, labels string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + a.Addr() + "/metrics")
	if err != nil {
		t.Fatalf("get metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest[0] != ' ' && rest[0] != '{' || !strings.Contains(rest, labels) {
			continue
		}
		v, err := strconv.ParseFloat(rest[strings.LastIndexByte(rest, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("parse metric line %q: %v", line, err)
		}
		return v
	}
	return 0
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stoppableAgent is an agent a test can stop before it ends.
type stoppableAgent struct {
	agent *Agent
	stop  func()
}

func startAgentStoppable(t testing.TB, c Config) *stoppableAgent {
	t.Helper()
	a := &Agent{Config: c}
	if err := a.Open(context.Background()); err != nil {
		t.Fatalf("open agent: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("agent run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &stoppableAgent{agent: a, stop: stop}
}
