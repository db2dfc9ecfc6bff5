package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/internal/worker"
)

const ttl = 500 * time.Millisecond

// store is where the test job keeps its work and its checkpoint, together: the seqs it
// handled, in order, and the last one.
type store struct {
	mu     sync.Mutex
	cp     uint64
	seen   []uint64
	active atomic.Int32 // Handles under way now, in any worker
	idles  atomic.Int32
}

func (s *store) checkpoint() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cp
}

// job is a Job over a store. It fails its first fail batches, and checks each batch
// follows the checkpoint with no gap.
type job struct {
	t      *testing.T
	st     *store
	fail   atomic.Int32
	before func(worker.Batch) // called first in Handle
	slow   time.Duration
}

func (j *job) Resume(context.Context) (uint64, error) { return j.st.checkpoint(), nil }

func (j *job) Idle(context.Context) error {
	j.st.idles.Add(1)
	return nil
}

func (j *job) Handle(_ context.Context, b worker.Batch) error {
	if n := j.st.active.Add(1); n > 1 {
		j.t.Errorf("%d workers handle batches at once", n)
	}
	defer j.st.active.Add(-1)
	if j.before != nil {
		j.before(b)
	}
	time.Sleep(j.slow)
	if j.fail.Add(-1) >= 0 {
		return fmt.Errorf("staged failure")
	}
	j.st.mu.Lock()
	defer j.st.mu.Unlock()
	for _, m := range b.Msgs {
		seq := worker.Seq(m)
		if seq != j.st.cp+1 {
			j.t.Errorf("handed %d after checkpoint %d", seq, j.st.cp)
		}
		j.st.seen = append(j.st.seen, seq)
		j.st.cp = seq
	}
	return nil
}

type world struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	leases jetstream.KeyValue
	n      int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	_, nc := natstest.Start(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}})
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "LEASES"})
	if err != nil {
		t.Fatal(err)
	}
	return &world{js: js, stream: st, leases: kv}
}

func (w *world) publish(t *testing.T, n int) {
	t.Helper()
	for range n {
		w.n++
		if _, err := w.js.Publish(context.Background(), "t.x", fmt.Appendf(nil, "%d", w.n)); err != nil {
			t.Fatal(err)
		}
	}
}

func (w *world) config(owner, durable string) worker.Config {
	return worker.Config{
		Name: "test worker", JS: w.js, LeaseBucket: "LEASES", LeaseKey: "job", Owner: owner, LeaseTTL: ttl,
		Stream: w.stream, Consumer: jetstream.ConsumerConfig{Durable: durable, FilterSubjects: []string{"t.>"}},
		Batch: 7, Wait: 50 * time.Millisecond,
	}
}

// start runs a worker until the returned stop is called (stop waits for it to end).
func start(t *testing.T, cfg worker.Config, j worker.Job) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = worker.New(cfg, j).Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// assertOnce checks the store holds 1..n, each once, in order.
func assertOnce(t *testing.T, st *store, n int) {
	t.Helper()
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.seen) != n {
		t.Fatalf("handled %d messages, want %d: %v", len(st.seen), n, st.seen)
	}
	for i, seq := range st.seen {
		if seq != uint64(i+1) {
			t.Fatalf("handled %v, want 1..%d in order", st.seen, n)
		}
	}
}

func TestResumesFromTheCheckpoint(t *testing.T) {
	for _, durable := range []string{"durable-job", ""} {
		name := "durable"
		if durable == "" {
			name = "ordered"
		}
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			st := &store{}
			w.publish(t, 20)
			stop := start(t, w.config("a", durable), &job{t: t, st: st})
			waitFor(t, "the first 20 are handled", func() bool { return st.checkpoint() == 20 })
			stop()
			w.publish(t, 15)
			var first atomic.Uint64
			start(t, w.config("a", durable), &job{t: t, st: st, before: func(b worker.Batch) {
				first.CompareAndSwap(0, worker.Seq(b.Msgs[0]))
			}})
			waitFor(t, "all 35 are handled", func() bool { return st.checkpoint() == 35 })
			if first.Load() != 21 {
				t.Errorf("the second term began at %d, want 21", first.Load())
			}
			assertOnce(t, st, 35)
		})
	}
}

