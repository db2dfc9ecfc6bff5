package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/internal/lease"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/feed"
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
//     package documents, plus _checkpoint → {"seq":N,…}: the last event applied. The
//     documents and the checkpoint are written in one JetStream atomic batch, so a
//     crash or a redelivery never applies an event twice or skips one.
//   - Bucket REDLANE_LEASES: key view.<name> → {"owner","until"}: the one process that
//     writes the view. The others serve reads from the same buckets, and take over when
//     the lease runs out.
//   - Stream REDLANE_FEED: the linkage feed's entries, subject
//     redlane.feed.<community>.<lane> ("-" for none), body the entry's JSON, header
//     Redlane-Source-Seq the event's position. Terminals subscribe to
//     redlane.feed.<community>.> or redlane.feed.*.<lane>.
//   - Durable consumer view-<name> on the event stream: the writer's position.
type Views struct {
	js    jetstream.JetStream
	store *Store
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
}

// ViewsConfig configures Views.
type ViewsConfig struct {
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

type checkpoint struct {
	Seq    uint64    `json:"seq"`
	Writer string    `json:"writer"`
	At     time.Time `json:"at"`
}

// The names of Views' buckets and stream. Permanent.
const (
	PointerBucket    = "REDLANE_VIEWS"
	LeaseBucket      = "REDLANE_LEASES"
	FeedStream       = "REDLANE_FEED"
	FeedSubjectRoot  = "redlane.feed"
	HeaderSourceSeq  = "Redlane-Source-Seq"
	checkpointKey    = "_checkpoint"
	flushEvents      = 150 // events per flush: keeps a flush's documents within one atomic batch
	maxBatchMessages = 999
)

// NewViews prepares the buckets and the feed stream.
func NewViews(ctx context.Context, js jetstream.JetStream, store *Store, cfg ViewsConfig) (*Views, error) {
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
		feedDirect: strings.TrimSuffix(store.directGet, store.name) + FeedStream, failing: map[string]viewFailure{},
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
	for _, b := range []string{PointerBucket, LeaseBucket} {
		if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: b, History: 1, Storage: jetstream.FileStorage, Replicas: replicas}); err != nil {
			return nil, fmt.Errorf("bucket %s: %w", b, err)
		}
	}
	fs, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: FeedStream, Description: "Redlane's linkage feed (联动信息): one entry per event",
		Subjects: []string{FeedSubjectRoot + ".>"}, Storage: jetstream.FileStorage, Replicas: replicas,
		Duplicates: duplicateWindow, AllowDirect: true,
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

// fail records that a view's writer stopped on err: logged once when it starts failing,
// counted every time, and told by Ready until a flush goes through again.
func (v *Views) fail(name string, err error) {
	v.failures.WithLabelValues(name).Inc()
	v.failingGauge.WithLabelValues(name).Set(1)
	v.mu.Lock()
	_, already := v.failing[name]
	if !already {
		v.failing[name] = viewFailure{err: err, since: time.Now()}
	}
	v.mu.Unlock()
	if !already {
		v.log.Error("view writer cannot write; retrying, and not ready until it can", "view", name, "err", err)
	} else {
		v.log.Debug("view writer still cannot write", "view", name, "err", err)
	}
}

// recovered records that a view's writer wrote again.
func (v *Views) recovered(name string) {
	v.mu.Lock()
	f, was := v.failing[name]
	delete(v.failing, name)
	v.mu.Unlock()
	if was {
		v.failingGauge.WithLabelValues(name).Set(0)
		v.log.Info("view writer writes again", "view", name, "after", time.Since(f.since).Round(time.Second).String())
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
		msg, err := v.store.stream.GetLastMsgForSubject(ctx, v.store.Subject(t, "*"))
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
func (v *Views) loadView(ctx context.Context, kv jetstream.KeyValue, view projections.View) (cp checkpoint, fence uint64, err error) {
	st, err := v.js.Stream(ctx, "KV_"+kv.Bucket())
	if err != nil {
		return cp, 0, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return cp, 0, err
	}
	if info.State.Msgs == 0 {
		return cp, 0, nil
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy})
	if err != nil {
		return cp, 0, err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1024))
	if err != nil {
		return cp, 0, err
	}
	defer it.Stop()
	prefix := "$KV." + kv.Bucket() + "."
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return cp, 0, err
		}
		md, err := msg.Metadata()
		if err != nil {
			return cp, 0, err
		}
		key := strings.TrimPrefix(msg.Subject(), prefix)
		op := msg.Headers().Get("KV-Operation")
		switch {
		case op == "DEL" || op == "PURGE":
		case key == checkpointKey:
			if err := json.Unmarshal(msg.Data(), &cp); err != nil {
				return cp, 0, fmt.Errorf("checkpoint: %w", err)
			}
			fence = md.Sequence.Stream
		default:
			if err := view.Restore(key, msg.Data()); err != nil {
				return cp, 0, fmt.Errorf("restore %s: %w", key, err)
			}
		}
		if md.NumPending == 0 {
			return cp, fence, nil
		}
	}
}

