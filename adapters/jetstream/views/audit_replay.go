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
	Seq     uint64                      // the last event folded in (0: none)
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
	// The binary search gives the progress bar its end; the fold itself honours every stamp.
	total, err := v.store.SeqAt(ctx, until)
	if err != nil {
		return nil, err
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
	err = jsstore.ScanParallel(ctx, v.store, 1, func(ev jsstore.RawEvent) decoded {
		env, err := domain.DecodeEnvelope(ev.Data)
		if err != nil || v.store.Check(ev.Seq, ev.Subject, ev.Header, ev.Data) != nil {
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
		r.Seq, r.Time = ev.Seq, d.env.Time
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
		return nil, fmt.Errorf("replay to %s: %w", until.Format(time.RFC3339), err)
	}
	if progress != nil {
		progress(total, total)
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
		cp, _ := json.Marshal(checkpoint{Seq: r.Seq, Writer: "replay:" + v.owner, At: time.Now().UTC()})
		if _, err := kv.Put(ctx, checkpointKey, cp); err != nil {
			return nil, fmt.Errorf("replay bucket %s: %w", name, err)
		}
		r.Buckets[view.Name()] = name
	}
	return r, nil
}
