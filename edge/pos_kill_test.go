package edge

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/popkit/popkit"
	"go.yaml.in/yaml/v3"
)

// TestPOSKill9 kills the agent with SIGKILL at random moments while three
// tills ring up sales, and checks that every sale the till answered 201
// for reaches the server exactly once, that a sale cut by the kill is
// stored whole or not at all (a retry with its id tells which), and that
// local stock ends equal to the server's.
func TestPOSKill9(t *testing.T) {
	tee := item("Tee", 500, 100000)
	f := newFakePOSServer(t, uuid.Must(uuid.NewV7()).String(), tee)
	c := posConfig(t, f)
	c.BatchSize = 20
	b, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "edge.yaml")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	kills := 10
	if testing.Short() {
		kills = 3
	}
	client := &http.Client{Timeout: 10 * time.Second}
	var mu sync.Mutex
	acked := map[string]bool{} // sale id → answered 201
	for k := range kills {
		cmd, addr := startChild(t, cfgPath)
		if k == 0 {
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(getBody(client, "http://"+addr+"/pos/api/items"), tee.sku) {
				if time.Now().After(deadline) {
					t.Fatal("the till never fetched its assortment")
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		var ackedThisRound atomic.Int32
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					id := popkit.NewID()
					mu.Lock()
					acked[id] = false
					mu.Unlock()
					body := fmt.Sprintf(`{"id":%q,"lines":[{"sku_id":%q,"quantity":1}],"payment":{"method":"cash","amount_minor":500}}`, id, tee.sku)
					resp, err := client.Post("http://"+addr+"/pos/api/sales", "application/json", strings.NewReader(body))
					if err != nil {
						return // killed
					}
					resp.Body.Close()
					if resp.StatusCode == http.StatusCreated {
						mu.Lock()
						acked[id] = true
						mu.Unlock()
						ackedThisRound.Add(1)
					}
				}
			}()
		}
		// Kill at a random moment once the till has acknowledged a sale
		// of this round, so every round exercises it however slow the
		// machine is.
		deadline := time.Now().Add(time.Minute)
		for ackedThisRound.Load() == 0 {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				close(stop)
				wg.Wait()
				t.Fatalf("round %d: the till acknowledged no sale in a minute", k)
			}
			time.Sleep(5 * time.Millisecond) // polling interval
		}
		time.Sleep(rand.N(300 * time.Millisecond))
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		close(stop)
		wg.Wait()
	}
	cmd, addr := startChild(t, cfgPath)
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	n := 0
	for _, ok := range acked {
		if ok {
			n++
		}
	}
	if n < kills {
		t.Fatalf("only %d sales acknowledged over %d kills: the test did not exercise the till", n, kills)
	}
	waitFor(t, 30*time.Second, "every acknowledged sale at the server", func() bool {
		got := f.salesByID()
		for id, ok := range acked {
			if ok && len(got[id]) == 0 {
				return false
			}
		}
		return true
	})
	// Retrying each unanswered sale with its id either finds it stored
	// (200) or stores it now (201): never twice.
	for id, ok := range acked {
		if ok {
			continue
		}
		body := fmt.Sprintf(`{"id":%q,"lines":[{"sku_id":%q,"quantity":1}],"payment":{"method":"cash","amount_minor":500}}`, id, tee.sku)
		resp, err := client.Post("http://"+addr+"/pos/api/sales", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
			t.Errorf("retry of %s: %s", id, resp.Status)
		}
	}
	waitFor(t, 30*time.Second, "every sale at the server", func() bool { return len(f.salesByID()) == len(acked) })
	for id, copies := range f.salesByID() {
		if _, ok := acked[id]; !ok || len(copies) != 1 {
			t.Errorf("sale %s at the server %d times (known %v)", id, len(copies), ok)
		}
	}
	if want := int64(100000 - len(acked)); f.stock(tee.sku) != want {
		t.Errorf("server stock %d, want %d", f.stock(tee.sku), want)
	}
	waitFor(t, 15*time.Second, "local stock to match the server's", func() bool {
		return strings.Contains(getBody(client, "http://"+addr+"/pos/api/items"), fmt.Sprintf(`"stock":%d`, f.stock(tee.sku)))
	})
	t.Logf("%d sales over %d kills, %d answered 201", len(acked), kills, n)
}

func getBody(c *http.Client, u string) string {
	resp, err := c.Get(u)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String()
		}
	}
}
