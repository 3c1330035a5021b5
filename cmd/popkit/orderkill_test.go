package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/popkit/popkit"
	"github.com/popkit/popkit/sqlstore"
)

// TestOrdersSurviveKill kills `popkit serve` with SIGKILL while orders are
// being placed, then checks the store: no order without lines, reserved
// stock equals the confirmed orders' quantities (no reservation without an
// order, no order without its reservation), every acknowledged order is
// there, and after a restart an acknowledged key still replays.
func TestOrdersSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and kills a popkit binary (./test.sh --full runs it)")
	}
	ctx := context.Background()
	dir := t.TempDir()
	bin := filepath.Join(dir, "popkit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dsn := filepath.Join(dir, "popkit.db")
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f := mkOrderFixture(t, db, 1_000_000)
	token, err := db.CreateToken(ctx, &popkit.Token{Role: popkit.RoleAdmin, Name: "kill"})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	start := func() (*exec.Cmd, string) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		cmd := exec.Command(bin, "serve", "--addr", addr, "--db", dsn)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		url := "http://" + addr
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get(url + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return cmd, url
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("popkit serve at %s not ready: %v", addr, err)
			}
			time.Sleep(20 * time.Millisecond) // polling interval while the process starts
		}
	}
	cmd, url := start()

	// Clients place orders until the server dies; acked records the keys
	// and bodies answered 201.
	type sent struct {
		key  string
		body []byte
	}
	var mu sync.Mutex
	var acked []sent
	var n atomic.Int64
	enough := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("kill-%d-%d", w, i)
				body := f.body(popkit.NewID(), 1+i%3)
				status, _, _, err := postOrderWith(client, url, token, key, body)
				if err != nil {
					return // the server is gone
				}
				if status == 201 {
					mu.Lock()
					acked = append(acked, sent{key, body})
					mu.Unlock()
					if n.Add(1) >= 200 {
						once.Do(func() { close(enough) })
					}
				}
			}
		})
	}
	select {
	case <-enough:
	case <-time.After(60 * time.Second):
		t.Fatal("200 orders were not acknowledged within 60 s")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	wg.Wait()

	db, err = sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var orders, orphanOrders, orphanLines int
	q := func(query string, dst *int) {
		t.Helper()
		if err := db.SQL().QueryRowContext(ctx, query).Scan(dst); err != nil {
			t.Fatal(err)
		}
	}
	q(`SELECT COUNT(*) FROM orders`, &orders)
	q(`SELECT COUNT(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)`, &orphanOrders)
	q(`SELECT COUNT(*) FROM order_lines l WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = l.order_id)`, &orphanLines)
	var held int
	q(`SELECT COALESCE(SUM(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.status = 'confirmed'`, &held)
	item, err := db.FindAssortmentItem(ctx, f.eventID, f.skuID)
	if err != nil {
		t.Fatal(err)
	}
	if orphanOrders != 0 || orphanLines != 0 || item.Reserved != held || orders < len(acked) {
		t.Errorf("after the kill: %d orders (%d acknowledged), %d without lines, %d lines without an order, reserved %d, confirmed quantity %d",
			orders, len(acked), orphanOrders, orphanLines, item.Reserved, held)
	}
	db.Close()

	_, url = start()
	last := acked[len(acked)-1]
	status, replayed, text, err := postOrderWith(client, url, token, last.key, last.body)
	if err != nil || status != 201 || !replayed {
		t.Errorf("replay after restart: %d replayed=%v %v %s", status, replayed, err, text)
	}
}
