package web

import (
	"context"
	"fmt"
	"time"

	"github.com/popkit/popkit"
)

// TelemetryQueue estimates the wait at an event's door from the edge's
// uplinked telemetry: the latest per-minute median queue length, divided
// by the rate people were let in over the last quarter hour (footfall in
// per minute), as the KPI definitions do (wait = length ÷ service rate).
type TelemetryQueue struct {
	Telemetry popkit.TelemetryService
	// MaxAge is how old the latest queue reading may be; zero means 10
	// minutes. Older readings say nothing about the queue now.
	MaxAge time.Duration
	// MinRate is the service rate (people per minute) assumed when the
	// door counted nobody; zero means 1.
	MinRate float64
}

var _ QueueReporter = (*TelemetryQueue)(nil)

// QueueWait returns the estimated wait at eventID at now, and false when
// there is no recent queue reading.
func (q *TelemetryQueue) QueueWait(ctx context.Context, eventID string, now time.Time) (time.Duration, bool, error) {
	maxAge := q.MaxAge
	if maxAge <= 0 {
		maxAge = 10 * time.Minute
	}
	to := now.Truncate(time.Minute).Add(time.Minute)
	from := to.Add(-15 * time.Minute)
	if from.After(now.Add(-maxAge)) {
		from = now.Add(-maxAge).Truncate(time.Minute)
	}
	length, err := q.Telemetry.FindTelemetry(ctx, popkit.TelemetryFilter{EventID: eventID, Metric: popkit.MetricQueueP50, From: from, To: to, Step: time.Minute})
	if err != nil {
		return 0, false, fmt.Errorf("queue telemetry: %w", err)
	}
	if len(length.Points) == 0 {
		return 0, false, nil
	}
	last := length.Points[len(length.Points)-1]
	if now.Sub(last.T) > maxAge {
		return 0, false, nil
	}
	in, err := q.Telemetry.FindTelemetry(ctx, popkit.TelemetryFilter{EventID: eventID, Metric: popkit.MetricFootfallIn, From: to.Add(-15 * time.Minute), To: to, Step: time.Minute})
	if err != nil {
		return 0, false, fmt.Errorf("footfall telemetry: %w", err)
	}
	var entered float64
	for _, p := range in.Points {
		entered += p.Value
	}
	rate := entered / 15
	minRate := q.MinRate
	if minRate <= 0 {
		minRate = 1
	}
	rate = max(rate, minRate)
	return time.Duration(last.Value / rate * float64(time.Minute)), true, nil
}
