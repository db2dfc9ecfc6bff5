// Package views writes and reads Redlane's read models on NATS: each view's documents
// and checkpoint in a KV bucket of its own, written by one leased writer at a time
// (internal/worker), the linkage feed's stream, rebuilds into a new bucket switched in
// by a pointer, and replays of the log to a moment for auditors.
package views

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	jsstore "github.com/redlane/redlane/adapters/jetstream"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redlane/redlane/projections"
)

// Views keep the read models (projections.View) in NATS KV, fed from the event stream.
//
// # Storage (a public contract, read by reporting jobs with any NATS client)
//
//   - Bucket REDLANE_VIEWS: key <view name> → {"bucket":"REDLANE_VIEW_BACKLOG_1",
//     "generation":1,"since":"…"}: which bucket holds the view now. A rebuild fills a new
//     generation's bucket and then switches this pointer, so readers never see a
//     half-built view.
//   - Bucket REDLANE_VIEW_<NAME>_<generation>: the view's documents under the keys its
//     package documents, plus _checkpoint → {"seq":N,"stream":"REDLANE",…}: the last
//     event applied and the stream (the period) it is in. The
//     documents and the checkpoint are written in one JetStream atomic batch, so a
//     crash or a redelivery never applies an event twice or skips one.
//   - Bucket REDLANE_LEASES: key view.<name> → {"owner","until"}: the one process that
//     writes the view. The others serve reads from the same buckets, and take over when
//     the lease runs out.
//   - Stream REDLANE_FEED: the linkage feed's entries, subject
//     redlane.feed.<community>.<lane> ("-" for none), body the entry's JSON, headers
//     Redlane-Source-Seq the event's position and Redlane-Source-Stream its stream. Terminals subscribe to
//     redlane.feed.<community>.> or redlane.feed.*.<lane>.
//   - Durable consumer view-<name> on the event stream: the writer's position.
type Views struct {
	js    jetstream.JetStream
	store *jsstore.Store
	owner string
	ttl   time.Duration
	log   *slog.Logger

	stallAfter time.Duration
	lag        *prometheus.GaugeVec

	lagSeconds   *prometheus.GaugeVec
	stalledGauge *prometheus.GaugeVec
	failingGauge *prometheus.GaugeVec
	failures     *prometheus.CounterVec
	feedJS       jetstream.Stream

	replicas int
	readOnly bool

	feedDirect string  // the feed stream's direct get API subject
	hub        feedHub // the live feed's one subscription (feedread.go)

	mu       sync.Mutex
	failing  map[string]viewFailure // views whose writer here cannot write now
	pointers map[string]pointer
	caught   map[string]bool
	stuck    map[string]bool
	readers  map[string]cachedReader // views' buckets as readers last found them
	targets  map[string]uint64       // per view: the last event it reads, when first asked

	// The feed's run of the current period (feedread.go periodStart): known once read.
	rolled      int    // 0: not read yet; 1: the log never rolled; 2: it did
	periodEntry uint64 // the feed position of the current period's first entry (0: none yet)
}

// Config configures Views.
type Config struct {
	// Owner names this process in leases (host and pid, say).
	Owner string
	// LeaseTTL is how long a writer's lease lasts without renewal (default 5 s): how soon
	// another process takes over a dead writer's views.
	LeaseTTL time.Duration
	// Replicas of the buckets and the feed stream.
	Replicas int
	Log      *slog.Logger
	// Registerer, when set, gets the lag gauge redlane_view_lag_events{view}.
	Registerer prometheus.Registerer
	// StallAfter is how long a view may trail the log without its checkpoint moving
	// before it counts as stuck (default a minute): Ready then fails,
	// redlane_view_stalled is 1 and the log says so once.
	StallAfter time.Duration
	// ReadOnly finds the buckets and the feed stream as they are, creating nothing: what
	// a reader's NATS user (reporting, auditor) may do. Such Views only read.
	ReadOnly bool
}

type pointer struct {
	Bucket     string    `json:"bucket"`
	Generation int       `json:"generation"`
	Since      time.Time `json:"since"`
}

// checkpoint is a view's position: Seq in Stream. A checkpoint without a stream was
// written before periods (jetstream/period.go) and is of the first period's stream.
type checkpoint struct {
	Seq    uint64    `json:"seq"`
	Stream string    `json:"stream,omitempty"`
	Writer string    `json:"writer"`
	At     time.Time `json:"at"`
}

