package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	jsstore "github.com/redlane/redlane/adapters/jetstream"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Nothing ever deletes from the event stream (it denies deletes and purges), so its
// positions run from 1 to its last without a hole. A hole, a first position past 1, a
// last position below one already seen or sealed: each means events were lost (a
// corrupted block the server dropped at start-up, a stream deleted and made again).

// Gap is what Intact found missing; the zero Gap means the log is whole.
type Gap struct {
	Missing uint64 // how many positions are gone, as far as can be told
	Detail  string // what was found, in English
}

// Intact checks the stream's positions against themselves, against the highest
// position the store has seen, and against the last seal.
func Intact(ctx context.Context, s *jsstore.Store) (Gap, error) {
	info, err := s.Stream().Info(ctx)
	if err != nil {
		return Gap{}, fmt.Errorf("stream %s does not answer: %w", s.StreamName(), err)
	}
	st := info.State
	var g Gap
	note := func(n uint64, format string, args ...any) {
		g.Missing += n
		if g.Detail != "" {
			g.Detail += "; "
		}
		g.Detail += fmt.Sprintf(format, args...)
	}
	if st.LastSeq > 0 && st.FirstSeq > 1 {
		note(st.FirstSeq-1, "the stream now begins at %d: the events at 1 to %d are gone", st.FirstSeq, st.FirstSeq-1)
	}
	if st.NumDeleted > 0 {
		note(uint64(st.NumDeleted), "%d positions inside the stream hold no event", st.NumDeleted)
	}
	seen := s.HighWater()
	if seen > st.LastSeq {
		note(seen-st.LastSeq, "the stream ends at %d, but %d was stored before", st.LastSeq, seen)
	}
	if upto, err := sealedUpto(ctx, s); err == nil && upto > max(st.LastSeq, seen) {
		note(upto-max(st.LastSeq, seen), "a seal covers positions up to %d, but the stream ends at %d", upto, st.LastSeq)
	}
	s.Saw(max(seen, st.LastSeq))
	return g, nil
}

// sealedUpto returns the last seal's upto for this stream (0: none).
func sealedUpto(ctx context.Context, s *jsstore.Store) (uint64, error) {
	st, err := s.JetStream().Stream(ctx, SealStream)
	if err != nil {
		return 0, err
	}
	m, err := st.GetLastMsgForSubject(ctx, SealSubjectRoot+"."+s.StreamName())
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var seal Seal
	if err := json.Unmarshal(m.Data, &seal); err != nil {
		return 0, err
	}
	return seal.Upto, nil
}

// Watchdog checks the log's wholeness now and then and remembers the answer, for
// /readyz, the metric redlane_log_missing_events and one log line per change.
type Watchdog struct {
	store *jsstore.Store
	log   *slog.Logger
	gauge prometheus.Gauge
	// Marks are positions known stored from outside the stream (a view's checkpoint,
	// say), each with its name: one past the stream's end means events were lost.
	Marks []func(context.Context) (uint64, string, error)

	mu  sync.Mutex
	gap Gap
	err error
}

// NewWatchdog returns a watchdog over store; reg, when set, gets its gauge.
func NewWatchdog(store *jsstore.Store, log *slog.Logger, reg prometheus.Registerer) (*Watchdog, error) {
	if log == nil {
		log = slog.Default()
	}
	w := &Watchdog{store: store, log: log, gauge: prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "redlane_log_missing_events",
		Help: "Positions of the event log found missing (lost, dropped, purged): 0 while the log is whole.",
	})}
	if reg != nil {
		if err := reg.Register(w.gauge); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// Check checks once and returns what was found.
func (w *Watchdog) Check(ctx context.Context) (Gap, error) {
	g, err := Intact(ctx, w.store)
	if err == nil {
		end := w.store.HighWater()
		for _, mark := range w.Marks {
			at, name, merr := mark(ctx)
			if merr == nil && at > end {
				// Events may have come in since the stream was asked: ask again.
				if info, ierr := w.store.Stream().Info(ctx); ierr == nil && info.State.LastSeq > end {
					end = info.State.LastSeq
				}
			}
			if merr == nil && at > end {
				g.Missing += at - end
				if g.Detail != "" {
					g.Detail += "; "
				}
				g.Detail += fmt.Sprintf("%s has taken in events up to %d, but the stream ends at %d", name, at, end)
			}
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.err = err
		return w.gap, err
	}
	if g != w.gap {
		if g.Missing > 0 {
			w.log.Error("events are missing from the log", "missing", g.Missing, "detail", g.Detail)
		} else {
			w.log.Info("the log is whole again")
		}
	}
	w.gap, w.err = g, nil
	w.gauge.Set(float64(g.Missing))
	return g, nil
}

// Run checks every interval until ctx ends.
func (w *Watchdog) Run(ctx context.Context, interval time.Duration) {
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, _ = w.Check(cctx)
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// Gap returns what the last check found.
func (w *Watchdog) Gap() Gap {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gap
}
