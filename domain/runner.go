package domain

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
)

// Aggregate describes one kind of aggregate to the Runner: its type name (the middle of
// its subjects), how its events decode and how they fold into state.
type Aggregate[S any] struct {
	Type     string
	Registry *Registry
	// Evolve applies one stored fact. It cannot fail: history is history.
	Evolve func(state S, ev Event, env Envelope) S
}

// Snapshot is an aggregate's state after its events up to log position Seq.
type Snapshot[S any] struct {
	ID      string
	State   S
	Version uint64 // how many events the aggregate has; 0 when it does not exist
	Seq     uint64 // log position of its last event; 0 when it does not exist
}

// Exists reports whether the aggregate has any events.
func (s Snapshot[S]) Exists() bool { return s.Version > 0 }

// DecideFunc decides a command against the current snapshot and returns the events it
// yields: none when the command changes nothing, or an error when it is refused.
type DecideFunc[S any] func(Snapshot[S]) ([]Event, error)

// Runner executes commands against one kind of aggregate: it loads the aggregate, decides,
// and appends at the expected version, retrying a bounded number of times when another
// writer got there first. It holds no business rules.
//
// The runner keeps recently used aggregates in memory, so a command costs no read of the
// aggregate's history: a stale entry (another process wrote since) shows up as a conflict
// on append, and the runner then reads just the events it missed. A command refused
// against a cached entry is decided once more after such a read, so staleness never
// refuses a valid command.
type Runner[S any] struct {
	store   EventStore
	agg     Aggregate[S]
	newID   func() string
	retries int

	mu       sync.Mutex
	cache    map[string]*list.Element
	lru      *list.List
	max      int
	maxBytes int64       // 0: no bound by size
	size     func(S) int // the bytes a cached state holds, as near as can be told
	bytes    int64       // the cache's bytes now
}

// cached is one cache entry: a snapshot and the bytes counted for it.
type cached[S any] struct {
	snap  Snapshot[S]
	bytes int64
}

// RunnerOption configures a Runner.
type RunnerOption func(*runnerOptions)

type runnerOptions struct {
	cacheSize  int
	cacheBytes int64
	size       any // func(S) int
	retries    int
}

// WithCacheSize bounds how many aggregates the runner keeps in memory (default 100 000).
func WithCacheSize(n int) RunnerOption { return func(o *runnerOptions) { o.cacheSize = n } }

// WithCacheBytes bounds the memory the runner's cache holds to about max bytes, as size
// (a func(S) int) counts each state's; the least recently used go first.
func WithCacheBytes[S any](max int64, size func(S) int) RunnerOption {
	return func(o *runnerOptions) { o.cacheBytes, o.size = max, size }
}

// WithRetries sets how many times a conflicting append is retried (default 5).
func WithRetries(n int) RunnerOption { return func(o *runnerOptions) { o.retries = n } }

// NewRunner returns a runner over store; newID makes event ids (UUIDv7 in production).
func NewRunner[S any](store EventStore, agg Aggregate[S], newID func() string, opts ...RunnerOption) *Runner[S] {
	o := runnerOptions{cacheSize: 100_000, retries: 5}
	for _, opt := range opts {
		opt(&o)
	}
	r := &Runner[S]{
		store: store, agg: agg, newID: newID, retries: o.retries,
		cache: map[string]*list.Element{}, lru: list.New(), max: o.cacheSize,
	}
	if size, ok := o.size.(func(S) int); ok && o.cacheBytes > 0 {
		r.maxBytes, r.size = o.cacheBytes, size
	}
	return r
}

// CacheStats returns how many aggregates the cache holds and the bytes counted for them
// (0 without WithCacheBytes).
func (r *Runner[S]) CacheStats() (entries int, bytes int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lru.Len(), r.bytes
}

// Load returns the aggregate's current state, reading from the store only the events
// stored since the cached copy.
func (r *Runner[S]) Load(ctx context.Context, id string) (Snapshot[S], error) {
	snap, _ := r.cached(id)
	return r.refresh(ctx, snap)
}

// Execute runs decide against the aggregate id and appends what it yields under meta.
// It returns the snapshot after the command and the events it stored.
func (r *Runner[S]) Execute(ctx context.Context, id string, meta Meta, decide DecideFunc[S]) (Snapshot[S], []Recorded, error) {
	return r.execute(ctx, id, meta, decide, false)
}

// ExecuteNew is Execute for an aggregate whose id was just made (a fresh UUIDv7): it
// decides against the empty aggregate without reading the store first. The append at
// position 0 is the check: should the aggregate exist after all, the append conflicts
// and the command is decided again on what is stored.
func (r *Runner[S]) ExecuteNew(ctx context.Context, id string, meta Meta, decide DecideFunc[S]) (Snapshot[S], []Recorded, error) {
	return r.execute(ctx, id, meta, decide, true)
}