// errFenced means another writer wrote the view since this one loaded it.
var errFenced = errors.New("another writer has written the view")

// flush stores the documents under keys and the checkpoint in one atomic batch, on
// condition that the checkpoint is still the one this writer last wrote (fence).
func (v *Views) flush(ctx context.Context, kv jetstream.KeyValue, view projections.View, keys []string, cp checkpoint, fence uint64) (uint64, error) {
	prefix := "$KV." + kv.Bucket() + "."
	cpBody, _ := json.Marshal(cp)
	// The checkpoint goes last: a reader watching the bucket (query.Index) that sees it
	// has then seen every document it covers.
	last := nats.NewMsg(prefix + checkpointKey)
	last.Data = cpBody
	last.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(fence, 10))
	var msgs []*nats.Msg
	slices.Sort(keys)
	keys = slices.Compact(keys)
	for _, k := range keys {
		m := nats.NewMsg(prefix + k)
		if doc := view.Doc(k); doc != nil {
			m.Data = doc
		} else {
			m.Header.Set("KV-Operation", "DEL")
		}
		msgs = append(msgs, m)
	}
	msgs = append(msgs, last)
	if len(msgs) > maxBatchMessages {
		return 0, fmt.Errorf("view %s: %d documents changed in one flush, over the batch limit", view.Name(), len(keys))
	}
	var ack *jetstreamext.BatchAck
	var err error
	if len(msgs) == 1 {
		var pa *jetstream.PubAck
		pa, err = v.js.PublishMsg(ctx, last)
		if err == nil {
			return pa.Sequence, nil
		}
	} else {
		ack, err = jetstreamext.PublishMsgBatch(ctx, v.js, msgs, jetstreamext.BatchFlowControl{AckFirst: false})
		if err == nil {
			return ack.Sequence, nil // the checkpoint's, the batch's last
		}
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == errCodeWrongLastSeq || apiErr.ErrorCode == errCodeWrongLastSeqConst) {
		return 0, errFenced
	}
	return 0, err
}

