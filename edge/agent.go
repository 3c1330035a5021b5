package edge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/popkit/popkit"
)

// Agent is the on-site agent: inputs, anonymiser, rollups, outbox, uplink.
// Set Config (and optionally Logger and Now), call Open, then Run.
type Agent struct {
	Config Config
	Logger *slog.Logger
	Now    func() time.Time

	Outbox     *Outbox
	Quarantine *Quarantine // set when Open had to quarantine the outbox

	keys     *Keyring
	metrics  *metrics
	uplink   *Uplink
	otlp     *otlpPusher
	pos      *pos
	mqtt     *mqttInput
	listener net.Listener
	server   *http.Server
	lastRead atomic.Int64
	rejected atomic.Int64
	wg       sync.WaitGroup
	lock     *os.File
}

// Open validates the configuration, opens (or quarantines and recreates)
// the outbox and starts listening. It never fails because of a corrupt
// outbox file.
func (a *Agent) Open(ctx context.Context) error {
	if a.Logger == nil {
		a.Logger = slog.New(slog.DiscardHandler)
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	if err := a.Config.Validate(); err != nil {
		return err
	}
	c := a.Config
	lock, err := lockDataDir(c.DataDir)
	if err != nil {
		return err
	}
	a.lock = lock
	ob, q, err := OpenOutbox(ctx, filepath.Join(c.DataDir, "outbox.db"), OutboxOptions{MaxBytes: c.MaxBytes, EventID: c.EventID, K: c.K})
	if err != nil {
		lock.Close()
		return err
	}
	a.Outbox, a.Quarantine = ob, q
	if q != nil {
		a.Logger.Error("outbox was unusable: quarantined it and started a fresh outbox; its unsent records are lost",
			"quarantined_file", q.File, "lost_bytes", q.Bytes, "reason", q.Reason, "new_stream", ob.Stream())
	}
	a.keys = &Keyring{Dir: filepath.Join(c.DataDir, "keys"), Epoch: c.KeyEpoch}
	a.metrics = newMetrics(ob.Stats)
	a.uplink = &Uplink{URL: c.ServerURL, Token: c.Token, DeviceID: c.DeviceID, BatchSize: c.BatchSize, Interval: c.BatchInterval,
		MinBackoff: c.RetryMin, MaxBackoff: c.RetryMax, Outbox: ob, Report: a.Report, Logger: a.Logger, Now: a.Now, metrics: a.metrics}
	if c.OTLP.URL != "" {
		a.otlp = &otlpPusher{URL: c.OTLP.URL, DeviceID: c.DeviceID, Logger: a.Logger, metrics: a.metrics, ch: make(chan []popkit.Rollup, 64)}
	}
	if a.pos, err = openPOS(ctx, a); err != nil {
		ob.Close()
		lock.Close()
		return err
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		ob.Close()
		lock.Close()
		return fmt.Errorf("listen: %w", err)
	}
	a.listener = ln
	mux := http.NewServeMux()
	a.pos.mount(mux)
	mux.Handle("/", a.Handler())
	a.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn)}
	if c.MQTT.Broker != "" {
		a.mqtt = &mqttInput{agent: a}
		if err := a.mqtt.connect(); err != nil {
			ln.Close()
			ob.Close()
			return err
		}
	}
	return nil
}

// Addr returns the address the local inputs listen on.
func (a *Agent) Addr() string { return a.listener.Addr().String() }

// Run serves the inputs and runs the flusher, pruner and uplink until ctx
// ends, then shuts them down.
func (a *Agent) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	serveErr := make(chan error, 1)
	go func() { serveErr <- a.server.Serve(a.listener) }()
	a.wg.Add(3)
	go func() { defer a.wg.Done(); a.uplink.Run(ctx) }()
	go func() { defer a.wg.Done(); a.pos.runRefresh(ctx) }()
	go func() { defer a.wg.Done(); a.housekeep(ctx) }()
	if a.otlp != nil {
		a.wg.Add(1)
		go func() { defer a.wg.Done(); a.otlp.run(ctx) }()
	}
	a.Logger.Info("edge agent running", "listen", a.Addr(), "stream", a.Outbox.Stream(), "server", a.Config.ServerURL)
	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("serve inputs: %w", err)
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	if a.mqtt != nil {
		a.mqtt.close()
	}
	err = errors.Join(err, a.server.Shutdown(sctx))
	a.wg.Wait()
	err = errors.Join(err, a.Outbox.Close())
	a.lock.Close()
	return err
}

