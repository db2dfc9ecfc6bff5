package eventstoredb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redlane/redlane/internal/testworld"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/adapters/eventstoredb"
	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/internal/randhist"
	"github.com/redlane/redlane/service"
)

// memTarget keeps streams in memory by EventStoreDB's rules: expected revisions, and an
// append of events a stream already holds right after the expected revision succeeds
// and writes nothing. It is the mirror's second implementation of Target, for tests
// that need no server; the contract test runs the same checks on a real one.
type memTarget struct {
	mu      sync.Mutex
	streams map[string][]esdb.EventData
	appends int
}

func newMemTarget() *memTarget { return &memTarget{streams: map[string][]esdb.EventData{}} }

func (m *memTarget) Append(_ context.Context, stream string, expected esdb.ExpectedRevision, events ...esdb.EventData) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.appends++
	cur, exists := m.streams[stream]
	var at int // how many events the stream must hold
	switch e := expected.(type) {
	case esdb.Any:
		m.streams[stream] = append(cur, events...)
		return nil
	case esdb.NoStream:
		at = 0
	case esdb.StreamRevision:
		at = int(e.Value) + 1
	default:
		return fmt.Errorf("memTarget: unsupported expectation %T", expected)
	}
	if len(cur) == at && (at > 0 || !exists) {
		m.streams[stream] = append(cur, events...)
		return nil
	}
	if len(cur) >= at+len(events) {
		same := true
		for i, e := range events {
			same = same && cur[at+i].EventID == e.EventID
		}
		if same {
			return nil // idempotent
		}
	}
	return fmt.Errorf("memTarget %s: at %d, expected %d: %w", stream, len(cur), at, eventstoredb.ErrWrongExpectedVersion)
}

func (m *memTarget) EventAt(_ context.Context, stream string, revision uint64) (uuid.UUID, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.streams[stream]
	if revision >= uint64(len(cur)) {
		return uuid.UUID{}, false, nil
	}
	return cur[revision].EventID, true, nil
}

func (m *memTarget) stream(name string) []esdb.EventData {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.streams[name])
}

func (m *memTarget) total() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, s := range m.streams {
		n += len(s)
	}
	return n
}

// history is a random but valid history on a real embedded NATS server.
type history struct {
	js    jetstream.JetStream
	store *jsstore.Store
	svc   *service.Service
	dist  *randhist.District
	rng   *rand.Rand
}

func newHistory(tb testing.TB, steps int) *history {
	tb.Helper()
	h := newBareHistory(tb)
	dist, err := randhist.Seed(context.Background(), h.svc)
	if err != nil {
		tb.Fatal(err)
	}
	h.dist = dist
	h.steps(tb, steps)
	return h
}

// newBareHistory is a service on a signing-free store with nothing written yet.
func newBareHistory(tb testing.TB) *history {
	tb.Helper()
	return newBareHistoryOn(tb, jsstore.Config{})
}

// newBareHistoryOn is newBareHistory on a store configured so.
func newBareHistoryOn(tb testing.TB, cfg jsstore.Config) *history {
	tb.Helper()
	var tick atomic.Int64
	start := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	w := testworld.Start(tb, testworld.Options{Store: cfg,
		Clock: domain.ClockFunc(func() time.Time { return start.Add(time.Duration(tick.Add(1)) * time.Minute) })})
	return &history{js: w.JS, store: w.Store, svc: w.Svc, rng: rand.New(rand.NewPCG(3, 5))}
}

func (h *history) steps(tb testing.TB, n int) {
	tb.Helper()
	for range n {
		if err := h.dist.Step(context.Background(), h.svc, h.rng); err != nil {
			tb.Fatal(err)
		}
	}
}

