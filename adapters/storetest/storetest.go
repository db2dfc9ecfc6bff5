// Package storetest is the contract every domain.EventStore implementation passes. An
// adapter's tests call Run with a Harness that makes fresh stores; the suite then checks
// ordering, optimistic concurrency, atomic multi-event appends, at-most-once storage per
// event id, id validation and, when the store can be reopened, durability.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/redlane/redlane/domain"
)

// Harness makes the stores the suite runs against.
type Harness struct {
	// New returns an empty store, cleaned up when tb ends.
	New func(tb testing.TB) domain.EventStore
	// Reopen closes s and opens it again on the same data, as a process restart would.
	// Nil when the store keeps nothing across a restart; the restart test is then skipped.
	Reopen func(tb testing.TB, s domain.EventStore) domain.EventStore
}

// Event is the event type the suite appends.
type Event struct {
	N int `json:"n"`
}

// EventType names Event on the wire.
func (Event) EventType() string { return "redlane.test.happened.v1" }

// AggType is the aggregate type the suite appends to.
const AggType = "test"

// NewID returns a fresh UUIDv7, as production makes event and aggregate ids.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// Seal returns n sealed events for aggregate aggType/aggID whose current version is
// version, with fresh ids.
func Seal(tb testing.TB, aggType, aggID string, version uint64, n int) []domain.Envelope {
	tb.Helper()
	events := make([]domain.Event, n)
	ids := make([]string, n)
	for i := range events {
		events[i] = Event{N: int(version) + 1 + i}
		ids[i] = NewID()
	}
	meta := domain.Meta{
		Actor:         domain.Actor{ID: "tok-1", Name: "Tester", Role: domain.RoleAdmin},
		Time:          time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		CorrelationID: NewID(),
		CausationID:   NewID(),
	}
	envs, err := domain.Seal(aggType, aggID, version, events, ids, meta)
	if err != nil {
		tb.Fatalf("seal: %v", err)
	}
	return envs
}

// Run runs the contract suite against the stores h makes.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("storetest: Harness.New is required")
	}
	tests := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"append_then_load_returns_events_in_order", testAppendLoad},
		{"load_after_a_position_returns_only_later_events", testLoadAfter},
		{"empty_aggregate_loads_nothing", testEmpty},
		{"stale_expected_conflicts_and_writes_nothing", testStale},
		{"expected_zero_conflicts_when_aggregate_exists", testExpectedZero},
		{"concurrent_appenders_at_same_expected_exactly_one_wins", testConcurrent},
		{"retried_ids_store_once_and_return_first_positions", testDedupe},
		{"multi_event_append_is_atomic", testAtomic},
		{"load_order_holds_interleaved_across_aggregates", testInterleaved},
		{"invalid_ids_are_refused_and_nothing_written", testInvalid},
		{"restart_keeps_everything", testRestart},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, h)
		})
	}
}

func ctxFor(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

func mustAppend(tb testing.TB, s domain.EventStore, aggID string, expected uint64, envs []domain.Envelope) []uint64 {
	tb.Helper()
	seqs, err := s.Append(ctxFor(tb), AggType, aggID, expected, envs)
	if err != nil {
		tb.Fatalf("append %s at %d: %v", aggID, expected, err)
	}
	if len(seqs) != len(envs) {
		tb.Fatalf("append %s: %d positions for %d events", aggID, len(seqs), len(envs))
	}
	return seqs
}

func mustLoad(tb testing.TB, s domain.EventStore, aggID string, after uint64) []domain.Recorded {
	tb.Helper()
	recs, err := s.Load(ctxFor(tb), AggType, aggID, after)
	if err != nil {
		tb.Fatalf("load %s after %d: %v", aggID, after, err)
	}
	return recs
}

func wantConflict(tb testing.TB, err error) {
	tb.Helper()
	if err == nil {
		tb.Fatal("append succeeded, want a conflict")
	}
	if !errors.Is(err, domain.ErrConflict) {
		tb.Fatalf("append error %v, want one that is domain.ErrConflict", err)
	}
	if k := domain.KindOf(err); k != domain.KindConflict {
		tb.Fatalf("append error kind %v, want conflict", k)
	}
}

// checkLoaded asserts recs are envs stored at seqs.
func checkLoaded(tb testing.TB, recs []domain.Recorded, envs []domain.Envelope, seqs []uint64) {
	tb.Helper()
	if len(recs) != len(envs) {
		tb.Fatalf("loaded %d events, want %d", len(recs), len(envs))
	}
	for i, r := range recs {
		if r.Seq != seqs[i] {
			tb.Errorf("event %d at position %d, want %d", i, r.Seq, seqs[i])
		}
		if err := sameEnvelope(r.Envelope, envs[i]); err != nil {
			tb.Errorf("event %d: %v", i, err)
		}
	}
}

func sameEnvelope(got, want domain.Envelope) error {
	if !got.Time.Equal(want.Time) {
		return fmt.Errorf("time %v, want %v", got.Time, want.Time)
	}
	if !bytes.Equal(got.Data, want.Data) {
		return fmt.Errorf("data %s, want %s", got.Data, want.Data)
	}
	got.Time, want.Time, got.Data, want.Data = time.Time{}, time.Time{}, nil, nil
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("envelope\n got  %+v\n want %+v", got, want)
	}
	return nil
}