// housekeep flushes finished minutes into uplink records every second and
// prunes old data every minute.
func (a *Agent) housekeep(ctx context.Context) {
	flush := time.NewTicker(time.Second)
	defer flush.Stop()
	var lastPrune time.Time
	for {
		now := a.Now()
		due := now.Add(-time.Minute - a.Config.RollupDelay)
		rollups, err := a.Outbox.Flush(ctx, due)
		if err != nil && ctx.Err() == nil {
			a.Logger.Error("flush rollups", "err", err)
		}
		if a.otlp != nil && len(rollups) > 0 {
			a.otlp.push(rollups)
		}
		if now.Sub(lastPrune) >= time.Minute {
			lastPrune = now
			if _, err := a.Outbox.Prune(ctx, now, a.Config.Retention, a.keys.EpochOf(now)); err != nil && ctx.Err() == nil {
				a.Logger.Error("prune outbox", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-flush.C:
		}
	}
}

// FlushNow turns every changed minute, finished or not, into uplink
// records; tests and a shutdown before a long outage use it.
func (a *Agent) FlushNow(ctx context.Context) error {
	_, err := a.Outbox.Flush(ctx, a.Now().Add(time.Hour))
	return err
}

// Ingest stores valid readings durably: presence identifiers are replaced
// by pseudonyms first, so the raw value never reaches the disk. It returns
// after the commit that holds them.
func (a *Agent) Ingest(ctx context.Context, rs []Reading) error {
	_, err := a.ingest(ctx, nil, rs)
	return err
}

// ingest stores rs; with a key, only if no input with that key was stored
// within a day, and then reports seen.
func (a *Agent) ingest(ctx context.Context, once []byte, rs []Reading) (seen bool, err error) {
	now := a.Now()
	rx := now.UnixNano()
	stored := make([]storedReading, len(rs))
	for i := range rs {
		r := &rs[i]
		s := storedReading{Type: r.Type, Sensor: r.Sensor, TS: r.TS.UnixNano(), RX: rx}
		switch r.Type {
		case TypeFootfall:
			s.In, s.Out = deref(r.In), deref(r.Out)
		case TypeOccupancy:
			s.Count = deref(r.Count)
		case TypeQueue:
			s.Length = *r.Length
			if r.OpenTills != nil {
				s.OpenTills = *r.OpenTills
			}
		case TypePresence:
			p, epoch, err := a.keys.Pseudonym(r.ID, now)
			if err != nil {
				return false, fmt.Errorf("pseudonymise: %w", err)
			}
			s.Pseudonym, s.Epoch, s.Action = p, epoch, r.Action
			r.ID = "" // forget the raw identifier
		case TypeTemperature:
			s.Celsius = *r.Celsius
		case TypeEnergy:
			s.KWh = *r.KWh
		}
		stored[i] = s
	}
	// State that depends on order (presence, meters) follows device time
	// within a request, whatever order the sensor sent.
	slices.SortStableFunc(stored, func(x, y storedReading) int { return cmp.Compare(x.TS, y.TS) })
	if once != nil {
		seen, err = a.Outbox.AppendOnce(ctx, once, stored)
	} else {
		err = a.Outbox.Append(ctx, stored)
	}
	if err != nil {
		if errors.Is(err, ErrOutboxFull) {
			a.metrics.refused.Add(float64(len(rs)))
		}
		return false, err
	}
	if seen {
		return true, nil
	}
	for i := range rs {
		a.metrics.accepted.WithLabelValues(rs[i].Type).Inc()
	}
	a.lastRead.Store(now.UnixNano())
	return false, nil
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// reject counts invalid readings.
func (a *Agent) reject(errs []ReadingError) {
	for _, e := range errs {
		class := e.Type
		if class == "" {
			class = "unknown"
		}
		a.metrics.rejected.WithLabelValues(class).Inc()
	}
	a.rejected.Add(int64(len(errs)))
}

// Report is the agent's view of itself, sent with every uplink batch.
func (a *Agent) Report() popkit.AgentReport {
	st := a.Outbox.Stats()
	r := popkit.AgentReport{Version: popkit.Version, BacklogCount: st.Backlog, BacklogBytes: st.RecordBytes,
		Rejected: a.rejected.Load(), Quarantined: st.Quarantined}
	if st.DroppedRaw > 0 {
		r.Dropped = map[string]int64{ClassRaw: st.DroppedRaw}
	}
	if n := a.lastRead.Load(); n > 0 {
		t := time.Unix(0, n).UTC()
		r.LastReadingAt = &t
	}
	return r
}

// limits returns the decoder limits of the configuration.
func (a *Agent) limits() Limits {
	l := DefaultLimits
	l.MaxAge = a.Config.Retention
	return l
}