// The names of Views' buckets and stream. Permanent.
const (
	PointerBucket   = "REDLANE_VIEWS"
	FeedStream      = "REDLANE_FEED"
	FeedSubjectRoot = "redlane.feed"
	HeaderSourceSeq = "Redlane-Source-Seq"
	// HeaderSourceStream names the stream (the period) of HeaderSourceSeq.
	HeaderSourceStream = "Redlane-Source-Stream"
	checkpointKey      = "_checkpoint"
	flushEvents        = 150 // events per flush: keeps a flush's documents within one atomic batch
)

// New prepares the buckets and the feed stream.
func New(ctx context.Context, js jetstream.JetStream, store *jsstore.Store, cfg Config) (*Views, error) {
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = 5 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.StallAfter <= 0 {
		cfg.StallAfter = time.Minute
	}
	replicas := max(cfg.Replicas, 1)
	var fs jetstream.Stream
	var err error
	if cfg.ReadOnly {
		if fs, err = js.Stream(ctx, FeedStream); err != nil {
			return nil, fmt.Errorf("feed stream (has redlane serve run on this log?): %w", err)
		}
	} else {
		if fs, err = createViewStores(ctx, js, replicas); err != nil {
			return nil, err
		}
	}
	v := &Views{js: js, store: store, owner: cfg.Owner, ttl: cfg.LeaseTTL, log: cfg.Log, stallAfter: cfg.StallAfter, feedJS: fs, replicas: replicas, readOnly: cfg.ReadOnly,
		feedDirect: store.DirectGetSubject(FeedStream), failing: map[string]viewFailure{},
		pointers: map[string]pointer{}, caught: map[string]bool{}, stuck: map[string]bool{}, readers: map[string]cachedReader{}, targets: map[string]uint64{}}
	v.lag = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "redlane_view_lag_events", Help: "Events stored but not yet applied to a view, as its writer last saw.",
	}, []string{"view"})
	v.lagSeconds = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "redlane_view_lag_seconds", Help: "How old the oldest event not yet applied to a view was when its writer here last looked (0 when caught up).",
	}, []string{"view"})
	v.stalledGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "redlane_view_stalled", Help: "1 while a view trails the log and its checkpoint has not moved for a minute, whichever process writes it.",
	}, []string{"view"})
	v.failingGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "redlane_view_writer_failing", Help: "1 while this process's writer of a view cannot write it (it retries), else 0.",
	}, []string{"view"})
	v.failures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "redlane_view_writer_errors_total", Help: "Times this process's writer of a view stopped on an error (it retries).",
	}, []string{"view"})
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{v.lag, v.lagSeconds, v.stalledGauge, v.failingGauge, v.failures} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// createViewStores creates the pointer and lease buckets and the feed stream.
func createViewStores(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.Stream, error) {
	for _, b := range []string{PointerBucket, jsstore.LeaseBucket} {
		if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: b, History: 1, Storage: jetstream.FileStorage, Replicas: replicas}); err != nil {
			return nil, fmt.Errorf("bucket %s: %w", b, err)
		}
	}
	fs, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: FeedStream, Description: "Redlane's linkage feed (联动信息): one entry per event",
		Subjects: []string{FeedSubjectRoot + ".>"}, Storage: jetstream.FileStorage, Replicas: replicas,
		Duplicates: jsstore.DuplicateWindow, AllowDirect: true,
	})
	if err != nil {
		return nil, fmt.Errorf("feed stream: %w", err)
	}
	return fs, nil
}

func bucketName(view string, gen int) string {
	return fmt.Sprintf("REDLANE_VIEW_%s_%d", strings.ToUpper(view), gen)
}

// Pointer returns the bucket that holds a view now, creating generation 1 on first use.
func (v *Views) bucket(ctx context.Context, view string) (jetstream.KeyValue, pointer, error) {
	ptrs, err := v.js.KeyValue(ctx, PointerBucket)
	if err != nil {
		return nil, pointer{}, err
	}
	var p pointer
	e, err := ptrs.Get(ctx, view)
	switch {
	case err == nil:
		if err := json.Unmarshal(e.Value(), &p); err != nil {
			return nil, p, fmt.Errorf("view %s pointer: %w", view, err)
		}
	case errors.Is(err, jetstream.ErrKeyNotFound) && v.readOnly:
		return nil, p, fmt.Errorf("view %s has not been written yet", view)
	case errors.Is(err, jetstream.ErrKeyNotFound):
		p = pointer{Bucket: bucketName(view, 1), Generation: 1, Since: time.Now().UTC()}
		if _, err := v.createBucket(ctx, p.Bucket); err != nil {
			return nil, p, err
		}
		b, _ := json.Marshal(p)
		if _, err := ptrs.Create(ctx, view, b); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			return nil, p, err
		}
		return v.bucket(ctx, view)
	default:
		return nil, p, err
	}
	kv, err := v.js.KeyValue(ctx, p.Bucket)
	if err != nil {
		return nil, p, fmt.Errorf("view %s bucket %s: %w", view, p.Bucket, err)
	}
	v.mu.Lock()
	v.pointers[view] = p
	v.mu.Unlock()
	return kv, p, nil
}