func concat[T any](xs ...[]T) []T {
	var out []T
	for _, x := range xs {
		out = append(out, x...)
	}
	return out
}

func testAppendLoad(t *testing.T, h Harness) {
	s := h.New(t)
	id := NewID()
	first := Seal(t, AggType, id, 0, 1)
	s1 := mustAppend(t, s, id, 0, first)
	second := Seal(t, AggType, id, 1, 1)
	s2 := mustAppend(t, s, id, s1[0], second)
	third := Seal(t, AggType, id, 2, 3)
	s3 := mustAppend(t, s, id, s2[0], third)
	seqs := concat(s1, s2, s3)
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("positions %v do not grow", seqs)
		}
	}
	checkLoaded(t, mustLoad(t, s, id, 0), concat(first, second, third), seqs)
}

func testLoadAfter(t *testing.T, h Harness) {
	s := h.New(t)
	id := NewID()
	envs := Seal(t, AggType, id, 0, 5)
	var seqs []uint64
	var last uint64
	for i := range envs {
		got := mustAppend(t, s, id, last, envs[i:i+1])
		seqs = append(seqs, got...)
		last = got[0]
	}
	for i := range seqs {
		checkLoaded(t, mustLoad(t, s, id, seqs[i]), envs[i+1:], seqs[i+1:])
	}
	// A position between two of the aggregate's events.
	other := NewID()
	mustAppend(t, s, other, 0, Seal(t, AggType, other, 0, 1))
	checkLoaded(t, mustLoad(t, s, id, seqs[2]-1), envs[2:], seqs[2:])
	if recs := mustLoad(t, s, id, last+1000); len(recs) != 0 {
		t.Fatalf("load after a position past the end returned %d events", len(recs))
	}
}

func testEmpty(t *testing.T, h Harness) {
	s := h.New(t)
	if recs := mustLoad(t, s, NewID(), 0); len(recs) != 0 {
		t.Fatalf("empty store: loaded %d events", len(recs))
	}
	other := NewID()
	mustAppend(t, s, other, 0, Seal(t, AggType, other, 0, 2))
	id := NewID()
	for _, after := range []uint64{0, 1, 5} {
		recs, err := s.Load(ctxFor(t), AggType, id, after)
		if err != nil || len(recs) != 0 {
			t.Fatalf("unknown aggregate after %d: %d events, err %v; want none, no error", after, len(recs), err)
		}
	}
}

func testStale(t *testing.T, h Harness) {
	s := h.New(t)
	id := NewID()
	s1 := mustAppend(t, s, id, 0, Seal(t, AggType, id, 0, 1))
	s2 := mustAppend(t, s, id, s1[0], Seal(t, AggType, id, 1, 1))
	before := mustLoad(t, s, id, 0)

	for _, expected := range []uint64{s1[0], s2[0] + 1, s2[0] + 100} {
		for _, n := range []int{1, 3} {
			_, err := s.Append(ctxFor(t), AggType, id, expected, Seal(t, AggType, id, 1, n))
			wantConflict(t, err)
		}
	}
	after := mustLoad(t, s, id, 0)
	if len(after) != len(before) {
		t.Fatalf("conflicting appends wrote: %d events before, %d after", len(before), len(after))
	}
	// The aggregate still takes appends at its real position.
	mustAppend(t, s, id, s2[0], Seal(t, AggType, id, 2, 1))
}

