package domain_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/redlane/redlane/adapters/memstore"
	"github.com/redlane/redlane/domain"
)

// counter is a tiny aggregate for the runner's tests: it counts up, and refuses to
// count past a limit.
type counted struct{ By int }

func (counted) EventType() string { return "redlane.counter.counted.v1" }

var counterAgg = domain.Aggregate[int]{
	Type: "counter",
	Registry: func() *domain.Registry {
		r := domain.NewRegistry()
		r.Register(domain.Def[counted]())
		return r
	}(),
	Evolve: func(s int, ev domain.Event, _ domain.Envelope) int { return s + ev.(counted).By },
}

// ids makes event ids unique to one runner.
func ids(prefix string) func() string {
	n := 0
	return func() string { n++; return fmt.Sprintf("%s-%d", prefix, n) }
}

// add counts up by one, refusing at the limit.
func add(limit int) domain.DecideFunc[int] {
	return func(s domain.Snapshot[int]) ([]domain.Event, error) {
		if s.State >= limit {
			return nil, domain.Errorf(domain.KindConflict, "at the limit")
		}
		return []domain.Event{counted{By: 1}}, nil
	}
}

func TestRunner(t *testing.T) {
	ctx := context.Background()
	meta := domain.Meta{Actor: domain.Actor{ID: "a", Role: domain.RoleAdmin}}

	t.Run("two_processes_with_stale_caches_both_land_by_retrying", func(t *testing.T) {
		store := memstore.New()
		a := domain.NewRunner(store, counterAgg, ids("a"))
		b := domain.NewRunner(store, counterAgg, ids("b"))
		for i := range 3 {
			r := []*domain.Runner[int]{a, b}[i%2]
			if _, _, err := r.Execute(ctx, "c1", meta, add(10)); err != nil {
				t.Fatal(err)
			}
		}
		snap, err := a.Load(ctx, "c1")
		if err != nil || snap.State != 3 || snap.Version != 3 {
			t.Fatalf("state %d at version %d, %v; want 3 at 3", snap.State, snap.Version, err)
		}
	})

	t.Run("a_refusal_against_a_stale_cache_is_decided_again_on_the_store", func(t *testing.T) {
		store := memstore.New()
		a := domain.NewRunner(store, counterAgg, ids("a"))
		b := domain.NewRunner(store, counterAgg, ids("b"))
		// a caches the counter at 1; b takes it to 2; a's cache is stale.
		if _, _, err := a.Execute(ctx, "c1", meta, add(2)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.Execute(ctx, "c1", meta, add(2)); err != nil {
			t.Fatal(err)
		}
		// Against its cache a would allow this; against the store it is refused.
		_, recs, err := a.Execute(ctx, "c1", meta, add(2))
		if domain.KindOf(err) != domain.KindConflict || len(recs) != 0 {
			t.Fatalf("got %v, %v; want refused", recs, err)
		}
		// And a refusal that only the stale cache makes is not final.
		stale := domain.NewRunner(store, counterAgg, ids("s"))
		if _, err := stale.Load(ctx, "c1"); err != nil {
			t.Fatal(err)
		}
		_, _, err = stale.Execute(ctx, "c1", meta, func(s domain.Snapshot[int]) ([]domain.Event, error) {
			if s.Version < 2 {
				return nil, errors.New("too early")
			}
			return nil, nil
		})
		if err != nil {
			t.Fatalf("decided on the cache alone: %v", err)
		}
	})

	t.Run("execute_new_on_an_existing_id_decides_again_on_what_is_stored", func(t *testing.T) {
		store := memstore.New()
		a := domain.NewRunner(store, counterAgg, ids("a"))
		if _, _, err := a.Execute(ctx, "c1", meta, add(1)); err != nil {
			t.Fatal(err)
		}
		fresh := domain.NewRunner(store, counterAgg, ids("f"))
		_, recs, err := fresh.ExecuteNew(ctx, "c1", meta, add(1))
		if domain.KindOf(err) != domain.KindConflict || len(recs) != 0 {
			t.Fatalf("got %v, %v; want the stored state to refuse", recs, err)
		}
		snap, _, err := fresh.ExecuteNew(ctx, "c2", meta, add(1))
		if err != nil || snap.State != 1 || snap.Version != 1 {
			t.Fatalf("a new aggregate: %+v, %v", snap, err)
		}
	})
}

// TestRunnerCacheIsBoundedInBytes: the cache holds no more than its bytes allow, the
// least recently used leaving first, and what left is read again from the store.
func TestRunnerCacheIsBoundedInBytes(t *testing.T) {
	ctx := context.Background()
	meta := domain.Meta{Actor: domain.Actor{ID: "a", Role: domain.RoleAdmin}}
	store := memstore.New()
	size := func(s int) int { return 1000 + s } // each counter about a kilobyte
	r := domain.NewRunner(store, counterAgg, ids("a"), domain.WithCacheBytes(10_000, size))
	for i := range 50 {
		if _, _, err := r.Execute(ctx, fmt.Sprintf("c%d", i), meta, add(10)); err != nil {
			t.Fatal(err)
		}
		if _, bytes := r.CacheStats(); bytes > 10_000 {
			t.Fatalf("after %d counters the cache holds %d bytes, over its 10 000", i+1, bytes)
		}
	}
	entries, bytes := r.CacheStats()
	if entries != 9 || bytes != 9*1001 {
		t.Errorf("cache: %d entries, %d bytes; want the last 9 counters, 9009 bytes", entries, bytes)
	}
	// The first counter left the cache; it is read again, whole.
	snap, err := r.Load(ctx, "c0")
	if err != nil || snap.State != 1 {
		t.Fatalf("c0 after eviction: %v %v", snap, err)
	}
	r.Forget("c0") // loading it took a place; forgetting it frees it
	if e, b := r.CacheStats(); e != 8 || b != 8*1001 {
		t.Errorf("after Forget: %d entries, %d bytes", e, b)
	}
}
