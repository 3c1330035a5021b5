// Command edgebench measures the edge agent: durable ingest throughput of
// batched HTTP requests into the outbox with the agent on one core, the
// drain of a 1,000,000-record outbox to a local durable receiver over
// loopback, and the agent's RSS idle and while draining. It prints a
// table; see BENCHMARKS.md.
//
//	go run ./bench/edgebench
//	go run ./bench/edgebench -records 1000000 -readings 2000000
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/popkit/popkit"
	"github.com/popkit/popkit/edge"
	_ "modernc.org/sqlite"
)

func main() {
	mode := flag.String("mode", "", "internal: child role (agent, drain)")
	dir := flag.String("dir", "", "internal: data dir")
	server := flag.String("server", "", "internal: server URL")
	records := flag.Int("records", 1_000_000, "uplink records in the drained outbox")
	readings := flag.Int("readings", 1_000_000, "readings posted in the ingest run")
	batch := flag.Int("batch", 1000, "readings per ingest request")
	clients := flag.Int("clients", 8, "concurrent ingest clients")
	popkitBin := flag.String("popkit", "", "popkit binary for the drain to the real control plane (built with go build when empty)")
	token := flag.String("token", "", "internal: device token")
	device := flag.String("device", "", "internal: device id")
	flag.Parse()
	var err error
	switch *mode {
	case "agent":
		err = childAgent(*dir, *server)
	case "drain":
		err = childDrain(*dir, *server, *token, *device)
	default:
		err = run(*records, *readings, *batch, *clients, *popkitBin)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "edgebench: %v\n", err)
		os.Exit(1)
	}
}