func testExpectedZero(t *testing.T, h Harness) {
	s := h.New(t)
	id := NewID()
	envs := Seal(t, AggType, id, 0, 1)
	seqs := mustAppend(t, s, id, 0, envs)
	for _, n := range []int{1, 2} {
		_, err := s.Append(ctxFor(t), AggType, id, 0, Seal(t, AggType, id, 0, n))
		wantConflict(t, err)
	}
	checkLoaded(t, mustLoad(t, s, id, 0), envs, seqs)
}

func testConcurrent(t *testing.T, h Harness) {
	s := h.New(t)
	const writers, rounds = 12, 15
	id := NewID()
	ctx := ctxFor(t)
	var last, version uint64
	var want []domain.Envelope
	for round := range rounds {
		batches := make([][]domain.Envelope, writers)
		for w := range batches {
			batches[w] = Seal(t, AggType, id, version, 1+(w+round)%3)
		}
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			results = make([][]uint64, writers)
			errs    = make([]error, writers)
		)
		for w := range writers {
			wg.Go(func() {
				<-start
				results[w], errs[w] = s.Append(ctx, AggType, id, last, batches[w])
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for w, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: writers %d and %d both won at %d", round, winner, w, last)
			case err == nil:
				winner = w
			case !errors.Is(err, domain.ErrConflict):
				t.Fatalf("round %d: writer %d: %v, want a conflict", round, w, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no writer won", round)
		}
		want = append(want, batches[winner]...)
		seqs := results[winner]
		last = seqs[len(seqs)-1]
		version += uint64(len(seqs))
	}
	recs := mustLoad(t, s, id, 0)
	if len(recs) != len(want) {
		t.Fatalf("stored %d events, want the %d of the winners", len(recs), len(want))
	}
	for i := range recs {
		if recs[i].ID != want[i].ID || recs[i].Version != uint64(i+1) {
			t.Fatalf("event %d: id %s version %d, want id %s version %d", i, recs[i].ID, recs[i].Version, want[i].ID, i+1)
		}
	}
}

func testDedupe(t *testing.T, h Harness) {
	s := h.New(t)
	id := NewID()
	one := Seal(t, AggType, id, 0, 1)
	s1 := mustAppend(t, s, id, 0, one)
	// The same append again, as a client retries after a lost reply.
	if got := mustAppend(t, s, id, 0, one); got[0] != s1[0] {
		t.Fatalf("retry stored at %v, want the first position %v", got, s1)
	}
	three := Seal(t, AggType, id, 1, 3)
	s3 := mustAppend(t, s, id, s1[0], three)
	if got := mustAppend(t, s, id, s1[0], three); fmt.Sprint(got) != fmt.Sprint(s3) {
		t.Fatalf("retried multi-event append at %v, want the first positions %v", got, s3)
	}
	// The aggregate moved on; retrying the old appends at their now stale positions
	// still reports where they are and writes nothing.
	four := Seal(t, AggType, id, 4, 1)
	s4 := mustAppend(t, s, id, s3[2], four)
	if got := mustAppend(t, s, id, 0, one); got[0] != s1[0] {
		t.Fatalf("stale retry stored at %v, want %v", got, s1)
	}
	if got := mustAppend(t, s, id, s1[0], three); fmt.Sprint(got) != fmt.Sprint(s3) {
		t.Fatalf("stale multi-event retry at %v, want %v", got, s3)
	}
	// Retrying at the aggregate's current position reports the first positions too.
	if got := mustAppend(t, s, id, s4[0], one); got[0] != s1[0] {
		t.Fatalf("retry at the current position stored at %v, want %v", got, s1)
	}
	if got := mustAppend(t, s, id, s4[0], three); fmt.Sprint(got) != fmt.Sprint(s3) {
		t.Fatalf("multi-event retry at the current position at %v, want %v", got, s3)
	}
	// An append that repeats some stored ids but not all is no retry: it is refused and
	// writes nothing.
	fresh := Seal(t, AggType, id, 5, 1)
	for _, mixed := range [][]domain.Envelope{{three[0], fresh[0]}, {fresh[0], three[0]}} {
		for _, expected := range []uint64{s1[0], s4[0]} {
			_, err := s.Append(ctxFor(t), AggType, id, expected, mixed)
			wantConflict(t, err)
		}
	}
	checkLoaded(t, mustLoad(t, s, id, 0), concat(one, three, four), concat(s1, s3, s4))

	// Ids stored for one aggregate are refused for another.
	other := NewID()
	for _, envs := range [][]domain.Envelope{one, three} {
		moved := make([]domain.Envelope, len(envs))
		for i, e := range envs {
			e.AggregateID = other
			moved[i] = e
		}
		_, err := s.Append(ctxFor(t), AggType, other, 0, moved)
		wantConflict(t, err)
	}
	if recs := mustLoad(t, s, other, 0); len(recs) != 0 {
		t.Fatalf("ids of another aggregate stored: %d events", len(recs))
	}
}

func testAtomic(t *testing.T, h Harness) {
	s := h.New(t)
	id := NewID()
	envs := Seal(t, AggType, id, 0, 4)
	seqs := mustAppend(t, s, id, 0, envs)
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("multi-event append at %v, want consecutive positions", seqs)
		}
	}
	checkLoaded(t, mustLoad(t, s, id, 0), envs, seqs)

	// A conflicting multi-event append writes none of its events.
	_, err := s.Append(ctxFor(t), AggType, id, seqs[1], Seal(t, AggType, id, 2, 3))
	wantConflict(t, err)
	checkLoaded(t, mustLoad(t, s, id, 0), envs, seqs)

	// Large appends are all or nothing too.
	big := Seal(t, AggType, id, 4, 50)
	bigSeqs := mustAppend(t, s, id, seqs[3], big)
	if bigSeqs[49] != bigSeqs[0]+49 {
		t.Fatalf("50-event append spans %d..%d, want consecutive positions", bigSeqs[0], bigSeqs[49])
	}
	checkLoaded(t, mustLoad(t, s, id, seqs[3]), big, bigSeqs)

	// Events that repeat an id, or belong to another aggregate, are refused.
	dup := Seal(t, AggType, id, 54, 2)
	dup[1].ID = dup[0].ID
	if _, err := s.Append(ctxFor(t), AggType, id, bigSeqs[49], dup); domain.KindOf(err) != domain.KindInvalid {
		t.Fatalf("append repeating an id: %v, want invalid", err)
	}
	foreign := Seal(t, AggType, NewID(), 54, 1)
	if _, err := s.Append(ctxFor(t), AggType, id, bigSeqs[49], foreign); domain.KindOf(err) != domain.KindInvalid {
		t.Fatalf("append of another aggregate's event: %v, want invalid", err)
	}
	if n := len(mustLoad(t, s, id, 0)); n != 54 {
		t.Fatalf("%d events stored, want 54", n)
	}
}

