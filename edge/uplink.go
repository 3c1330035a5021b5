package edge

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/popkit/popkit"
)

// Uplink ships the outbox to the control plane: fixed-size batches read
// straight from the file (never the whole backlog), gzip'd JSON, with
// exponential backoff and jitter after failures. It deletes only what the
// server acknowledged.
type Uplink struct {
	URL                    string // control plane base URL
	Token                  string
	DeviceID               string
	BatchSize              int           // records per request, at most popkit.MaxIngestRecords
	Interval               time.Duration // how long a partial batch may wait
	MinBackoff, MaxBackoff time.Duration
	Client                 *http.Client
	Outbox                 *Outbox
	Report                 func() popkit.AgentReport
	Logger                 *slog.Logger
	Now                    func() time.Time

	metrics *metrics
	buf     bytes.Buffer
	gz      *gzip.Writer
}

// Run sends batches until ctx ends.
func (u *Uplink) Run(ctx context.Context) {
	failures := 0
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		st := u.Outbox.Stats()
		wait := time.Duration(0)
		switch {
		case failures > 0:
			wait = backoff(u.MinBackoff, u.MaxBackoff, failures)
		case st.Backlog == 0:
			wait = time.Hour
		case st.Backlog < int64(u.BatchSize):
			wait = u.Interval
		}
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			case <-u.Outbox.Notify():
				if failures > 0 {
					// Keep backing off; the notification only says there is more.
					select {
					case <-ctx.Done():
						return
					case <-timer.C:
					}
				} else if u.Outbox.Stats().Backlog < int64(u.BatchSize) {
					// Wait out the batch interval for a partial batch.
					timer.Stop()
					timer.Reset(u.Interval)
					select {
					case <-ctx.Done():
						return
					case <-timer.C:
					}
				}
			}
		}
		if ctx.Err() != nil {
			return
		}
		n, err := u.SendOnce(ctx)
		if err != nil {
			failures++
			if u.metrics != nil {
				u.metrics.uplinkErrors.Inc()
			}
			u.Logger.Warn("uplink failed", "err", err, "attempt", failures)
			continue
		}
		failures = 0
		_ = n
	}
}

// backoff returns the wait before attempt n (from 1): exponential from
// min, capped at max, with full jitter over its upper half.
func backoff(lo, hi time.Duration, n int) time.Duration {
	d := lo << min(n-1, 20)
	if d > hi || d <= 0 {
		d = hi
	}
	return d/2 + rand.N(d/2+1)
}

// SendOnce sends one batch of the oldest unacknowledged records and
// deletes what the server acknowledged. It returns the records sent.
func (u *Uplink) SendOnce(ctx context.Context) (int, error) {
	st := u.Outbox.Stats()
	if st.Backlog == 0 {
		return 0, nil
	}
	if u.Client == nil {
		u.Client = &http.Client{Timeout: 60 * time.Second}
	}
	u.buf.Reset()
	if u.gz == nil {
		u.gz = gzip.NewWriter(&u.buf)
	} else {
		u.gz.Reset(&u.buf)
	}
	now := time.Now
	if u.Now != nil {
		now = u.Now
	}
	head, err := json.Marshal(struct {
		DeviceID string             `json:"device_id"`
		Stream   string             `json:"stream"`
		SentAt   time.Time          `json:"sent_at"`
		Report   popkit.AgentReport `json:"report"`
	}{u.DeviceID, st.Stream, now().UTC(), u.Report()})
	if err != nil {
		return 0, fmt.Errorf("encode batch: %w", err)
	}
	u.gz.Write(head[:len(head)-1])
	u.gz.Write([]byte(`,"records":[`))
	n := 0
	var last int64
	err = u.Outbox.ReadBatch(ctx, st.AckedSeq, u.BatchSize, func(seq int64, body []byte) error {
		if n > 0 {
			u.gz.Write([]byte{','})
		}
		u.gz.Write(body)
		n++
		last = seq
		return nil
	})
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	u.gz.Write([]byte("]}"))
	if err := u.gz.Close(); err != nil {
		return 0, fmt.Errorf("gzip batch: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(u.URL, "/")+"/api/v1/ingest", bytes.NewReader(u.buf.Bytes()))
	if err != nil {
		return 0, fmt.Errorf("new request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Authorization", "Bearer "+u.Token)
	start := time.Now()
	resp, err := u.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post batch: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("server answered %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	var res popkit.IngestResult
	if err := json.Unmarshal(body, &res); err != nil {
		return 0, fmt.Errorf("decode ingest result: %w", err)
	}
	if res.Stream != st.Stream {
		return 0, fmt.Errorf("server acknowledged stream %q, not %q", res.Stream, st.Stream)
	}
	if res.AckSeq > last {
		return 0, fmt.Errorf("server acknowledged seq %d beyond the last sent %d", res.AckSeq, last)
	}
	if u.metrics != nil {
		u.metrics.uplinkLatency.Observe(time.Since(start).Seconds())
		u.metrics.lastSync.SetToCurrentTime()
		u.metrics.clockSkew.Set(res.ClockSkew)
	}
	if err := u.Outbox.Ack(ctx, res.AckSeq); err != nil {
		return 0, fmt.Errorf("delete acknowledged records: %w", err)
	}
	if res.AckSeq < last {
		return n, errors.New("server stored the batch only in part; resending the rest")
	}
	return n, nil
}