func (h *history) last(tb testing.TB) uint64 {
	tb.Helper()
	n, err := h.store.LastSeq(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// run starts a mirror and stops it when the test ends (or when stop is called).
func run(tb testing.TB, h *history, target eventstoredb.Target, owner string) (*eventstoredb.Mirror, func()) {
	tb.Helper()
	m, err := eventstoredb.NewMirror(context.Background(), h.js, eventstoredb.MirrorConfig{
		Stream: h.store.StreamName(), Target: target, Owner: owner, LeaseTTL: time.Second, Batch: 50,
		Obeys: h.store.Obeys,
	})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = m.Run(ctx) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	tb.Cleanup(stop)
	return m, stop
}

func waitMirrored(tb testing.TB, m *eventstoredb.Mirror, seq uint64) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		cp, _, err := m.Checkpoint(context.Background())
		if err != nil {
			tb.Fatal(err)
		}
		if cp >= seq {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("mirrored up to %d, want %d", cp, seq)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// assertMirrored checks that every event of the log is in its aggregate's stream at
// revision version − 1, with its own id, once.
func assertMirrored(tb testing.TB, h *history, streams func(name string) []uuid.UUID) {
	tb.Helper()
	want := map[string][]uuid.UUID{}
	err := h.store.ReadAll(context.Background(), 1, func(rec domain.Recorded) error {
		name := eventstoredb.StreamName(rec.AggregateType, rec.AggregateID)
		if uint64(len(want[name])) != rec.Version-1 {
			tb.Fatalf("log: %s version %d after %d events", name, rec.Version, len(want[name]))
		}
		want[name] = append(want[name], eventstoredb.EventID(rec.ID))
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	for name, ids := range want {
		if got := streams(name); !slices.Equal(got, ids) {
			tb.Errorf("stream %s holds %v, want %v", name, got, ids)
		}
	}
}

func memStreams(m *memTarget) func(string) []uuid.UUID {
	return func(name string) []uuid.UUID {
		var out []uuid.UUID
		for _, e := range m.stream(name) {
			out = append(out, e.EventID)
		}
		return out
	}
}

func TestMirrorCopiesEveryEventOnceInOrder(t *testing.T) {
	h := newHistory(t, 120)
	target := newMemTarget()
	m, _ := run(t, h, target, "a")
	waitMirrored(t, m, h.last(t))
	h.steps(t, 60) // and it follows new ones
	waitMirrored(t, m, h.last(t))
	assertMirrored(t, h, memStreams(target))
	if n := target.total(); uint64(n) != h.last(t) {
		t.Errorf("%d events mirrored, %d stored", n, h.last(t))
	}
}

func TestMirrorRedeliveryWritesNothingTwice(t *testing.T) {
	h := newHistory(t, 80)
	target := newMemTarget()
	m, stop := run(t, h, target, "a")
	waitMirrored(t, m, h.last(t))
	stop()
	// A crash after writing to EventStoreDB but before the checkpoint: the mirror starts
	// again from an old checkpoint and sees everything again.
	kv, err := h.js.KeyValue(context.Background(), eventstoredb.CheckpointBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(context.Background(), eventstoredb.CheckpointKey, []byte(`{"seq":3}`)); err != nil {
		t.Fatal(err)
	}
	h.steps(t, 20)
	m2, _ := run(t, h, target, "b")
	waitMirrored(t, m2, h.last(t))
	assertMirrored(t, h, memStreams(target))
	if n := target.total(); uint64(n) != h.last(t) {
		t.Errorf("%d events mirrored after redelivery, %d stored", n, h.last(t))
	}
}

func TestMirrorQuarantinesWhatCannotTakeItsPlace(t *testing.T) {
	h := newHistory(t, 40)
	ctx := context.Background()
	target := newMemTarget()
	m, _ := run(t, h, target, "a")
	waitMirrored(t, m, h.last(t))
	// A forged copy of an order's first event under a new id, and a message that is no
	// event at all.
	recs, err := h.store.Load(ctx, order.AggregateType, h.dist.Orders[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	env := recs[0].Envelope
	env.ID = uuid.Must(uuid.NewV7()).String()
	body, _ := json.Marshal(env)
	forged := nats.NewMsg(h.store.Subject(order.AggregateType, env.AggregateID))
	forged.Data = body
	if _, err := h.js.PublishMsg(ctx, forged); err != nil {
		t.Fatal(err)
	}
	if _, err := h.js.Publish(ctx, h.store.Subject("order", "junk"), []byte("junk")); err != nil {
		t.Fatal(err)
	}
	waitMirrored(t, m, h.last(t))
	q := target.stream(eventstoredb.QuarantineStream)
	if len(q) != 2 {
		t.Fatalf("quarantine holds %d events, want 2", len(q))
	}
	types := map[string]bool{}
	for _, e := range q {
		var meta eventstoredb.Metadata
		_ = json.Unmarshal(e.Metadata, &meta)
		if meta.Quarantine == "" || meta.NATSSeq == 0 {
			t.Errorf("quarantined %s without a reason or position: %+v", e.EventType, meta)
		}
		types[e.EventType] = true
	}
	if !types[order.TypeSubmitted] || !types["redlane.unreadable"] {
		t.Errorf("quarantined %v", types)
	}
	// The genuine stream is untouched by the forgery.
	first := target.stream(eventstoredb.StreamName("order", env.AggregateID))[0]
	if first.EventID.String() != recs[0].ID {
		t.Errorf("the order's stream starts with %s, not its genuine first event", first.EventID)
	}
}

// TestMirrorNeverPlacesWhatRedlaneDidNotSign: an unsigned event that would fit its
// order's stream (the next version, a fresh id) goes to quarantine, saying why.
func TestMirrorNeverPlacesWhatRedlaneDidNotSign(t *testing.T) {
	signer := jsstore.GenerateSigner()
	h := newBareHistoryOn(t, jsstore.Config{Signer: signer, Keys: jsstore.NewKeyring(signer.PublicKey())})
	dist, err := randhist.Seed(context.Background(), h.svc)
	if err != nil {
		t.Fatal(err)
	}
	h.dist = dist
	h.steps(t, 30)
	ctx := context.Background()
	target := newMemTarget()
	m, _ := run(t, h, target, "a")
	id := h.dist.Orders[0]
	recs, err := h.store.Load(ctx, order.AggregateType, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	env := recs[len(recs)-1].Envelope
	env.ID, env.Version, env.Type, env.Data = uuid.Must(uuid.NewV7()).String(), env.Version+1, order.TypeCancelled, json.RawMessage(`{"reason":"伪造"}`)
	body, _ := json.Marshal(env)
	forged := nats.NewMsg(h.store.Subject(order.AggregateType, id))
	forged.Data = body
	forged.Header.Set(jetstream.MsgIDHeader, env.ID)
	if _, err := h.js.PublishMsg(ctx, forged); err != nil {
		t.Fatal(err)
	}
	waitMirrored(t, m, h.last(t))
	q := target.stream(eventstoredb.QuarantineStream)
	if len(q) != 1 {
		t.Fatalf("quarantine holds %d events, want the forged one", len(q))
	}
	var meta eventstoredb.Metadata
	_ = json.Unmarshal(q[0].Metadata, &meta)
	if !strings.Contains(meta.Quarantine, "not Redlane's") {
		t.Errorf("quarantined for %q", meta.Quarantine)
	}
	if got := target.stream(eventstoredb.StreamName(order.AggregateType, id)); len(got) != len(recs) {
		t.Errorf("the order's stream holds %d events, want its %d genuine ones", len(got), len(recs))
	}
}

func TestOneMirrorAtATime(t *testing.T) {
	h := newHistory(t, 60)
	target := newMemTarget()
	m, _ := run(t, h, target, "a")
	run(t, h, target, "b")
	waitMirrored(t, m, h.last(t))
	h.steps(t, 30)
	waitMirrored(t, m, h.last(t))
	assertMirrored(t, h, memStreams(target))
}