func testInterleaved(t *testing.T, h Harness) {
	s := h.New(t)
	const aggs, perAgg = 20, 8
	ids := make([]string, aggs)
	last := make([]uint64, aggs)
	envs := make([][]domain.Envelope, aggs)
	seqs := make([][]uint64, aggs)
	for a := range ids {
		ids[a] = NewID()
	}
	var prev uint64
	for v := range perAgg {
		for a, id := range ids {
			e := Seal(t, AggType, id, uint64(v), 1)
			got := mustAppend(t, s, id, last[a], e)
			if got[0] <= prev {
				t.Fatalf("position %d after %d: the log order is not total", got[0], prev)
			}
			prev, last[a] = got[0], got[0]
			envs[a] = append(envs[a], e...)
			seqs[a] = append(seqs[a], got...)
		}
	}
	for a, id := range ids {
		checkLoaded(t, mustLoad(t, s, id, 0), envs[a], seqs[a])
		for _, i := range []int{0, perAgg / 2, perAgg - 2, perAgg - 1} {
			// After one of its own events.
			checkLoaded(t, mustLoad(t, s, id, seqs[a][i]), envs[a][i+1:], seqs[a][i+1:])
			// After another aggregate's event.
			checkLoaded(t, mustLoad(t, s, id, seqs[a][i]+1), envs[a][i+1:], seqs[a][i+1:])
		}
	}
}

