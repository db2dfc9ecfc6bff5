package jetstream

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/adapters/storetest"
	"github.com/redlane/redlane/domain"
)

// testGroup is a group store with the server it runs on, so that the harness can restart it.
type testGroup struct {
	*GroupStore
	ts *testStore
}

func TestGroupContract(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(tb testing.TB) domain.EventStore {
			ts := newStore(tb)
			return &testGroup{GroupStore: NewGroupStore(ts.Store, GroupConfig{}), ts: ts}
		},
		Reopen: func(tb testing.TB, s domain.EventStore) domain.EventStore {
			tb.Helper()
			tg := s.(*testGroup)
			srv, nc := natstest.Restart(tb, tg.ts.srv)
			ts := &testStore{Store: open(tb, nc), srv: srv}
			return &testGroup{GroupStore: NewGroupStore(ts.Store, GroupConfig{}), ts: ts}
		},
	})
}

func TestGroupCommitsConcurrentAppendsTogether(t *testing.T) {
	ts := newStore(t)
	g := NewGroupStore(ts.Store, GroupConfig{MaxBatch: 8, MinBatch: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const writers, rounds = 24, 10
	type appended struct {
		envs []domain.Envelope
		seqs []uint64
	}
	got := make([]appended, writers)
	ids := make([]string, writers)
	var wg sync.WaitGroup
	var failed atomic.Bool
	for w := range writers {
		ids[w] = storetest.NewID()
		wg.Go(func() {
			var last uint64
			for r := range rounds {
				envs := storetest.Seal(t, storetest.AggType, ids[w], uint64(r), 1)
				seqs, err := g.Append(ctx, storetest.AggType, ids[w], last, envs)
				if err != nil {
					t.Errorf("writer %d round %d: %v", w, r, err)
					failed.Store(true)
					return
				}
				last = seqs[0]
				got[w].envs = append(got[w].envs, envs...)
				got[w].seqs = append(got[w].seqs, seqs...)
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		return
	}
	for w, id := range ids {
		recs, err := g.Load(ctx, storetest.AggType, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != rounds {
			t.Fatalf("writer %d: %d events stored, want %d", w, len(recs), rounds)
		}
		for i, rec := range recs {
			if rec.ID != got[w].envs[i].ID || rec.Seq != got[w].seqs[i] {
				t.Fatalf("writer %d event %d: %s at %d, answered %s at %d", w, i, rec.ID, rec.Seq, got[w].envs[i].ID, got[w].seqs[i])
			}
		}
	}
	st := g.Stats()
	if st.Appends != writers*rounds || st.Batched+st.Alone+st.Fallbacks < st.Appends {
		t.Fatalf("stats %+v do not account for %d appends", st, writers*rounds)
	}
	if st.Batches == 0 {
		t.Fatalf("stats %+v: %d concurrent writers never shared a commit", st, writers)
	}
	t.Logf("%+v", st)
}

// A batch that the server refuses because one of its appends is stale, or is the retry
// of a stored event, still stores every other append, and each gets Store.Append's
// answer; so does a group too small to be a batch, whose appends go one by one.
func TestGroupRefusedBatchAnswersEachAppendAlone(t *testing.T) {
	commit := func(g *GroupStore, batch []*groupAppend) { g.commit(batch) }
	t.Run("batch", func(t *testing.T) { testGroupAnswersEach(t, 2, commit) })
	t.Run("too_few_for_a_batch", func(t *testing.T) { testGroupAnswersEach(t, 16, commit) })
	// A batch sent while it gathers (streamBatch): in chunks, then the rest with the
	// commit, or an end-of-batch marker when nothing is left.
	t.Run("streamed", func(t *testing.T) {
		testGroupAnswersEach(t, 2, func(g *GroupStore, batch []*groupAppend) {
			sb := &streamedBatch{g: g, id: "refused-streamed"}
			defer sb.release()
			sb.send(batch[:1])
			sb.send(batch[1:3])
			sb.commit(batch[3:])
		})
	})
	t.Run("streamed_end_of_batch", func(t *testing.T) {
		testGroupAnswersEach(t, 2, func(g *GroupStore, batch []*groupAppend) {
			sb := &streamedBatch{g: g, id: "refused-streamed-eob"}
			defer sb.release()
			sb.send(batch)
			sb.commit(nil)
		})
	})
}

func testGroupAnswersEach(t *testing.T, minBatch int, commit func(*GroupStore, []*groupAppend)) {
	ts := newStore(t)
	g := NewGroupStore(ts.Store, GroupConfig{MinBatch: minBatch})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const n = 5
	ids := make([]string, n)
	first := make([][]domain.Envelope, n)
	last := make([]uint64, n)
	for i := range ids {
		ids[i] = storetest.NewID()
		first[i] = storetest.Seal(t, storetest.AggType, ids[i], 0, 1)
		seqs, err := ts.Append(ctx, storetest.AggType, ids[i], 0, first[i])
		if err != nil {
			t.Fatal(err)
		}
		last[i] = seqs[0]
	}
	const stale, retry = 1, 3
	var batch []*groupAppend
	for i, id := range ids {
		envs, expected := storetest.Seal(t, storetest.AggType, id, 1, 1), last[i]
		switch i {
		case stale:
			expected = 0
		case retry:
			envs, expected = first[i], 0
		}
		req, err := g.newAppend(ctx, storetest.AggType, id, expected, envs)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, req)
	}
	commit(g, batch)
	for i, req := range batch {
		seqs, err := g.await(ctx, req)
		switch i {
		case stale:
			if !errors.Is(err, domain.ErrConflict) {
				t.Errorf("stale append: %v, want a conflict", err)
			}
		case retry:
			if err != nil || seqs[0] != last[i] {
				t.Errorf("retried append: %v %v, want its first position %d", seqs, err, last[i])
			}
		default:
			if err != nil || seqs[0] <= last[n-1] {
				t.Errorf("append %d: %v %v, want it stored", i, seqs, err)
			}
		}
	}
	for i, id := range ids {
		recs, err := g.Load(ctx, storetest.AggType, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := 2
		if i == stale || i == retry {
			want = 1
		}
		if len(recs) != want {
			t.Errorf("aggregate %d: %d events, want %d", i, len(recs), want)
		}
	}
	st := g.Stats()
	if minBatch <= n && (st.Fallbacks != n || st.Batches != 0) {
		t.Errorf("stats %+v, want %d appends made again alone and no batch", st, n)
	}
	if minBatch > n && (st.Alone != n || st.Fallbacks != 0 || st.Batches != 0) {
		t.Errorf("stats %+v, want %d appends published alone", st, n)
	}
}

// A batch sent while it gathers stores each append where its answer says, in chunks
// and with the end-of-batch marker, and a store that trusts only the writer obeys every
// event: each chunk's proofs lead to its own signed root.
func TestGroupStreamedBatchStoresEachAppend(t *testing.T) {
	for _, rest := range []int{0, 1, 5} {
		t.Run("rest="+strconv.Itoa(rest), func(t *testing.T) {
			signer := GenerateSigner()
			srv, nc := natstest.Start(t)
			s := openWith(t, nc, Config{Signer: signer, Keys: NewKeyring(signer.PublicKey())})
			g := NewGroupStore(s, GroupConfig{MinBatch: 2})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			const n = 2*streamChunk + 7
			var batch []*groupAppend
			for range n {
				id := storetest.NewID()
				req, err := g.newAppend(ctx, storetest.AggType, id, 0, storetest.Seal(t, storetest.AggType, id, 0, 1))
				if err != nil {
					t.Fatal(err)
				}
				batch = append(batch, req)
			}
			sb := &streamedBatch{g: g, id: "streamed-" + strconv.Itoa(rest)}
			sb.send(batch[:1])
			for i := 1; i < n-rest; i += streamChunk {
				sb.send(batch[i:min(i+streamChunk, n-rest)])
			}
			if !sb.commit(batch[n-rest:]) {
				t.Fatalf("streamed batch not stored as one batch: %v", sb.err)
			}
			sb.release()
			reader := openWith(t, natstest.Connect(t, srv), Config{Keys: NewKeyring(signer.PublicKey())})
			var prev uint64
			for i, req := range batch {
				seqs, err := g.await(ctx, req)
				if err != nil {
					t.Fatalf("append %d: %v", i, err)
				}
				if seqs[0] != prev+1 && i > 0 {
					t.Fatalf("append %d at %d after %d: a batch's events are stored in a row", i, seqs[0], prev)
				}
				prev = seqs[0]
				recs, err := reader.Load(ctx, storetest.AggType, req.aggID, 0)
				if err != nil {
					t.Fatalf("append %d: load as a reader trusting the writer: %v", i, err)
				}
				if len(recs) != 1 || recs[0].Seq != seqs[0] || recs[0].ID != req.events[0].ID {
					t.Fatalf("append %d answered %d; stored %+v", i, seqs[0], recs)
				}
			}
			if st := g.Stats(); st.Streamed != 1 || st.Batched != n {
				t.Fatalf("stats %+v, want one streamed batch of %d", st, n)
			}
		})
	}
}

// Under concurrent writers, batches after the first are sent while they gather.
func TestGroupStreamsBatchesUnderLoad(t *testing.T) {
	signer := GenerateSigner()
	_, nc := natstest.Start(t)
	s := openWith(t, nc, Config{Signer: signer, Keys: NewKeyring(signer.PublicKey())})
	g := NewGroupStore(s, GroupConfig{MinBatch: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const writers, rounds = 48, 8
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			id := storetest.NewID()
			var last uint64
			for r := range rounds {
				seqs, err := g.Append(ctx, storetest.AggType, id, last, storetest.Seal(t, storetest.AggType, id, uint64(r), 1))
				if err != nil {
					t.Errorf("round %d: %v", r, err)
					return
				}
				last = seqs[0]
			}
			recs, err := s.Load(ctx, storetest.AggType, id, 0)
			if err != nil || len(recs) != rounds || recs[rounds-1].Seq != last {
				t.Errorf("loaded %d events (%v), want %d ending at %d", len(recs), err, rounds, last)
			}
		})
	}
	wg.Wait()
	st := g.Stats()
	if st.Streamed == 0 || st.Fallbacks != 0 {
		t.Fatalf("stats %+v: want batches sent while they gathered, none refused", st)
	}
	t.Logf("%+v", st)
}

// BenchmarkGroupAppend compares concurrent single-event appenders on Store and on
// GroupStore (one and several commits in flight), with and without fsync before every
// acknowledgement, at 32 and 256 callers.
func BenchmarkGroupAppend(b *testing.B) {
	type setup struct {
		name  string
		group bool
		cfg   GroupConfig
	}
	setups := []setup{
		{"store", false, GroupConfig{}},
		{"group", true, GroupConfig{}},
		{"group_inflight1", true, GroupConfig{MaxInFlight: 1}},
		{"group_inflight4", true, GroupConfig{MaxInFlight: 4}},
	}
	for _, sync := range []bool{true, false} {
		for _, callers := range []int{32, 256} {
			for _, su := range setups {
				b.Run("sync_always="+strconv.FormatBool(sync)+"/callers="+strconv.Itoa(callers)+"/"+su.name, func(b *testing.B) {
					benchGroupAppend(b, sync, callers, su.group, su.cfg)
				})
			}
		}
	}
}

func benchGroupAppend(b *testing.B, sync bool, callers int, group bool, cfg GroupConfig) {
	s := benchStore(b, sync)
	var store domain.EventStore = s
	var gs *GroupStore
	if group {
		gs = NewGroupStore(s, cfg)
		store = gs
	}
	ctx := context.Background()
	b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
	b.RunParallel(func(pb *testing.PB) {
		id := storetest.NewID()
		var last, version uint64
		for pb.Next() {
			envs := storetest.Seal(b, "order", id, version, 1)
			seqs, err := store.Append(ctx, "order", id, last, envs)
			if err != nil {
				b.Error(err)
				return
			}
			last = seqs[0]
			version++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	if gs != nil {
		if st := gs.Stats(); st.Batches > 0 {
			b.ReportMetric(float64(st.Batched)/float64(st.Batches), "events/batch")
			b.ReportMetric(float64(st.Alone)/float64(max(1, st.Appends)), "alone/append")
		}
	}
}

// The adaptive threshold follows the measured costs: n appends go as a batch once n
// publishes would take longer than one batch, and a batch is tried now and then even
// when publishes look cheaper.
func TestGroupCostsPickTheCheaperCommit(t *testing.T) {
	var c groupCosts
	if c.favoursBatch(startMinBatch-1) || !c.favoursBatch(startMinBatch) {
		t.Fatalf("before any measurement the threshold is %d", startMinBatch)
	}
	c.batch(8 * time.Millisecond)
	c.publishes(4, 2*time.Millisecond) // 0.5 ms a publish: a batch pays from 16
	if c.favoursBatch(15) {
		t.Error("15 publishes at 0.5 ms cost less than an 8 ms batch, yet a batch was chosen")
	}
	if !c.favoursBatch(16) {
		t.Error("16 publishes at 0.5 ms cost an 8 ms batch, yet publishes were chosen")
	}
	g := &GroupStore{maxBatch: MaxBatchMessages}
	g.costs.batch(3 * time.Millisecond)
	g.costs.publishes(1, time.Millisecond)
	if got := g.MinBatchNow(); got != 3 {
		t.Errorf("threshold %d, want 3 with 3 ms batches and 1 ms publishes", got)
	}
	tried := 0
	for range exploreEvery {
		if g.costs.favoursBatch(2) {
			tried++
		}
	}
	if tried != 1 {
		t.Errorf("%d batches tried in %d decisions for publishes, want 1", tried, exploreEvery)
	}
}

// TestGroupContractSigned runs the contract on group commit as serve runs it: events
// signed alone or with their batch, and only what a trusted key signed obeyed.
func TestGroupContractSigned(t *testing.T) {
	signer := GenerateSigner()
	cfg := func() Config { return Config{Signer: signer, Keys: NewKeyring(signer.PublicKey())} }
	storetest.Run(t, storetest.Harness{
		New: func(tb testing.TB) domain.EventStore {
			srv, nc := natstest.Start(tb)
			ts := &testStore{Store: openWith(tb, nc, cfg()), srv: srv}
			return &testGroup{GroupStore: NewGroupStore(ts.Store, GroupConfig{MinBatch: 2}), ts: ts}
		},
		Reopen: func(tb testing.TB, s domain.EventStore) domain.EventStore {
			tb.Helper()
			srv, nc := natstest.Restart(tb, s.(*testGroup).ts.srv)
			ts := &testStore{Store: openWith(tb, nc, cfg()), srv: srv}
			return &testGroup{GroupStore: NewGroupStore(ts.Store, GroupConfig{MinBatch: 2}), ts: ts}
		},
	})
}