func run(records, readings, batch, clients int, popkitBin string) error {
	tmp, err := os.MkdirTemp("", "edgebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	recv, err := newReceiver(filepath.Join(tmp, "server.db"))
	if err != nil {
		return err
	}
	defer recv.close()

	// 1. Durable ingest: the agent on one core (GOMAXPROCS=1, pinned
	// with taskset when available), the load from this process.
	agentDir := filepath.Join(tmp, "agent")
	cmd, addr, err := startChild("agent", agentDir, "http://127.0.0.1:1", true)
	if err != nil {
		return err
	}
	idle := rssOf(cmd.Process.Pid)
	cpu0 := cpuOf(cmd.Process.Pid)
	start := time.Now()
	n, err := load("http://"+addr+"/v1/readings", readings, batch, clients)
	elapsed := time.Since(start)
	cpu := cpuOf(cmd.Process.Pid) - cpu0
	ingestRSS := rssOf(cmd.Process.Pid)
	time.Sleep(2 * time.Second)
	idleAfter := rssOf(cmd.Process.Pid)
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	if err != nil {
		return err
	}

	// 2. Drain: fill an outbox with records, then ship it, once to a
	// minimal durable receiver (the agent's side alone) and once to the
	// real control plane (popkit demo on SQLite: seeded, with a device).
	cp, err := startControlPlane(tmp, popkitBin)
	if err != nil {
		return err
	}
	defer cp.stop()
	stub, err := drain(filepath.Join(tmp, "drain-stub"), records, cp.eventID, recv.url, "bench", uuid.NewString())
	if err != nil {
		return err
	}
	real, err := drain(filepath.Join(tmp, "drain-real"), records, cp.eventID, cp.url, cp.token, cp.deviceID)
	if err != nil {
		return err
	}
	serverFile := int64(0)
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(filepath.Join(tmp, "server.db") + suffix); err == nil {
			serverFile += fi.Size()
		}
	}

	fmt.Printf("edge agent benchmark (%s/%s, %d CPUs, shared and noisy machine)\n\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	fmt.Println("| measure | value |")
	fmt.Println("|---|---|")
	fmt.Printf("| durable ingest, agent on 1 core, %d clients x %d-reading requests | %d readings in %.2f s = %.0f readings/s |\n", clients, batch, n, elapsed.Seconds(), float64(n)/elapsed.Seconds())
	fmt.Printf("| the same per second of agent CPU time (user+sys) | %.2f CPU-s = %.0f readings per CPU-second |\n", cpu.Seconds(), float64(n)/cpu.Seconds())
	fmt.Printf("| agent RSS idle after start | %.1f MiB |\n", float64(idle)/1024)
	fmt.Printf("| agent RSS right after the ingest run / 2 s later | %.1f / %.1f MiB |\n", float64(ingestRSS)/1024, float64(idleAfter)/1024)
	fmt.Printf("| outbox filled with %d rollup records | %.1f s, %.0f MiB file |\n", records, stub.fill.Seconds(), float64(stub.file)/(1<<20))
	fmt.Printf("| drain of %d records to a minimal durable SQLite receiver over loopback (%d stored) | %.1f s = %.0f records/s; agent CPU %.1f s |\n", stub.Sent, recv.count(), stub.Seconds, float64(stub.Sent)/stub.Seconds, stub.CPU)
	fmt.Printf("| agent RSS while draining to it (peak sampled / VmHWM) | %.1f / %.1f MiB |\n", float64(stub.peak)/1024, float64(stub.HWM)/1024)
	fmt.Printf("| drain of %d records to popkit's control plane (SQLite) over loopback | %.1f s = %.0f records/s; agent CPU %.1f s (server file %.0f MiB) |\n", real.Sent, real.Seconds, float64(real.Sent)/real.Seconds, real.CPU, float64(serverFile)/(1<<20))
	fmt.Printf("| agent RSS while draining to it (peak sampled / VmHWM) | %.1f / %.1f MiB |\n", float64(real.peak)/1024, float64(real.HWM)/1024)
	return nil
}

// drainResult is what one drain run measured.
type drainResult struct {
	Seconds float64 `json:"seconds"`
	Sent    int64   `json:"sent"`
	HWM     int64   `json:"vm_hwm_kib"`
	CPU     float64 `json:"cpu_seconds"`
	fill    time.Duration
	file    int64
	peak    int64
}

// drain fills an outbox in dir with n records and ships it to server from
// a child process, sampling the child's RSS.
func drain(dir string, n int, eventID, server, token, device string) (*drainResult, error) {
	res := &drainResult{}
	start := time.Now()
	if err := fill(dir, n, eventID); err != nil {
		return nil, err
	}
	res.fill = time.Since(start)
	if fi, err := os.Stat(filepath.Join(dir, "outbox.db")); err == nil {
		res.file = fi.Size()
	}
	cmd, out, err := startDrain(dir, server, token, device)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				mu.Lock()
				res.peak = max(res.peak, rssOf(cmd.Process.Pid))
				mu.Unlock()
			}
		}
	}()
	line, _ := out.ReadString('\n')
	close(stop)
	cmd.Wait()
	mu.Lock()
	defer mu.Unlock()
	if err := json.Unmarshal([]byte(line), res); err != nil {
		return nil, fmt.Errorf("drain child said %q: %w", line, err)
	}
	return res, nil
}

// startChild runs this program as the agent and returns its address.
func startChild(mode, dir, server string, oneCore bool) (*exec.Cmd, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	args := []string{self, "-mode", mode, "-dir", dir, "-server", server}
	if oneCore {
		if ts, err := exec.LookPath("taskset"); err == nil {
			args = append([]string{ts, "-c", "0"}, args...)
		}
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return nil, "", fmt.Errorf("agent did not start: %w", err)
	}
	return cmd, strings.TrimSpace(line), nil
}

func startDrain(dir, server, token, device string) (*exec.Cmd, *bufio.Reader, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(self, "-mode", "drain", "-dir", dir, "-server", server, "-token", token, "-device", device)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	return cmd, bufio.NewReader(out), cmd.Start()
}

func config(dir, server string) edge.Config {
	c := edge.DefaultConfig()
	c.ServerURL, c.Token, c.DataDir, c.Listen = server, "bench", dir, "127.0.0.1:0"
	c.DeviceID, c.EventID = uuid.NewString(), uuid.NewString()
	c.MaxBytes = 0
	c.BatchSize = popkit.MaxIngestRecords
	c.RetryMax = time.Minute
	return c
}