// Run keeps the views up to date until ctx ends: for each, it waits for the writer's
// lease, restores the view from its bucket, and applies new events from its durable
// consumer. Several processes may Run the same views; one writes each at a time.
func (v *Views) Run(ctx context.Context, newViews ...func() projections.View) error {
	var wg sync.WaitGroup
	for _, nv := range newViews {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := nv().Name()
			for ctx.Err() == nil {
				err := v.write(ctx, nv)
				if ctx.Err() != nil {
					return
				}
				switch {
				case errors.Is(err, lease.ErrLost):
					v.log.Info("view writer lost its lease; another process writes the view", "view", name)
					v.recovered(name) // not this process's to write any more
				case err != nil:
					v.fail(name, err)
				}
				select {
				case <-ctx.Done():
				case <-time.After(v.ttl / 5):
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

// write is one tenure as a view's writer: it returns when the lease is lost, the
// pointer moves (a rebuild), or something fails.
func (v *Views) write(ctx context.Context, nv func() projections.View) error {
	view := nv()
	name := view.Name()
	leases, err := v.js.KeyValue(ctx, LeaseBucket)
	if err != nil {
		return err
	}
	leaseKey := "view." + name
	held, err := lease.Acquire(ctx, leases, leaseKey, v.owner, v.ttl)
	if err != nil || held == nil {
		return err
	}
	v.log.Debug("view writer acquired lease", "view", name, "owner", v.owner)
	defer held.Release() // hand the view over at once on a graceful stop
	kv, ptr, err := v.bucket(ctx, name)
	if err != nil {
		return err
	}
	cp, fence, err := v.loadView(ctx, kv, view)
	if err != nil {
		return fmt.Errorf("load view %s: %w", name, err)
	}
	feedSeq, err := v.lastFeedSeq(ctx)
	if err != nil {
		return err
	}
	// The durable consumer starts where the checkpoint says, whatever it acked before:
	// the checkpoint, stored with the documents, is the truth.
	durable := "view-" + name
	_ = v.store.stream.DeleteConsumer(ctx, durable)
	cons, err := v.store.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: durable, Description: "Redlane view writer: " + name,
		FilterSubjects: v.filters(view), AckPolicy: jetstream.AckAllPolicy,
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: cp.Seq + 1,
		MaxAckPending: 10 * flushEvents, AckWait: 30 * time.Second, InactiveThreshold: time.Hour,
	})
	if err != nil {
		return fmt.Errorf("consumer %s: %w", durable, err)
	}
	pointerCheck := time.Now().Add(v.ttl / 3)
	for ctx.Err() == nil {
		if err := held.Renew(ctx); err != nil {
			return fmt.Errorf("view %s: %w", name, err)
		}
		if time.Now().After(pointerCheck) {
			pointerCheck = time.Now().Add(v.ttl / 3)
			if cur, err := v.currentPointer(ctx, name); err == nil && cur.Bucket != ptr.Bucket {
				v.log.Info("view switched to a rebuilt generation", "view", name, "bucket", cur.Bucket)
				return nil
			}
		}
		batch, err := cons.Fetch(flushEvents, jetstream.FetchMaxWait(v.ttl/5))
		if err != nil {
			return err
		}
		var last jetstream.Msg
		var keys []string
		var pending uint64
		applied := false
		for msg := range batch.Messages() {
			last = msg
			md, err := msg.Metadata()
			if err != nil {
				return err
			}
			pending = md.NumPending
			if md.Sequence.Stream <= cp.Seq {
				continue // applied before a crash or a takeover: skip, ack below
			}
			if !applied { // the oldest event not yet applied
				v.lagSeconds.WithLabelValues(name).Set(max(0, time.Since(md.Timestamp).Seconds()))
			}
			if !v.store.Obeys(md.Sequence.Stream, msg.Subject(), msg.Headers(), msg.Data()) {
				cp.Seq = md.Sequence.Stream // not Redlane's: never shown as fact (reported by the store)
				applied = true
				continue
			}
			env, err := domain.DecodeEnvelope(msg.Data())
			if err != nil {
				// Not an event Redlane wrote: pass it over (audit verify names it).
				v.log.Warn("view skips a message that is no event", "view", name, "seq", md.Sequence.Stream, "err", err)
				cp.Seq = md.Sequence.Stream
				applied = true
				continue
			}
			rec := domain.Recorded{Envelope: env, Seq: md.Sequence.Stream}
			changed, known := applyStored(view, rec)
			if !known {
				v.log.Warn("view passes over an event it cannot decode", "view", name, "seq", rec.Seq, "type", rec.Type)
			}
			keys = append(keys, changed...)
			cp.Seq = rec.Seq
			applied = true
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return err
		}
		if last == nil {
			v.lag.WithLabelValues(name).Set(0)
			v.lagSeconds.WithLabelValues(name).Set(0)
			v.recovered(name) // caught up, and nothing to write
			continue
		}
		if applied {
			if fv, ok := view.(interface{ Take() []feed.Entry }); ok {
				if feedSeq, err = v.publishFeed(ctx, fv.Take(), feedSeq); err != nil {
					return err
				}
			}
			cp.Writer, cp.At = v.owner, time.Now().UTC()
			if fence, err = v.flush(ctx, kv, view, keys, cp, fence); err != nil {
				return fmt.Errorf("view %s: flush: %w", name, err)
			}
			v.recovered(name)
		}
		if err := last.Ack(); err != nil {
			return err
		}
		v.lag.WithLabelValues(name).Set(float64(pending))
		if pending == 0 {
			v.lagSeconds.WithLabelValues(name).Set(0)
		}
	}
	return nil
}

func (v *Views) currentPointer(ctx context.Context, view string) (pointer, error) {
	ptrs, err := v.js.KeyValue(ctx, PointerBucket)
	if err != nil {
		return pointer{}, err
	}
	e, err := ptrs.Get(ctx, view)
	if err != nil {
		return pointer{}, err
	}
	var p pointer
	err = json.Unmarshal(e.Value(), &p)
	return p, err
}

// lastFeedSeq returns the event position of the last feed entry published.
func (v *Views) lastFeedSeq(ctx context.Context) (uint64, error) {
	info, err := v.feedJS.Info(ctx)
	if err != nil {
		return 0, err
	}
	if info.State.Msgs == 0 {
		return 0, nil
	}
	msg, err := v.feedJS.GetMsg(ctx, info.State.LastSeq)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(msg.Header.Get(HeaderSourceSeq), 10, 64)
}

// FeedSubject is the subject of feed entries of a lane in a community.
func FeedSubject(community, lane string) string {
	tok := func(s string) string {
		if s == "" || !domain.ValidID(s) {
			return "-"
		}
		return s
	}
	return FeedSubjectRoot + "." + tok(community) + "." + tok(lane)
}

// publishFeed appends entries made after position after, each once.
func (v *Views) publishFeed(ctx context.Context, entries []feed.Entry, after uint64) (uint64, error) {
	for _, e := range entries {
		if e.Seq <= after {
			continue // published before a crash: the feed holds it already
		}
		body, err := json.Marshal(e)
		if err != nil {
			return after, err
		}
		m := nats.NewMsg(FeedSubject(e.Community, e.Lane))
		m.Data = body
		m.Header.Set(jetstream.MsgIDHeader, e.EventID)
		m.Header.Set(HeaderSourceSeq, strconv.FormatUint(e.Seq, 10))
		if v.store.signer != nil {
			m.Header.Set(HeaderSignature, v.store.signer.SignEvent(m.Subject, e.EventID, body))
			m.Header.Set(HeaderKey, v.store.signer.KeyID())
		}
		if _, err := v.js.PublishMsg(ctx, m); err != nil {
			return after, fmt.Errorf("feed: %w", err)
		}
		after = e.Seq
	}
	return after, nil
}