func (r *Runner[S]) execute(ctx context.Context, id string, meta Meta, decide DecideFunc[S], fresh bool) (Snapshot[S], []Recorded, error) {
	snap, fromCache := r.cached(id)
	if fresh && !fromCache {
		fromCache = true // unverified, as a cached copy is: a refusal is checked against the store
	}
	if !fromCache {
		var err error
		if snap, err = r.refresh(ctx, snap); err != nil {
			return snap, nil, err
		}
	}
	for attempt := 0; ; attempt++ {
		events, err := decide(snap)
		if err != nil && fromCache {
			// The cached copy may be stale; decide again on the latest before refusing.
			fromCache = false
			fresh, rerr := r.refresh(ctx, snap)
			if rerr != nil {
				return snap, nil, rerr
			}
			if fresh.Seq != snap.Seq {
				snap = fresh
				continue
			}
		}
		if err != nil {
			return snap, nil, err
		}
		if len(events) == 0 {
			return snap, nil, nil
		}
		ids := make([]string, len(events))
		for i := range ids {
			ids[i] = r.newID()
		}
		envs, err := Seal(r.agg.Type, id, snap.Version, events, ids, meta)
		if err != nil {
			return snap, nil, err
		}
		seqs, err := r.store.Append(ctx, r.agg.Type, id, snap.Seq, envs)
		if errors.Is(err, ErrConflict) && attempt < r.retries {
			fromCache = false
			if snap, err = r.refresh(ctx, snap); err != nil {
				return snap, nil, err
			}
			continue
		}
		if err != nil {
			return snap, nil, fmt.Errorf("append %s %s: %w", r.agg.Type, id, err)
		}
		recs := make([]Recorded, len(envs))
		for i, env := range envs {
			recs[i] = Recorded{Envelope: env, Seq: seqs[i]}
			snap.State = r.agg.Evolve(snap.State, events[i], env)
			snap.Version = env.Version
			snap.Seq = seqs[i]
		}
		r.remember(snap)
		return snap, recs, nil
	}
}

// Fold builds a snapshot from stored events, as Load does; audits use it to see an
// aggregate as of any moment. Events marked Rejected are passed over.
func (r *Runner[S]) Fold(snap Snapshot[S], recs []Recorded) (Snapshot[S], error) {
	for _, rec := range recs {
		if rec.Rejected != "" {
			continue // not Redlane's: an audit shows it, nothing folds it
		}
		ev, err := r.agg.Registry.Decode(rec.Envelope)
		if err != nil {
			return snap, err
		}
		snap.State = r.agg.Evolve(snap.State, ev, rec.Envelope)
		snap.Version = rec.Version
		snap.Seq = rec.Seq
	}
	return snap, nil
}

// Forget drops the aggregate from the cache.
func (r *Runner[S]) Forget(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, ok := r.cache[id]; ok {
		r.lru.Remove(el)
		r.bytes -= el.Value.(cached[S]).bytes
		delete(r.cache, id)
	}
}

func (r *Runner[S]) refresh(ctx context.Context, snap Snapshot[S]) (Snapshot[S], error) {
	recs, err := r.store.Load(ctx, r.agg.Type, snap.ID, snap.Seq)
	if err != nil {
		return snap, fmt.Errorf("load %s %s: %w", r.agg.Type, snap.ID, err)
	}
	if len(recs) == 0 {
		return snap, nil
	}
	if snap, err = r.Fold(snap, recs); err != nil {
		return snap, err
	}
	r.remember(snap)
	return snap, nil
}

func (r *Runner[S]) cached(id string) (Snapshot[S], bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, ok := r.cache[id]; ok {
		r.lru.MoveToFront(el)
		return el.Value.(cached[S]).snap, true
	}
	return Snapshot[S]{ID: id}, false
}

func (r *Runner[S]) remember(snap Snapshot[S]) {
	if r.max <= 0 {
		return
	}
	var n int64
	if r.size != nil {
		n = int64(r.size(snap.State))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, ok := r.cache[snap.ID]; ok {
		// Never replace a newer copy with an older one.
		if c := el.Value.(cached[S]); c.snap.Seq <= snap.Seq {
			r.bytes += n - c.bytes
			el.Value = cached[S]{snap: snap, bytes: n}
		}
		r.lru.MoveToFront(el)
	} else {
		r.cache[snap.ID] = r.lru.PushFront(cached[S]{snap: snap, bytes: n})
		r.bytes += n
	}
	for r.lru.Len() > r.max || (r.maxBytes > 0 && r.bytes > r.maxBytes && r.lru.Len() > 1) {
		old := r.lru.Back()
		r.lru.Remove(old)
		c := old.Value.(cached[S])
		r.bytes -= c.bytes
		delete(r.cache, c.snap.ID)
	}
}
