package edge

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// childConfigEnv, when set, makes the test binary run an agent with the
// YAML config at that path instead of the tests: the kill -9 test runs
// the agent as a real child process this way.
const childConfigEnv = "POPKIT_EDGE_TEST_CHILD_CONFIG"

func TestMain(m *testing.M) {
	if path := os.Getenv(childConfigEnv); path != "" {
		os.Exit(runChild(path))
	}
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
	type request struct {
		sum   int64
		acked bool
	}
	var mu sync.Mutex
	requests := map[string]*request{}
	client := &http.Client{Timeout: 10 * time.Second}
	base := time.Now().UTC().Truncate(time.Minute).Add(-10 * time.Minute)
	for k := range kills {
		cmd, addr := startChild(t, cfgPath)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for g := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := 0; ; r++ {
					select {
					case <-stop:
						return
					default:
					}
					sensor := fmt.Sprintf("k%d-g%d-r%d", k, g, r)
					body, sum := footfallJSON(sensor, base.Add(time.Duration(r%5)*time.Minute), 20)
					req := &request{sum: sum}
					mu.Lock()
					requests[sensor] = req
					mu.Unlock()
					resp, err := client.Post("http://"+addr+"/v1/readings", "application/json", strings.NewReader(body))
					if err != nil {
						return // killed
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusAccepted {
						mu.Lock()
						req.acked = true
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(50+rand.IntN(250)) * time.Millisecond) // a random moment to kill at
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("kill: %v", err)
		}
		cmd.Wait()
		close(stop)
		wg.Wait()
	}
	// A last run delivers everything that is left.
	cmd, _ := startChild(t, cfgPath)
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	var ackedSum int64
	acked := 0
	for _, r := range requests {
		if r.acked {
			ackedSum += r.sum
			acked++
		}
	}
	if acked < kills*3 {
		t.Fatalf("only %d requests acknowledged over %d kills: the test did not exercise the agent", acked, kills)
	}
	waitFor(t, 30*time.Second, "every acknowledged reading at the server", func() bool {
		got := f.footfallIn()
		for s, r := range requests {
			if r.acked && got[s] != r.sum {
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
		case r.acked && v != r.sum:
			t.Errorf("sensor %s: server counts %d, acknowledged %d", s, v, r.sum)
		case !r.acked && v != 0 && v != r.sum:
			t.Errorf("sensor %s: an unanswered request was stored in part (%d of %d)", s, v, r.sum)
		case !r.acked:
			landed += v
		}
	}
	if serverSum != ackedSum+landed {
		t.Errorf("server footfall in = %d, want acknowledged %d + unanswered but stored %d", serverSum, ackedSum, landed)
	}
	t.Logf("%d kills, %d requests (%d acknowledged, %d in); server total %d", kills, len(requests), acked, ackedSum, serverSum)
}
