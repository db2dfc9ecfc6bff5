package views_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jsviews "github.com/redlane/redlane/adapters/jetstream/views"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/internal/randhist"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/all"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/projections/feed"
	"github.com/redlane/redlane/service"
)

var allViews = all.Views()

type viewWorld struct {
	js    jetstream.JetStream
	store *jsstore.Store
	svc   *service.Service
	dist  *randhist.District
	rng   *rand.Rand
}

// newViewWorld starts a server and a service whose clock moves seven minutes a
// command from 2026-11-29, so histories cross the month's end in Asia/Shanghai.
func newViewWorld(tb testing.TB, seed uint64) *viewWorld {
	tb.Helper()
	return newViewWorldWith(tb, seed, jsstore.Config{})
}

// newViewWorldWith is newViewWorld on a store configured so.
func newViewWorldWith(tb testing.TB, seed uint64, cfg jsstore.Config) *viewWorld {
	tb.Helper()
	_, nc := natstest.Start(tb)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	store, err := jsstore.Open(ctx, js, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	var tick atomic.Int64
	start := time.Date(2026, 11, 29, 1, 0, 0, 0, time.UTC)
	svc := service.New(service.Config{
		Store: store, Catalog: order.DefaultCatalog(), ReceiptKey: []byte("k"),
		Clock: domain.ClockFunc(func() time.Time { return start.Add(time.Duration(tick.Add(1)) * 7 * time.Minute) }),
		NewID: func() string { return uuid.Must(uuid.NewV7()).String() },
	})
	dist, err := randhist.Seed(ctx, svc)
	if err != nil {
		tb.Fatal(err)
	}
	return &viewWorld{js: js, store: store, svc: svc, dist: dist, rng: rand.New(rand.NewPCG(seed, seed*7+1))}
}

func (w *viewWorld) steps(tb testing.TB, n int) {
	tb.Helper()
	for range n {
		if err := w.dist.Step(context.Background(), w.svc, w.rng); err != nil {
			tb.Fatal(err)
		}
	}
}

func (w *viewWorld) views(tb testing.TB, owner string, ttl time.Duration) *jsviews.Views {
	tb.Helper()
	vs, err := jsviews.New(context.Background(), w.js, w.store, jsviews.Config{Owner: owner, LeaseTTL: ttl})
	if err != nil {
		tb.Fatal(err)
	}
	return vs
}

func run(tb testing.TB, vs *jsviews.Views) context.CancelFunc {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = vs.Run(ctx, allViews...) }()
	tb.Cleanup(func() { cancel(); <-done })
	return cancel
}