// createBucket makes a view bucket that takes atomic batches.
func (v *Views) createBucket(ctx context.Context, name string) (jetstream.KeyValue, error) {
	kv, err := v.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: name, History: 1, Storage: jetstream.FileStorage, Replicas: v.replicas})
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", name, err)
	}
	s, err := v.js.Stream(ctx, "KV_"+name)
	if err != nil {
		return nil, err
	}
	cfg := s.CachedInfo().Config
	if !cfg.AllowAtomicPublish {
		cfg.AllowAtomicPublish = true
		if _, err := v.js.UpdateStream(ctx, cfg); err != nil {
			return nil, fmt.Errorf("bucket %s: allow atomic batches: %w", name, err)
		}
	}
	return kv, nil
}

// Get reads one document of a view: nil when the key holds nothing. It costs one
// request: which bucket holds the view is looked up at most once a second.
func (v *Views) Get(ctx context.Context, view, key string) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		kv, err := v.reader(ctx, view, attempt > 0)
		if err != nil {
			return nil, err
		}
		e, err := kv.Get(ctx, key)
		switch {
		case err == nil:
			return e.Value(), nil
		case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrInvalidKey):
			return nil, nil
		case errors.Is(err, jetstream.ErrBucketNotFound) && attempt == 0:
			continue // a rebuild switched buckets under us
		default:
			return nil, err
		}
	}
}

// readerRefresh is how often a reader looks up which bucket holds a view. A rebuild
// keeps the previous generation's bucket, so a reader a moment late reads whole,
// slightly older documents, never half-built ones.
const readerRefresh = time.Second

type cachedReader struct {
	kv jetstream.KeyValue
	at time.Time
}

// reader returns the bucket that holds a view for reading, from a cache refreshed every
// readerRefresh (or now, when fresh is set).
func (v *Views) reader(ctx context.Context, view string, fresh bool) (jetstream.KeyValue, error) {
	v.mu.Lock()
	c, ok := v.readers[view]
	v.mu.Unlock()
	if ok && !fresh && time.Since(c.at) < readerRefresh {
		return c.kv, nil
	}
	kv, _, err := v.bucket(ctx, view)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	v.readers[view] = cachedReader{kv: kv, at: time.Now()}
	v.mu.Unlock()
	return kv, nil
}

// Keys lists the keys of a view matching a NATS subject filter such as ranking.*.2026-11.
func (v *Views) Keys(ctx context.Context, view, filter string) ([]string, error) {
	kv, _, err := v.bucket(ctx, view)
	if err != nil {
		return nil, err
	}
	lister, err := kv.ListKeysFiltered(ctx, filter)
	if err != nil {
		return nil, err
	}
	var out []string
	for k := range lister.Keys() {
		out = append(out, k)
	}
	slices.Sort(out)
	return out, nil
}

// Checkpoint returns the position of the last event applied to a view.
func (v *Views) Checkpoint(ctx context.Context, view string) (uint64, error) {
	c, err := v.checkpointOf(ctx, view)
	return c.Seq, err
}

