package edge

import (
	"bufio"
	"context"
	"fmt"
	mqtt "github.com/eclipse/paho.mqtt.golang"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/popkit/popkit/edge/edgetest"
)

// childConfigEnv, when set, makes the test binary run an agent with the
// YAML config at that path instead of the tests: the kill -9 test runs
// the agent as a real child process this way.
const childConfigEnv = "POPKIT_EDGE_TEST_CHILD_CONFIG"

func TestMain(m *testing.M) {
	if path := os.Getenv(childConfigEnv); path != "" {
		os.Exit(runChild(path))
	}
	mqtt.DEBUG = &mqttGate // set before any client runs: paho reads it unlocked
	os.Exit(m.Run())
}

func runChild(path string) int {
	c, err := LoadConfig(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	a := &Agent{Config: c}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := a.Open(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("READY %s\n", a.Addr())
	if err := a.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startChild runs the agent as a child process and returns its address.
func startChild(t *testing.T, cfgPath string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childConfigEnv+"="+cfgPath)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start agent: %v", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("agent did not start: %v", err)
	}
	go io.Copy(io.Discard, out)
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "READY ")
	if !ok {
		t.Fatalf("agent said %q, want READY addr", line)
	}
	return cmd, addr
}

// TestKill9 kills the agent process with SIGKILL at random moments while
// readings flow, more than 20 times, and checks that every reading the
// agent answered 202 for is counted exactly once by the server, and that
// requests cut by the kill were stored whole or not at all.
func TestKill9(t *testing.T) {
	f := newFakeIngest(t)
	c := testConfig(t, f.srv.URL)
	c.BatchSize = 50
	cfgPath := filepath.Join(t.TempDir(), "edge.yaml")
	b, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	kills := 22
	if testing.Short() {
		kills = 5
	}
	base := time.Now().UTC().Truncate(time.Minute).Add(-10 * time.Minute)
	requests := edgetest.KillUnderLoad(t, kills, func() (*exec.Cmd, string) { return startChild(t, cfgPath) }, base, 250*time.Millisecond)
	// A last run delivers everything that is left.
	cmd, _ := startChild(t, cfgPath)
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	var ackedSum int64
	acked := 0
	for _, r := range requests {
		if r.Acked {
			ackedSum += r.Sum
			acked++
		}
	}
	if acked < kills*edgetest.AckedPerRound {
		t.Fatalf("only %d requests acknowledged over %d kills: the test did not exercise the agent", acked, kills)
	}
	waitFor(t, 30*time.Second, "every acknowledged reading at the server", func() bool {
		got := f.footfallIn()
		for s, r := range requests {
			if r.Acked && got[s] != r.Sum {
				return false
			}
		}
		return true
	})
	got := f.footfallIn()
	var serverSum, landed int64
	for s, v := range got {
		serverSum += v
		r := requests[s]
		switch {
		case r == nil:
			t.Errorf("server counts unknown sensor %s", s)
		case r.Acked && v != r.Sum:
			t.Errorf("sensor %s: server counts %d, acknowledged %d", s, v, r.Sum)
		case !r.Acked && v != 0 && v != r.Sum:
			t.Errorf("sensor %s: an unanswered request was stored in part (%d of %d)", s, v, r.Sum)
		case !r.Acked:
			landed += v
		}
	}
	if serverSum != ackedSum+landed {
		t.Errorf("server footfall in = %d, want acknowledged %d + unanswered but stored %d", serverSum, ackedSum, landed)
	}
	t.Logf("%d kills, %d requests (%d acknowledged, %d in); server total %d", kills, len(requests), acked, ackedSum, serverSum)
}