func waitCaughtUp(tb testing.TB, vs *jsviews.Views) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, nv := range allViews {
		for {
			ok, err := vs.CaughtUp(context.Background(), nv())
			if err != nil {
				tb.Fatal(err)
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("view %s did not catch up", nv().Name())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// assertEqualsRebuild checks that every view as stored equals the view folded from
// nothing out of the log, document by document, and that the feed holds exactly the
// entries a fold makes.
func assertEqualsRebuild(tb testing.TB, w *viewWorld, vs *jsviews.Views) {
	tb.Helper()
	ctx := context.Background()
	for _, nv := range allViews {
		diffs, err := vs.Diff(ctx, nv)
		if err != nil {
			tb.Fatal(err)
		}
		for _, d := range diffs {
			tb.Error(d)
		}
	}
	// The feed: a fold's entries, in order, against the stream's.
	fv := feed.New()
	var wantEntries []feed.Entry
	err := w.store.ReadAll(ctx, 1, func(rec domain.Recorded) error {
		ev, err := projections.Events.Decode(rec.Envelope)
		if err != nil {
			return nil // passed over, as every fold does
		}
		fv.Apply(rec, ev)
		wantEntries = append(wantEntries, fv.Take()...)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	var got []feed.Entry
	var after uint64
	for {
		page, err := vs.Feed(ctx, feed.Query{After: after, Limit: 500})
		if err != nil {
			tb.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1].Seq
	}
	if len(got) != len(wantEntries) {
		tb.Fatalf("feed holds %d entries, a fold makes %d", len(got), len(wantEntries))
	}
	for i := range got {
		if got[i].Seq != wantEntries[i].Seq || got[i].Text != wantEntries[i].Text || got[i].EventID != wantEntries[i].EventID {
			tb.Fatalf("feed entry %d: %+v, want %+v", i, got[i], wantEntries[i])
		}
	}
}

func TestLiveViewsEqualRebuild(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run("seed_"+string(rune('0'+seed)), func(t *testing.T) {
			w := newViewWorld(t, seed)
			vs := w.views(t, "a", 2*time.Second)
			run(t, vs)
			w.steps(t, 150)
			waitCaughtUp(t, vs)
			w.steps(t, 100) // and more while it follows live
			waitCaughtUp(t, vs)
			assertEqualsRebuild(t, w, vs)
		})
	}
}

func TestRebuildSwitchesGenerationsWhileLive(t *testing.T) {
	w := newViewWorld(t, 9)
	vs := w.views(t, "a", 2*time.Second)
	run(t, vs)
	w.steps(t, 120)
	waitCaughtUp(t, vs)
	ctx := context.Background()
	for _, nv := range allViews {
		var last uint64
		bucket, err := vs.Rebuild(ctx, nv, func(done, total uint64) { last = total })
		if err != nil {
			t.Fatal(err)
		}
		if want := "REDLANE_VIEW_" + map[string]string{"backlog": "BACKLOG", "records": "RECORDS", "feed": "FEED", "reports": "REPORTS"}[nv().Name()] + "_2"; bucket != want {
			t.Errorf("rebuilt into %s, want %s", bucket, want)
		}
		if last == 0 {
			t.Errorf("view %s: no progress reported", nv().Name())
		}
	}
	w.steps(t, 80) // the writer moves to the new generation and goes on
	waitCaughtUp(t, vs)
	assertEqualsRebuild(t, w, vs)
}

func TestAnotherWriterTakesOver(t *testing.T) {
	w := newViewWorld(t, 5)
	a := w.views(t, "process-a", time.Second)
	b := w.views(t, "process-b", time.Second)
	killA := run(t, a)
	time.Sleep(100 * time.Millisecond) // let a take the leases first
	run(t, b)
	w.steps(t, 100)
	killA() // a dies mid-stream: its leases run out, b takes over
	w.steps(t, 100)
	waitCaughtUp(t, b)
	assertEqualsRebuild(t, w, b)
}

func TestBacklogReadsAsDocumentedJSON(t *testing.T) {
	w := newViewWorld(t, 11)
	vs := w.views(t, "a", 2*time.Second)
	run(t, vs)
	w.steps(t, 60)
	waitCaughtUp(t, vs)
	// A reporting job in any language: find the bucket, then read the key.
	ctx := context.Background()
	ptrs, err := w.js.KeyValue(ctx, jsviews.PointerBucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ptrs.Get(ctx, "backlog")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(e.Value(), []byte(`"bucket":"REDLANE_VIEW_BACKLOG_1"`)) {
		t.Fatalf("pointer %s", e.Value())
	}
	kv, err := w.js.KeyValue(ctx, "REDLANE_VIEW_BACKLOG_1")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := kv.Get(ctx, "lane.rouqiao-houxiang")
	if err != nil {
		t.Fatal(err)
	}
	// The checkpoint is written after the documents it covers: a reader that watches the
	// bucket and sees it has seen them.
	if cp, err := kv.Get(ctx, "_checkpoint"); err != nil || cp.Revision() < doc.Revision() {
		t.Errorf("the checkpoint (revision %v, %v) comes before a document it covers (revision %d)", cp, err, doc.Revision())
	}
	for _, field := range []string{`"lane":"rouqiao-houxiang"`, `"counts":{`, `"open":`, `"live":`, `"name":"柔桥后巷"`} {
		if !bytes.Contains(doc.Value(), []byte(field)) {
			t.Errorf("backlog document lacks %s: %s", field, doc.Value())
		}
	}
}

// TestViewsPassOverForgedMessages: a message put on an event subject by hand, which is
// no event, neither stalls the views nor breaks a rebuild (audit verify names it).
func TestViewsPassOverForgedMessages(t *testing.T) {
	w := newViewWorld(t, 13)
	vs := w.views(t, "a", 2*time.Second)
	run(t, vs)
	w.steps(t, 30)
	if _, err := w.js.Publish(context.Background(), "redlane.events.order.forged", []byte("not an event")); err != nil {
		t.Fatal(err)
	}
	w.steps(t, 30)
	waitCaughtUp(t, vs)
	assertEqualsRebuild(t, w, vs)
}

// TestAViewThatCannotBeWrittenIsNotReady: while a view's writer cannot write, Ready says
// so, the metric shows it, and once it can (a rebuild gives it a bucket again) Ready is
// satisfied again, with no restart.
func TestAViewThatCannotBeWrittenIsNotReady(t *testing.T) {
	w := newViewWorld(t, 43)
	reg := prometheus.NewRegistry()
	vs, err := jsviews.New(context.Background(), w.js, w.store, jsviews.Config{Owner: "a", LeaseTTL: time.Second, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	run(t, vs)
	w.steps(t, 10)
	waitCaughtUp(t, vs)
	ctx := context.Background()
	if err := vs.Ready(ctx, allViews); err != nil {
		t.Fatalf("ready: %v", err)
	}
	// The backlog's bucket goes away under its writer, as a lost disk would take it.
	if err := w.js.DeleteKeyValue(ctx, "REDLANE_VIEW_BACKLOG_1"); err != nil {
		t.Fatal(err)
	}
	w.steps(t, 5)
	failing := func() float64 {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == "redlane_view_writer_failing" {
				for _, m := range mf.GetMetric() {
					if m.GetLabel()[0].GetValue() == "backlog" {
						return m.GetGauge().GetValue()
					}
				}
			}
		}
		return -1
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err := vs.Ready(ctx, allViews)
		if err != nil && strings.Contains(err.Error(), "backlog") && failing() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a view that cannot be written: ready says %v, the gauge %v", err, failing())
		}
	}
	var backlog func() projections.View
	for _, nv := range allViews {
		if nv().Name() == "backlog" {
			backlog = nv
		}
	}
	if _, err := vs.Rebuild(ctx, backlog, nil); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err := vs.Ready(ctx, allViews)
		if err == nil && failing() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the rebuild: ready says %v, the gauge %v", err, failing())
		}
	}
}

// teleported is an event type this version of Redlane does not know: one a newer
// version might write.
type teleported struct {
	To string `json:"to"`
}

func (teleported) EventType() string { return "redlane.order.teleported.v1" }

// TestAnUnknownEventIsPassedOverAlike: a well-formed event of a type the views cannot
// decode is passed over by the live writer, a rebuild and verify alike, and they agree.
func TestAnUnknownEventIsPassedOverAlike(t *testing.T) {
	w := newViewWorld(t, 17)
	vs := w.views(t, "a", 2*time.Second)
	run(t, vs)
	w.steps(t, 30)
	ctx := context.Background()
	id := uuid.Must(uuid.NewV7()).String()
	envs, err := domain.Seal(order.AggregateType, id, 0, []domain.Event{teleported{To: "月球"}}, []string{uuid.Must(uuid.NewV7()).String()},
		domain.Meta{Actor: domain.Actor{Role: domain.RoleSystem}, Time: time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.store.Append(ctx, order.AggregateType, id, 0, envs); err != nil {
		t.Fatal(err)
	}
	w.steps(t, 30)
	waitCaughtUp(t, vs)
	assertEqualsRebuild(t, w, vs) // verify's comparison: a fold from the log agrees with the live views
	for _, nv := range allViews {
		if _, err := vs.Rebuild(ctx, nv, nil); err != nil {
			t.Fatalf("rebuild %s: %v", nv().Name(), err)
		}
	}
	waitCaughtUp(t, vs)
	assertEqualsRebuild(t, w, vs)
}

func TestShortDiffNamesTheFields(t *testing.T) {
	got := jsviews.ShortDiff([]byte(`{"a":1,"b":{"c":"x","d":[1,2]},"e":"same"}`), []byte(`{"a":2,"b":{"c":"y","d":[1,3]},"e":"same","f":true}`))
	want := `a: 1 → 2; b.c: "x" → "y"; b.d[1]: 2 → 3; f: null → true`
	if got != want {
		t.Errorf("ShortDiff = %s\nwant %s", got, want)
	}
	long := `{"title":"` + strings.Repeat("长", 200) + `"}`
	if got := jsviews.ShortDiff([]byte(long), []byte(`{"title":"短"}`)); len([]rune(got)) > 140 {
		t.Errorf("a long value is not cut: %d runes", len([]rune(got)))
	}
}

// TestAStuckViewIsReported: when no writer moves a view that trails the log, Ready says
// so after StallAfter, and again ready once a writer catches up.
func TestAStuckViewIsReported(t *testing.T) {
	w := newViewWorld(t, 19)
	ctx := context.Background()
	vs, err := jsviews.New(ctx, w.js, w.store, jsviews.Config{Owner: "a", LeaseTTL: time.Second, StallAfter: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, vs)
	w.steps(t, 20)
	waitCaughtUp(t, vs)
	if err := vs.Ready(ctx, allViews); err != nil {
		t.Fatalf("caught up, but not ready: %v", err)
	}
	stop() // the writer dies; events keep coming
	w.steps(t, 20)
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := vs.Ready(ctx, allViews)
		if err != nil && strings.Contains(err.Error(), "stuck") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a view nobody writes is not reported stuck: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	other, err := jsviews.New(ctx, w.js, w.store, jsviews.Config{Owner: "b", LeaseTTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	run(t, other)
	waitCaughtUp(t, other)
	if err := vs.Ready(ctx, allViews); err != nil {
		t.Errorf("another writer caught up, still not ready: %v", err)
	}
}

// TestAViewReadIsOneRequest: reading view documents costs one NATS request each, not a
// lookup of the view's bucket every time.
func TestAViewReadIsOneRequest(t *testing.T) {
	w := newViewWorld(t, 23)
	vs := w.views(t, "a", 2*time.Second)
	run(t, vs)
	w.steps(t, 10)
	waitCaughtUp(t, vs)
	ctx := context.Background()
	if _, err := vs.Get(ctx, backlog.Name, "_checkpoint"); err != nil { // the first read finds the bucket
		t.Fatal(err)
	}
	nc := w.js.Conn()
	before := nc.Stats().OutMsgs
	const reads = 50
	for range reads {
		if _, err := vs.Get(ctx, backlog.Name, backlog.LaneKey("rouqiao-houxiang")); err != nil {
			t.Fatal(err)
		}
	}
	// The writer runs on the same connection: allow it a little traffic of its own.
	if sent := nc.Stats().OutMsgs - before; sent > reads+reads/2 {
		t.Errorf("%d reads sent %d messages", reads, sent)
	}
}
