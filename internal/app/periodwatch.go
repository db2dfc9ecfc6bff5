package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
)

// DefaultPeriodMaxSubjects is --period-max-subjects' default: at 216 bytes of server
// heap a subject (docs/scale.md), five million subjects are about 1 GiB, half the
// 2 GiB budget for per-subject state, the other half being the previous period's until
// it is archived.
const DefaultPeriodMaxSubjects = 5_000_000

// periodWatch counts the subjects of the current period's stream, for /metrics, and
// tells when they pass the most a period should hold: the NATS server keeps state for
// every subject while the stream exists, and only a period roll (redlane period roll)
// lets it go. Passing the limit degrades /readyz and logs one line; nothing stops.
type periodWatch struct {
	store    *jsstore.Store
	max      uint64 // 0: no limit
	log      *slog.Logger
	subjects atomic.Uint64
	over     atomic.Bool
}

func newPeriodWatch(store *jsstore.Store, limit int, log *slog.Logger, reg prometheus.Registerer) (*periodWatch, error) {
	w := &periodWatch{store: store, max: uint64(max(limit, 0)), log: log}
	for _, g := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "redlane_period_subjects", Help: "Distinct subjects (aggregates) in the current period's event stream, as last read (every minute)."},
			func() float64 { return float64(w.subjects.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "redlane_period_subjects_max", Help: "--period-max-subjects: past it /readyz says to roll to the next period (0: no limit)."},
			func() float64 { return float64(w.max) }),
	} {
		if err := reg.Register(g); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// check reads the count once.
func (w *periodWatch) check(ctx context.Context) error {
	n, err := w.store.SubjectCount(ctx)
	if err != nil {
		return err
	}
	w.subjects.Store(n)
	over := w.max > 0 && n > w.max
	switch was := w.over.Swap(over); {
	case over && !was:
		w.log.Warn("the current period holds more subjects than --period-max-subjects: roll to the next period (docs/operations.md)",
			"stream", w.store.StreamName(), "subjects", n, "max", w.max)
	case !over && was:
		w.log.Info("the current period is back within --period-max-subjects", "stream", w.store.StreamName(), "subjects", n, "max", w.max)
	}
	return nil
}

// run checks every interval until ctx ends; a failed read keeps the last count.
func (w *periodWatch) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := w.check(ctx); err != nil && ctx.Err() == nil {
			w.log.Debug("period watch: stream info", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// degraded says what /readyz adds while the period is over the limit (nil otherwise).
func (w *periodWatch) degraded() map[string]any {
	if !w.over.Load() {
		return nil
	}
	n := w.subjects.Load()
	return map[string]any{
		"reason":          fmt.Sprintf("the current period %s holds %d subjects, more than --period-max-subjects (%d): roll to the next period (redlane period roll, docs/operations.md)", w.store.StreamName(), n, w.max),
		"period_subjects": n,
		"period_max":      w.max,
		"period_stream":   w.store.StreamName(),
	}
}

// mergeDegraded puts the reasons of several degradations into one answer.
func mergeDegraded(ds ...map[string]any) map[string]any {
	var out map[string]any
	for _, d := range ds {
		if d == nil {
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		for k, v := range d {
			if k == "reason" {
				if prev, ok := out[k].(string); ok {
					v = prev + "; " + v.(string)
				}
			}
			out[k] = v
		}
	}
	return out
}