func childAgent(dir, server string) error {
	a := &edge.Agent{Config: config(dir, server)}
	if err := a.Open(context.Background()); err != nil {
		return err
	}
	fmt.Println(a.Addr())
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, os.Stdin)
	}()
	sig := make(chan os.Signal, 1)
	notify(sig)
	go func() { <-sig; cancel() }()
	return a.Run(ctx)
}

// fill writes n rollup records to a fresh outbox in dir.
func fill(dir string, n int, eventID string) error {
	o, _, err := edge.OpenOutbox(context.Background(), filepath.Join(dir, "outbox.db"), edge.OutboxOptions{EventID: eventID})
	if err != nil {
		return err
	}
	m := time.Now().UTC().Truncate(time.Minute)
	const chunk = 20000
	for i := 0; i < n; i += chunk {
		recs := make([]popkit.UplinkRecord, min(chunk, n-i))
		for j := range recs {
			k := i + j
			recs[j] = popkit.UplinkRecord{Kind: popkit.RecordRollup, Rollup: &popkit.Rollup{EventID: eventID, Sensor: "door-" + strconv.Itoa(k%16),
				Kind: popkit.RollupFootfall, Minute: m.Add(-time.Duration(k/16) * time.Minute), In: int64(k % 50), Out: int64(k % 40)}}
		}
		if err := o.AppendRecords(context.Background(), edge.ClassRollup, recs); err != nil {
			return err
		}
	}
	return o.Close()
}

func childDrain(dir, server, token, device string) error {
	ctx := context.Background()
	o, _, err := edge.OpenOutbox(ctx, filepath.Join(dir, "outbox.db"), edge.OutboxOptions{})
	if err != nil {
		return err
	}
	defer o.Close()
	u := &edge.Uplink{URL: server, Token: token, DeviceID: device, BatchSize: popkit.MaxIngestRecords,
		Outbox: o, Report: func() popkit.AgentReport { return popkit.AgentReport{} }, Logger: slog.New(slog.DiscardHandler)}
	start := time.Now()
	var sent int64
	for o.Stats().Backlog > 0 {
		n, err := u.SendOnce(ctx)
		if err != nil {
			return err
		}
		sent += int64(n)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"seconds": time.Since(start).Seconds(), "sent": sent, "vm_hwm_kib": status("VmHWM"),
		"cpu_seconds": cpuOf(os.Getpid()).Seconds()})
}

// load posts total readings in batches from clients goroutines and returns
// how many were acknowledged with 202.
func load(url string, total, batch, clients int) (int, error) {
	base := time.Now().Add(-time.Hour)
	var mu sync.Mutex
	acked, next := 0, 0
	var firstErr error
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			var buf bytes.Buffer
			for {
				mu.Lock()
				if next >= total || firstErr != nil {
					mu.Unlock()
					return
				}
				from := next
				next += batch
				mu.Unlock()
				buf.Reset()
				buf.WriteByte('[')
				for i := from; i < from+batch; i++ {
					if i > from {
						buf.WriteByte(',')
					}
					fmt.Fprintf(&buf, `{"type":"footfall","sensor":"door-%d","ts":"%s","in":%d,"out":%d}`, i%8, base.Add(time.Duration(i)*time.Millisecond).UTC().Format(time.RFC3339Nano), i%5, i%3)
				}
				buf.WriteByte(']')
				resp, err := client.Post(url, "application/json", bytes.NewReader(buf.Bytes()))
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						err = fmt.Errorf("agent answered %s", resp.Status)
					}
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				} else if err == nil {
					acked += batch
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return acked, firstErr
}

// receiver is a stand-in control plane for the drain: it stores every
// record in SQLite (WAL, synchronous=FULL) before acknowledging, as the
// real ingest does, keyed by (stream, seq).
type receiver struct {
	db  *sql.DB
	srv *http.Server
	url string
	mu  sync.Mutex
	ack map[string]int64
}

