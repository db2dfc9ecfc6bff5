package views

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jsstore "github.com/redlane/redlane/adapters/jetstream"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/feed"
)

// ReplayBucketPrefix starts the names of the buckets a kept replay writes:
// REDLANE_REPLAY_<VIEW>_<unix seconds of the moment>. Nothing else reads or writes them.
const ReplayBucketPrefix = "REDLANE_REPLAY_"

// Replay is every view as it stood at a moment, folded from the log into memory.
type Replay struct {
	Until   time.Time                   // the moment asked for
	Stream  string                      // the stream of the last event folded in (a period's)
	Seq     uint64                      // the last event folded in, its position in Stream (0: none)
	Time    time.Time                   // its time
	Events  uint64                      // how many events were folded in
	Skipped uint64                      // events no view could decode, left out
	Views   map[string]projections.View // by name
	Keys    map[string][]string         // each view's documents, by name, sorted
	Buckets map[string]string           // with keep: the bucket each view was written to
}

// Doc returns a view's document as it stood, or nil.
func (r *Replay) Doc(view, key string) []byte {
	v, ok := r.Views[view]
	if !ok {
		return nil
	}
	return v.Doc(key)
}

// ReplayBucket names the bucket a kept replay of view to until is written to.
func ReplayBucket(view string, until time.Time) string {
	return fmt.Sprintf("%s%s_%d", ReplayBucketPrefix, strings.ToUpper(view), until.Unix())
}

// Replay folds the log into fresh views up to a moment: events are taken in log order
// and the fold stops at the first event stamped after until. The live views, their
// buckets, checkpoints, consumers and the feed stream are not touched. With keep, each
// view's documents and a _checkpoint are also written to a bucket of its own (see
// ReplayBucket), replacing an earlier replay to the same second.
func (v *Views) Replay(ctx context.Context, until time.Time, newViews []func() projections.View, keep bool, progress jsstore.Progress) (*Replay, error) {
	r := &Replay{Until: until, Views: map[string]projections.View{}, Keys: map[string][]string{}}
	var views []projections.View
	keys := map[string]map[string]struct{}{}
	for _, nv := range newViews {
		view := nv()
		views = append(views, view)
		r.Views[view.Name()] = view
		keys[view.Name()] = map[string]struct{}{}
	}
	// The periods before the store's stream (jetstream/period.go) come first, the
	// earliest first, each from the first position after its carried copies, so that
	// no event counts twice: a moment before the last roll is replayed from the period
	// it fell in.
	errDone := errors.New("done")
	err := v.store.EachPeriod(ctx, func(store *jsstore.Store, from uint64, last bool) error {
		var pr jsstore.Progress
		if last {
			pr = progress
		}
		if from > 1 {
			for _, view := range views {
				projections.SetApplied(view, from-1) // a later period: its positions start again
			}
		}
		done, err := v.replayStream(ctx, store, from, r, views, keys, pr)
		if err == nil && done {
			return errDone
		}
		return err
	})
	if err != nil && !errors.Is(err, errDone) {
		return nil, fmt.Errorf("replay to %s: %w", until.Format(time.RFC3339), err)
	}
	for name, ks := range keys {
		list := make([]string, 0, len(ks))
		for k := range ks {
			list = append(list, k)
		}
		slices.Sort(list)
		r.Keys[name] = list
	}
	if !keep {
		return r, nil
	}
	r.Buckets = map[string]string{}
	for _, view := range views {
		name := ReplayBucket(view.Name(), until)
		_ = v.js.DeleteKeyValue(ctx, name)
		kv, err := v.createBucket(ctx, name)
		if err != nil {
			return nil, err
		}
		if err := v.writeAll(ctx, kv, view, r.Keys[view.Name()]); err != nil {
			return nil, fmt.Errorf("replay bucket %s: %w", name, err)
		}
		cp, _ := json.Marshal(checkpoint{Seq: r.Seq, Stream: r.Stream, Writer: "replay:" + v.owner, At: time.Now().UTC()})
		if _, err := kv.Put(ctx, checkpointKey, cp); err != nil {
			return nil, fmt.Errorf("replay bucket %s: %w", name, err)
		}
		r.Buckets[view.Name()] = name
	}
	return r, nil
}

// replayStream folds store's events from position from into r's views (the fold's
// step, as Replay describes it), and reports whether it met an event stamped after
// r.Until, which ends the replay.
func (v *Views) replayStream(ctx context.Context, store *jsstore.Store, from uint64, r *Replay, views []projections.View, keys map[string]map[string]struct{}, progress jsstore.Progress) (bool, error) {
	// The binary search gives the progress bar its end; the fold itself honours every stamp.
	until := r.Until
	total, err := store.SeqAt(ctx, until)
	if err != nil {
		return false, err
	}
	errStop := errors.New("stop")
	tick := time.Now()
	// Envelopes and events are decoded on every core; the views fold them in order.
	type decoded struct {
		env domain.Envelope
		ev  domain.Event // nil when no view reads it, or it cannot be decoded
		ok  bool         // the body is an envelope
	}
	reads := map[string]bool{}
	for _, view := range views {
		for _, t := range view.Types() {
			reads[t] = true
		}
	}
	err = jsstore.ScanParallel(ctx, store, from, func(ev jsstore.RawEvent) decoded {
		env, err := domain.DecodeEnvelope(ev.Data)
		if err != nil || store.Check(ev.Seq, ev.Subject, ev.Header, ev.Data) != nil {
			return decoded{}
		}
		d := decoded{env: env, ok: true}
		if reads[env.AggregateType] {
			d.ev, _ = projections.Events.Decode(env)
		}
		return d
	}, func(ev jsstore.RawEvent, d decoded) error {
		if !d.ok {
			r.Skipped++
			return nil
		}
		if d.env.Time.After(until) {
			return errStop
		}
		rec := domain.Recorded{Envelope: d.env, Seq: ev.Seq}
		r.Stream, r.Seq, r.Time = store.StreamName(), ev.Seq, d.env.Time
		r.Events++
		if reads[d.env.AggregateType] && d.ev == nil {
			r.Skipped++
		}
		if d.ev != nil {
			for _, view := range views {
				if !slices.Contains(view.Types(), d.env.AggregateType) {
					continue
				}
				for _, k := range view.Apply(rec, d.ev) {
					keys[view.Name()][k] = struct{}{}
				}
				if fv, ok := view.(interface{ Take() []feed.Entry }); ok {
					fv.Take() // the feed's entries as they were are in REDLANE_FEED already
				}
			}
		}
		if progress != nil && time.Since(tick) > 200*time.Millisecond {
			progress(min(ev.Seq, total), total)
			tick = time.Now()
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return false, err
	}
	if progress != nil {
		progress(total, total)
	}
	return err != nil, nil
}
