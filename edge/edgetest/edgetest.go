// Package edgetest holds test support shared by the edge agent's own tests
// and the end-to-end tests that run the agent against the control plane:
// footfall request bodies and the kill -9 load loop.
package edgetest

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// FootfallJSON returns a JSON array of n footfall readings of sensor with
// device times from ts on, and the sum of their `in` counts.
func FootfallJSON(sensor string, ts time.Time, n int) (string, int64) {
	var b strings.Builder
	var sum int64
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		in := int64(i%7 + 1)
		sum += in
		fmt.Fprintf(&b, `{"type":"footfall","sensor":%q,"ts":%q,"in":%d,"out":1}`, sensor, ts.Add(time.Duration(i)*time.Millisecond).UTC().Format(time.RFC3339Nano), in)
	}
	b.WriteByte(']')
	return b.String(), sum
}

// Request is one POST /v1/readings of a kill test: the sum of its `in`
// counts and whether the agent answered 202 (the readings are durable).
type Request struct {
	Sum   int64
	Acked bool
}

// AckedPerRound is how many requests KillUnderLoad waits to see
// acknowledged in each round before it kills the agent.
const AckedPerRound = 3

// KillUnderLoad starts the agent with start (which returns the child
// process and its listen address) kills times; each time three clients post
// 20-reading footfall requests, one sensor per request, until the agent is
// killed with SIGKILL. The kill comes at a random moment within spread
// after the agent acknowledged AckedPerRound requests of the round, so
// every round exercises the agent however slow the machine is. It returns
// every request sent, by sensor. Readings are dated in the five minutes
// from base.
func KillUnderLoad(t testing.TB, kills int, start func() (*exec.Cmd, string), base time.Time, spread time.Duration) map[string]*Request {
	t.Helper()
	var mu sync.Mutex
	requests := map[string]*Request{}
	client := &http.Client{Timeout: 10 * time.Second}
	for k := range kills {
		cmd, addr := start()
		var ackedThisRound atomic.Int32
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
					body, sum := FootfallJSON(sensor, base.Add(time.Duration(r%5)*time.Minute), 20)
					req := &Request{Sum: sum}
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
						req.Acked = true
						mu.Unlock()
						ackedThisRound.Add(1)
					}
				}
			}()
		}
		deadline := time.Now().Add(time.Minute)
		for ackedThisRound.Load() < AckedPerRound {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				close(stop)
				wg.Wait()
				t.Fatalf("round %d: the agent acknowledged %d requests in a minute, want %d", k, ackedThisRound.Load(), AckedPerRound)
			}
			time.Sleep(5 * time.Millisecond) // polling interval
		}
		time.Sleep(rand.N(spread)) // a random moment to kill at
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("kill: %v", err)
		}
		cmd.Wait()
		close(stop)
		wg.Wait()
	}
	return requests
}