func newReceiver(path string) (*receiver, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE records (stream TEXT, seq INTEGER, body BLOB, PRIMARY KEY (stream, seq)) WITHOUT ROWID`); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{db: db, url: "http://" + ln.Addr().String(), ack: map[string]int64{}}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve)}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	zr, err := gzip.NewReader(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var b struct {
		Stream  string            `json:"stream"`
		Records []json.RawMessage `json:"records"`
	}
	if err := json.NewDecoder(zr).Decode(&b); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	tx, err := r.db.Begin()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer tx.Rollback()
	st, _ := tx.Prepare("INSERT INTO records (stream, seq, body) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
	var last int64
	for _, rec := range b.Records {
		var h struct {
			Seq int64 `json:"seq"`
		}
		json.Unmarshal(rec, &h)
		if _, err := st.Exec(b.Stream, h.Seq, []byte(rec)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		last = h.Seq
	}
	st.Close()
	if err := tx.Commit(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	json.NewEncoder(w).Encode(popkit.IngestResult{Stream: b.Stream, AckSeq: last, Stored: len(b.Records)})
}

func (r *receiver) count() int64 {
	var n int64
	r.db.QueryRow("SELECT count(*) FROM records").Scan(&n)
	return n
}

func (r *receiver) close() {
	r.srv.Close()
	r.db.Close()
}

// cpuOf returns the user plus system CPU time of pid.
func cpuOf(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// rssOf returns the resident set of pid in KiB.
func rssOf(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	return field(string(b), "VmRSS")
}

func status(name string) int64 {
	b, _ := os.ReadFile("/proc/self/status")
	return field(string(b), name)
}

func field(s, name string) int64 {
	for line := range strings.SplitSeq(s, "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// controlPlane is `popkit demo` serving a seeded SQLite program.
type controlPlane struct {
	url, token, deviceID, eventID string
	cmd                           *exec.Cmd
}

func (c *controlPlane) stop() {
	c.cmd.Process.Signal(os.Interrupt)
	c.cmd.Wait()
}

func startControlPlane(tmp, bin string) (*controlPlane, error) {
	if bin == "" {
		bin = filepath.Join(tmp, "popkit")
		build := exec.Command("go", "build", "-o", bin, "./cmd/popkit")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("build popkit (run from the module root or pass -popkit): %w", err)
		}
	}
	db := filepath.Join(tmp, "server.db")
	cmd := exec.Command(bin, "demo", "--edge-agents", "0", "--addr", "127.0.0.1:0", "--db", db)
	cmd.Env = append(os.Environ(), "POPKIT_LOG_FORMAT=text")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start popkit demo: %w", err)
	}
	c := &controlPlane{cmd: cmd}
	sc := bufio.NewScanner(out)
	admin := ""
	for (c.url == "" || admin == "") && sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "popkit demo is running at "); ok {
			c.url = strings.TrimSpace(u)
		}
		if tok, ok := strings.CutPrefix(sc.Text(), "admin token: "); ok {
			admin = strings.TrimSpace(tok)
		}
	}
	go io.Copy(io.Discard, out)
	if c.url == "" || admin == "" {
		c.stop()
		return nil, fmt.Errorf("popkit demo did not print its URL and token")
	}
	req, _ := http.NewRequest(http.MethodGet, c.url+"/api/v1/devices?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.stop()
		return nil, err
	}
	var page struct {
		Items []popkit.Device `json:"items"`
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || len(page.Items) == 0 {
		c.stop()
		return nil, fmt.Errorf("list devices: %v", err)
	}
	c.deviceID, c.eventID = page.Items[0].ID, page.Items[0].EventID
	tok, err := exec.Command(bin, "token", "create", "--role", "device", "--event", c.eventID, "--name", "edgebench", "--db", db).Output()
	if err != nil {
		c.stop()
		return nil, fmt.Errorf("create device token: %w", err)
	}
	c.token = strings.TrimSpace(strings.SplitN(string(tok), "\n", 2)[0])
	return c, nil
}