// checkpointOf reads a view's checkpoint from the bucket that holds the view now (not
// a reader's cached one: a rebuild may just have switched it).
func (v *Views) checkpointOf(ctx context.Context, view string) (checkpoint, error) {
	var c checkpoint
	kv, err := v.reader(ctx, view, true)
	if err != nil {
		return c, err
	}
	e, err := kv.Get(ctx, checkpointKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	err = json.Unmarshal(e.Value(), &c)
	return c, err
}

// stalled reports a view that trails the log and whose checkpoint has not moved for
// the configured StallAfter, whichever process writes it.
func (v *Views) stalled(ctx context.Context, view projections.View) error {
	last, err := v.lastRelevant(ctx, view)
	if err != nil {
		return err
	}
	cp, err := v.checkpointOf(ctx, view.Name())
	if err != nil {
		return err
	}
	name := view.Name()
	stuck := cp.Seq < last && !cp.At.IsZero() && time.Since(cp.At) > v.stallAfter
	v.mu.Lock()
	was := v.stuck[name]
	v.stuck[name] = stuck
	v.mu.Unlock()
	if !stuck {
		v.stalledGauge.WithLabelValues(name).Set(0)
		if was {
			v.log.Info("view moves again", "view", name, "at", cp.Seq)
		}
		return nil
	}
	v.stalledGauge.WithLabelValues(name).Set(1)
	err = fmt.Errorf("view %s is stuck: %d events behind, no progress since %s (writer %s)", name, last-cp.Seq, cp.At.UTC().Format(time.RFC3339), cp.Writer)
	if !was {
		v.log.Error("view is stuck", "view", name, "behind", last-cp.Seq, "since", cp.At, "writer", cp.Writer)
	}
	return err
}

// viewFailure is why and since when a view's writer cannot write.
type viewFailure struct {
	err   error
	since time.Time
}

// fail records that a view's writer stopped on err (the worker logs it): counted every
// time, and told by Ready until a flush goes through again.
func (v *Views) fail(name string, err error) {
	v.failures.WithLabelValues(name).Inc()
	v.failingGauge.WithLabelValues(name).Set(1)
	v.mu.Lock()
	if _, already := v.failing[name]; !already {
		v.failing[name] = viewFailure{err: err, since: time.Now()}
	}
	v.mu.Unlock()
}

// recovered records that a view's writer wrote again, or that the view is no longer
// this process's to write.
func (v *Views) recovered(name string) {
	v.mu.Lock()
	_, was := v.failing[name]
	delete(v.failing, name)
	v.mu.Unlock()
	if was {
		v.failingGauge.WithLabelValues(name).Set(0)
	}
}

// Ready reports an error while a view's writer in this process cannot write, and until every view has caught up, at least once, with the events
// stored when this process first asked: a view writer in this process or elsewhere. The
// target is fixed at the first asking, so a steady stream of new events cannot keep a
// process from ever becoming ready.
func (v *Views) Ready(ctx context.Context, newViews []func() projections.View) error {
	v.mu.Lock()
	for name, f := range v.failing {
		v.mu.Unlock()
		return fmt.Errorf("view %s cannot be written since %s: %v", name, f.since.UTC().Format(time.RFC3339), f.err)
	}
	v.mu.Unlock()
	for _, nv := range newViews {
		view := nv()
		v.mu.Lock()
		done := v.caught[view.Name()]
		last, known := v.targets[view.Name()]
		v.mu.Unlock()
		if done {
			if err := v.stalled(ctx, view); err != nil {
				return err
			}
			continue
		}
		if !known {
			var err error
			if last, err = v.lastRelevant(ctx, view); err != nil {
				return err
			}
			v.mu.Lock()
			v.targets[view.Name()] = last
			v.mu.Unlock()
		}
		cp, err := v.Checkpoint(ctx, view.Name())
		if err != nil {
			return err
		}
		if cp < last {
			return fmt.Errorf("view %s is catching up: %d of %d", view.Name(), cp, last)
		}
		v.mu.Lock()
		v.caught[view.Name()] = true
		v.mu.Unlock()
	}
	return nil
}

// CaughtUp reports whether a view has applied every stored event it reads.
func (v *Views) CaughtUp(ctx context.Context, view projections.View) (bool, error) {
	last, err := v.lastRelevant(ctx, view)
	if err != nil {
		return false, err
	}
	cp, err := v.Checkpoint(ctx, view.Name())
	return cp >= last, err
}

// lastRelevant returns the position of the last stored event a view reads.
func (v *Views) lastRelevant(ctx context.Context, view projections.View) (uint64, error) {
	var last uint64
	for _, t := range view.Types() {
		msg, err := v.store.Stream().GetLastMsgForSubject(ctx, v.store.Subject(t, "*"))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		last = max(last, msg.Sequence)
	}
	return last, nil
}

func (v *Views) filters(view projections.View) []string {
	var fs []string
	for _, t := range view.Types() {
		fs = append(fs, v.store.Subject(t, "*"))
	}
	return fs
}

// loadView restores a view from its bucket and returns its checkpoint and the stream
// sequence of the checkpoint's KV message (the fence for the next flush).