func testInvalid(t *testing.T, h Harness) {
	s := h.New(t)
	good := NewID()
	before := mustAppend(t, s, good, 0, Seal(t, AggType, good, 0, 1))
	bad := []string{"", "a.b", "a*", "a>", ">", "*", "a b", "a\tb", "ä", "a/b", strings.Repeat("x", 129)}
	for _, b := range bad {
		for _, c := range []struct{ aggType, aggID string }{{AggType, b}, {b, good}} {
			envs := Seal(t, c.aggType, c.aggID, 0, 1)
			_, err := s.Append(ctxFor(t), c.aggType, c.aggID, 0, envs)
			if domain.KindOf(err) != domain.KindInvalid {
				t.Errorf("append to %q/%q: %v, want invalid input", c.aggType, c.aggID, err)
			}
			if _, err := s.Load(ctxFor(t), c.aggType, c.aggID, 0); domain.KindOf(err) != domain.KindInvalid {
				t.Errorf("load %q/%q: %v, want invalid input", c.aggType, c.aggID, err)
			}
		}
	}
	// Nothing of the refused appends was written: the log has not moved.
	long := strings.Repeat("x", 128)
	after := mustAppend(t, s, long, 0, Seal(t, AggType, long, 0, 1))
	if after[0] != before[0]+1 {
		t.Fatalf("log moved from %d to %d across refused appends", before[0], after[0])
	}
	if n := len(mustLoad(t, s, long, 0)); n != 1 {
		t.Fatalf("128-character id: %d events, want 1", n)
	}
	odd := "A-Z_09-x"
	mustAppend(t, s, odd, 0, Seal(t, AggType, odd, 0, 1))
	if _, err := s.Append(ctxFor(t), "Type_2-b", odd, 0, Seal(t, "Type_2-b", odd, 0, 1)); err != nil {
		t.Fatalf("append to a valid type: %v", err)
	}
}

func testRestart(t *testing.T, h Harness) {
	if h.Reopen == nil {
		t.Skip("this store keeps nothing across a restart, so there is nothing to reopen")
	}
	s := h.New(t)
	type agg struct {
		id   string
		envs []domain.Envelope
		seqs []uint64
	}
	aggs := make([]agg, 5)
	for i := range aggs {
		a := &aggs[i]
		a.id = NewID()
		a.envs = Seal(t, AggType, a.id, 0, 1+i%3)
		a.seqs = mustAppend(t, s, a.id, 0, a.envs)
		more := Seal(t, AggType, a.id, uint64(len(a.envs)), 1)
		a.seqs = append(a.seqs, mustAppend(t, s, a.id, a.seqs[len(a.seqs)-1], more)...)
		a.envs = append(a.envs, more...)
	}
	s = h.Reopen(t, s)
	for _, a := range aggs {
		checkLoaded(t, mustLoad(t, s, a.id, 0), a.envs, a.seqs)
	}
	// Appending goes on where it stopped, conflicts still show, retries still dedupe.
	a := aggs[0]
	last := a.seqs[len(a.seqs)-1]
	next := Seal(t, AggType, a.id, uint64(len(a.envs)), 2)
	seqs := mustAppend(t, s, a.id, last, next)
	if seqs[0] <= aggs[len(aggs)-1].seqs[1] {
		t.Fatalf("after restart appended at %d, before the last position before it", seqs[0])
	}
	_, err := s.Append(ctxFor(t), AggType, a.id, last, Seal(t, AggType, a.id, uint64(len(a.envs)), 1))
	wantConflict(t, err)
	if got := mustAppend(t, s, a.id, 0, a.envs[:1]); got[0] != a.seqs[0] {
		t.Fatalf("retry after restart stored at %v, want %d", got, a.seqs[0])
	}
	checkLoaded(t, mustLoad(t, s, a.id, 0), append(a.envs, next...), append(a.seqs, seqs...))
}