func TestNothingIsAcknowledgedBeforeItIsStored(t *testing.T) {
	w := newWorld(t)
	st := &store{}
	w.publish(t, 30)
	var firsts []uint64
	var mu sync.Mutex
	j := &job{t: t, st: st, before: func(b worker.Batch) {
		mu.Lock()
		firsts = append(firsts, worker.Seq(b.Msgs[0]))
		mu.Unlock()
		cons, err := w.stream.Consumer(context.Background(), "durable-job")
		if err != nil {
			t.Error(err)
			return
		}
		info, err := cons.Info(context.Background())
		if err != nil {
			t.Error(err)
			return
		}
		if info.AckFloor.Stream >= worker.Seq(b.Msgs[0]) {
			t.Errorf("acknowledged up to %d before batch from %d was stored", info.AckFloor.Stream, worker.Seq(b.Msgs[0]))
		}
	}}
	j.fail.Store(2) // the first two batches fail
	start(t, w.config("a", "durable-job"), j)
	waitFor(t, "all 30 are handled", func() bool { return st.checkpoint() == 30 })
	assertOnce(t, st, 30)
	mu.Lock()
	defer mu.Unlock()
	if len(firsts) < 3 || firsts[0] != 1 || firsts[1] != 1 || firsts[2] != 1 {
		t.Errorf("batches began at %v: a failed batch was not handed over again", firsts)
	}
}

func TestALostLeaseStopsTheWork(t *testing.T) {
	w := newWorld(t)
	st := &store{}
	w.publish(t, 10)
	start(t, w.config("a", "durable-job"), &job{t: t, st: st})
	waitFor(t, "the first 10 are handled", func() bool { return st.checkpoint() == 10 })
	// Another process takes the lease, as it would one that ran out while this one
	// stalled.
	body, _ := json.Marshal(map[string]any{"owner": "thief", "until": time.Now().Add(time.Hour).UTC()})
	if _, err := w.leases.Put(context.Background(), "job", body); err != nil {
		t.Fatal(err)
	}
	time.Sleep(ttl) // a renewal falls due within a third of it
	w.publish(t, 10)
	time.Sleep(3 * ttl)
	if cp := st.checkpoint(); cp != 10 {
		t.Fatalf("the worker went on to %d after its lease was lost", cp)
	}
	if e, err := w.leases.Get(context.Background(), "job"); err != nil || string(e.Value()) != string(body) {
		t.Fatalf("the thief's lease was touched: %v", err)
	}
}

func TestOneWorkerAtATime(t *testing.T) {
	w := newWorld(t)
	st := &store{}
	stops := map[string]func(){}
	for _, owner := range []string{"a", "b"} {
		stops[owner] = start(t, w.config(owner, "durable-job"), &job{t: t, st: st, slow: 5 * time.Millisecond})
	}
	w.publish(t, 40)
	waitFor(t, "40 are handled", func() bool { return st.checkpoint() == 40 })
	e, err := w.leases.Get(context.Background(), "job")
	if err != nil {
		t.Fatal(err)
	}
	var held struct{ Owner string }
	_ = json.Unmarshal(e.Value(), &held)
	// The holder stops gracefully, handing the lease back; the other takes over.
	stops[held.Owner]()
	w.publish(t, 40)
	waitFor(t, "80 are handled", func() bool { return st.checkpoint() == 80 })
	assertOnce(t, st, 80)
}

func TestIdleTicks(t *testing.T) {
	w := newWorld(t)
	st := &store{}
	start(t, w.config("a", ""), &job{t: t, st: st})
	waitFor(t, "the idle job ticks", func() bool { return st.idles.Load() >= 3 })
}
