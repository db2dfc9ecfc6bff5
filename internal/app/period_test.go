package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	jsaudit "github.com/redlane/redlane/adapters/jetstream/audit"
	jsviews "github.com/redlane/redlane/adapters/jetstream/views"
	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/feed"
	"github.com/redlane/redlane/service"
)

// rollWorld is a district on a signed log with orders in every state.
type rollWorld struct {
	js      jetstream.JetStream
	signer  *jsstore.Signer
	store   *jsstore.Store
	svc     *service.Service
	steward domain.Actor
	orders  map[string]string // state → order id
}

func newRollWorld(t *testing.T) *rollWorld {
	t.Helper()
	_, nc := natstest.Start(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w := &rollWorld{js: js, signer: jsstore.GenerateSigner(), orders: map[string]string{}}
	w.store = w.open(t, jsstore.DefaultStream, jsstore.Config{})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// A second writer, introduced on the log by the first: its events must be obeyed
	// in the next period as in this one.
	second := jsstore.GenerateSigner()
	intro, err := jsstore.Introduction(second.PublicKey(), "second", uuid.Must(uuid.NewV7()).String(), time.Now())
	must(err)
	_, err = w.store.Append(ctx, jsstore.SignerAggregate, second.KeyID(), 0, []domain.Envelope{intro})
	must(err)
	secondStore := w.open(t, jsstore.DefaultStream, jsstore.Config{Signer: second})
	w.svc = w.service(w.store)
	admin := w.svc.Meta(service.Admin, "")
	_, err = w.svc.RegisterLane(ctx, admin, "rouqiao", lane.Register{Name: "柔桥后巷", Community: "taoyuan", Street: "dongcheng"})
	must(err)
	_, err = w.svc.RegisterMember(ctx, admin, "m-001", member.Register{Name: "李明", Community: "taoyuan"})
	must(err)
	_, err = w.service(secondStore).RegisterMember(ctx, admin, "m-002", member.Register{Name: "刘洋", Community: "taoyuan"})
	must(err)
	w.steward = domain.Actor{ID: "tok-steward", Name: "王芳", Role: domain.RoleSteward, Lanes: []string{"rouqiao"}}
	li := domain.Actor{ID: "tok-member", Name: "李明", Role: domain.RoleMember, Member: "m-001"}
	yes := true
	for _, state := range []string{"open", "dispatched", "completed", "closed", "cancelled"} {
		snap, _, err := w.svc.Submit(ctx, w.svc.Meta(service.Resident, ""), service.SubmitRequest{LaneID: "rouqiao", Submit: order.Submit{
			Category: "repair", Title: "楼道灯不亮了 " + state, Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"}}})
		must(err)
		w.orders[state] = snap.ID
		act := func(a domain.Actor, cmd order.Command) {
			t.Helper()
			_, err := w.svc.Act(ctx, w.svc.Meta(a, ""), snap.ID, cmd, 0)
			must(err)
		}
		switch state {
		case "cancelled":
			act(w.steward, order.Cancel{Reason: "重复提交"})
			continue
		case "open":
			continue
		}
		act(w.steward, order.Dispatch{Member: order.MemberRef{ID: "m-001"}})
		if state == "dispatched" {
			continue
		}
		act(li, order.Accept{})
		act(li, order.Complete{Note: "换了感应灯", Minutes: 40})
		if state == "closed" {
			act(service.Resident, order.Rate{Solved: &yes, Stars: 5})
		}
	}
	return w
}

// open opens a store on stream that trusts only the first writer's key (pinned), as a
// new process does.
func (w *rollWorld) open(t *testing.T, stream string, cfg jsstore.Config) *jsstore.Store {
	t.Helper()
	cfg.Stream = stream
	if cfg.Signer == nil {
		cfg.Signer = w.signer
	}
	cfg.Keys = jsstore.NewKeyring(w.signer.PublicKey())
	st, err := jsstore.Open(context.Background(), w.js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (w *rollWorld) service(store *jsstore.Store) *service.Service {
	return service.New(service.Config{Store: store, Catalog: order.DefaultCatalog(), ReceiptKey: []byte("k"),
		Clock: domain.ClockFunc(time.Now), NewID: func() string { return uuid.Must(uuid.NewV7()).String() }})
}

// runViews runs the views' writers on store until the test's cleanup or stop, and
// waits until they have caught up.
func runViews(t *testing.T, js jetstream.JetStream, store *jsstore.Store) (*jsviews.Views, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	vs, err := jsviews.New(ctx, js, store, jsviews.Config{Owner: "test", LeaseTTL: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = vs.Run(ctx, Views()...) })
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	settle(t, vs)
	return vs, stop
}

func settle(t *testing.T, vs *jsviews.Views) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for _, nv := range Views() {
		for {
			ok, err := vs.CaughtUp(context.Background(), nv())
			if err == nil && ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("view %s did not catch up: %v", nv().Name(), err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func dumpAll(t *testing.T, vs *jsviews.Views) map[string]map[string][]byte {
	t.Helper()
	out := map[string]map[string][]byte{}
	for _, name := range ViewNames() {
		d, err := vs.Dump(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = d
	}
	return out
}

func subjectsOf(t *testing.T, js jetstream.JetStream, stream string) map[string]uint64 {
	t.Helper()
	st, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background(), jetstream.WithSubjectFilter(">"))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Subjects
}

// A roll carries what is live and leaves the rest in the sealed period; the views,
// the audit chain and the orders' concurrency go on in the next period as if nothing
// had happened.
func TestPeriodRoll(t *testing.T) {
	w := newRollWorld(t)
	ctx := context.Background()
	vs, stopViews := runViews(t, w.js, w.store)
	before := dumpAll(t, vs)
	stopViews()

	lc := &Log{JS: w.js, Store: w.store, Close: func() {}}
	rep, err := RollPeriod(ctx, lc, RollOptions{To: "REDLANE_2027_01", CatchUp: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("roll: %+v", rep)
	if rep.Orders != 3 || rep.LeftBehind != 2 {
		t.Errorf("carried %d orders and left %d behind, want 3 and 2", rep.Orders, rep.LeftBehind)
	}
	if cur, err := jsstore.CurrentStream(ctx, w.js); err != nil || cur != "REDLANE_2027_01" {
		t.Fatalf("current stream %q (%v)", cur, err)
	}

	// The new stream holds the subjects of what is live only: that is the point.
	oldSubjects, newSubjects := subjectsOf(t, w.js, jsstore.DefaultStream), subjectsOf(t, w.js, "REDLANE_2027_01")
	for _, state := range []string{"closed", "cancelled"} {
		if _, ok := newSubjects[w.store.Subject(order.AggregateType, w.orders[state])]; ok {
			t.Errorf("the %s order was carried", state)
		}
	}
	if len(newSubjects) != len(oldSubjects)-2 || rep.Subjects != len(newSubjects) {
		t.Errorf("the new period holds %d subjects (reported %d), the old %d: want two fewer", len(newSubjects), rep.Subjects, len(oldSubjects))
	}
	for subj, n := range newSubjects {
		if oldSubjects[subj] != n {
			t.Errorf("%s: %d events carried of %d", subj, n, oldSubjects[subj])
		}
	}

	// The old period takes nothing any more.
	if _, err := w.js.Publish(ctx, jsstore.SealedSubjectRoot+"."+jsstore.DefaultStream, []byte("x")); err == nil {
		t.Error("the sealed period took a message")
	}
	if p, err := w.store.Period(ctx); err != nil || !p.Sealed {
		t.Errorf("the old period is not sealed: %+v %v", p, err)
	}

	// The next period, as a new process opens it: copies verify under the same keys
	// (the second writer's through its carried introduction).
	next := w.open(t, "REDLANE_2027_01", jsstore.Config{})
	member, err := next.Load(ctx, member.AggregateType, "m-002", 0)
	if err != nil || len(member) != 1 {
		t.Fatalf("the second writer's member in the next period: %d events, %v", len(member), err)
	}
	if recs, err := next.Load(ctx, order.AggregateType, w.orders["closed"], 0); err != nil || len(recs) != 0 {
		t.Errorf("the closed order is in the next period: %d events, %v", len(recs), err)
	}
	open, err := next.Load(ctx, order.AggregateType, w.orders["open"], 0)
	if err != nil || len(open) != 1 {
		t.Fatalf("the open order in the next period: %d events, %v", len(open), err)
	}
	// An append at a position of the old period is a conflict; the order's next command
	// goes through at its position in the new one.
	stale := open[0].Envelope
	stale.ID, stale.Version = uuid.Must(uuid.NewV7()).String(), 2
	if _, err := next.Append(ctx, order.AggregateType, w.orders["open"], open[0].Seq+1000, []domain.Envelope{stale}); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("an append at a stale position: %v, want a conflict", err)
	}

	// The views go on in the next period from the last copy: nothing applied twice.
	vs2, _ := runViews(t, w.js, next)
	if after := dumpAll(t, vs2); !equalDumps(before, after) {
		t.Errorf("the views changed by the roll alone:\n%s", describeDumps(before, after))
	}
	if cp, err := vs2.Checkpoint(ctx, "backlog"); err != nil || cp != rep.CarriedUpto {
		t.Errorf("backlog checkpoint %d (%v), want the last copy %d", cp, err, rep.CarriedUpto)
	}
	svc := w.service(next)
	// Its directory comes from the next period alone, as a serving process's does.
	if err := next.ReadAll(ctx, 1, func(rec domain.Recorded) error {
		if slices.Contains(service.DirectoryTypes, rec.AggregateType) {
			return svc.Dir.Apply(rec)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	snap, err := svc.Act(ctx, svc.Meta(w.steward, ""), w.orders["open"], order.Dispatch{Member: order.MemberRef{ID: "m-001"}}, 0)
	if err != nil || snap.Version != 2 || snap.Seq <= rep.CarriedUpto {
		t.Fatalf("the open order's next command: version %d at %d (%v)", snap.Version, snap.Seq, err)
	}
	if _, _, err := svc.Submit(ctx, svc.Meta(service.Resident, ""), service.SubmitRequest{LaneID: "rouqiao", Submit: order.Submit{
		Category: "repair", Title: "新的诉求", Requester: order.Requester{Name: "赵", Phone: "13812345679"}}}); err != nil {
		t.Fatal(err)
	}
	settle(t, vs2)
	// The views restored after the roll take the next period's events, whose positions
	// start again below the old period's (the old stream here is longer than the carry).
	if p, err := w.store.LastSeq(ctx); err != nil || p <= snap.Seq {
		t.Fatalf("the old stream ends at %d (%v): the test needs it longer than the carry and the dispatch (%d)", p, err, snap.Seq)
	}
	doc, err := vs2.Get(ctx, "backlog", "order."+w.orders["open"])
	if err != nil || !strings.Contains(string(doc), `"status":"dispatched"`) {
		t.Errorf("the backlog after the roll missed the dispatch at %d: %s (%v)", snap.Seq, doc, err)
	}
	// The feed runs on across the roll: a terminal that last saw the old period's last
	// entry gets the next period's entries, whose positions start again lower; one
	// that saw a next-period entry gets those after it.
	all, err := vs2.Feed(ctx, feed.Query{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	drop := -1
	for i := 1; i < len(all); i++ {
		if all[i].Seq < all[i-1].Seq {
			drop = i
			break
		}
	}
	if drop <= 0 {
		t.Fatalf("no entries of the next period after the old one's in the feed: %+v", all)
	}
	for _, c := range []struct {
		after uint64
		want  []feed.Entry
	}{{all[drop-1].Seq, all[drop:]}, {all[drop].Seq, all[drop+1:]}} {
		got, err := vs2.Feed(ctx, feed.Query{After: c.after, Limit: 500})
		if err != nil || len(got) != len(c.want) || (len(got) > 0 && got[0].Seq != c.want[0].Seq) {
			t.Errorf("feed after %d: %d entries (%v), want %d from %d", c.after, len(got), err, len(c.want), c.want[0].Seq)
		}
	}
	// The views equal a fold of both periods from nothing.
	for _, nv := range Views() {
		diffs, err := vs2.Diff(ctx, nv)
		if err != nil {
			t.Fatal(err)
		}
		if len(diffs) > 0 {
			t.Errorf("view %s differs from a rebuild across both periods:\n%s", nv().Name(), strings.Join(diffs, "\n"))
		}
	}

	// A rebuild from nothing folds both periods and lands where the writer stands.
	rebuilt := dumpAll(t, vs2)
	if err := RebuildViews(ctx, &Log{JS: w.js, Store: next}, 1, Views(), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := dumpAll(t, vs2); !equalDumps(rebuilt, got) {
		t.Errorf("a rebuild across both periods differs from the views:\n%s", describeDumps(rebuilt, got))
	}
	// audit replay folds both periods too: replayed to now, every view is as it stands.
	replayed, err := vs2.Replay(ctx, time.Now().Add(time.Minute), Views(), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if replayed.Stream != "REDLANE_2027_01" || replayed.Seq <= rep.CarriedUpto {
		t.Errorf("replay ended at %s %d, want past the copies (%d) in the next period", replayed.Stream, replayed.Seq, rep.CarriedUpto)
	}
	for view, docs := range rebuilt {
		if len(replayed.Keys[view]) != len(docs) {
			t.Errorf("replay of %s holds %d documents, the views %d", view, len(replayed.Keys[view]), len(docs))
		}
		for k, doc := range docs {
			if got := replayed.Doc(view, k); string(got) != string(doc) {
				t.Errorf("replay of %s %s: %s", view, k, jsviews.ShortDiff(doc, got))
			}
		}
	}
	// audit export writes each event once, from the period it was first stored in.
	var exported bytes.Buffer
	n, _, err := ExportEvents(ctx, next, time.Time{}, time.Now().Add(time.Minute), &exported, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids, streams := map[string]bool{}, map[string]int{}
	for line := range strings.Lines(exported.String()) {
		var ev struct {
			Seq                     uint64
			Stream, ID, AggregateID string
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		if ids[ev.ID] {
			t.Errorf("event %s exported twice", ev.ID)
		}
		ids[ev.ID] = true
		streams[ev.Stream]++
		if ev.AggregateID == w.orders["closed"] && ev.Stream != jsstore.DefaultStream {
			t.Errorf("the closed order's event from %s at %d", ev.Stream, ev.Seq)
		}
	}
	oldEvents, newEvents := 0, 0
	for _, pair := range []struct {
		store *jsstore.Store
		from  uint64
		count *int
	}{{w.store, 1, &oldEvents}, {next, rep.CarriedUpto + 1, &newEvents}} {
		if err := pair.store.ReadAll(ctx, pair.from, func(domain.Recorded) error { *pair.count++; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if int(n) != len(ids) || streams[jsstore.DefaultStream] != oldEvents || streams["REDLANE_2027_01"] != newEvents || newEvents == 0 {
		t.Errorf("exported %d events %v, want %d from the first period and %d after the copies", n, streams, oldEvents, newEvents)
	}
	if err := RebuildViews(ctx, lc, 1, Views(), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "follow the current period") {
		t.Errorf("a rebuild on the old period's stream: %v, want a refusal", err)
	}

	// The audit chain goes on across the periods.
	verify := func() *jsaudit.VerifyReport {
		t.Helper()
		r, err := jsaudit.Verify(ctx, w.js, w.open(t, "REDLANE_2027_01", jsstore.Config{ReadOnly: true}), jsaudit.VerifyConfig{Keys: jsstore.NewKeyring(w.signer.PublicKey())})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := verify(); !r.OK() || r.Link == nil || r.Link.Status != "ok" || r.Link.Prev != jsstore.DefaultStream || r.Link.PrevUpto != rep.FromLast {
		t.Fatalf("verify the next period: ok %v, link %+v, problems %+v", r.OK(), r.Link, r.Problems)
	}
	if r, err := jsaudit.Verify(ctx, w.js, w.store, jsaudit.VerifyConfig{Keys: jsstore.NewKeyring(w.signer.PublicKey())}); err != nil || !r.OK() || r.SealedUpto != rep.FromLast {
		t.Fatalf("verify the old period: %+v %v", r, err)
	}
	// A later seal put over the old period's final one (a rewritten history) breaks the link.
	forged, _ := json.Marshal(jsaudit.Seal{Stream: jsstore.DefaultStream, Upto: rep.FromLast + 1, Count: rep.FromLast + 1, Chain: strings.Repeat("0", 64), Prev: rep.FromLast, At: time.Now()})
	m := nats.NewMsg(jsaudit.SealSubjectRoot + "." + jsstore.DefaultStream)
	m.Data = forged
	m.Header.Set(jsstore.HeaderSignature, w.signer.SignSeal(forged))
	m.Header.Set(jsstore.HeaderKey, w.signer.KeyID())
	if _, err := w.js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	if r := verify(); r.OK() || r.Link.Status != "broken" || r.Problems[0].Kind != jsaudit.ProblemPeriodLink {
		t.Errorf("verify after the old final seal was overwritten: ok %v, link %+v, problems %+v", r.OK(), r.Link, r.Problems)
	}
	// An archived period (its stream off the server) is said so, not checked.
	if err := w.js.DeleteStream(ctx, jsstore.DefaultStream); err != nil {
		t.Fatal(err)
	}
	if r := verify(); !r.OK() || r.Link.Status != "archived" {
		t.Errorf("verify with the previous period archived: ok %v, link %+v", r.OK(), r.Link)
	}
	if _, _, err := vs2.FoldLog(ctx, Views()[0](), 0, nil); !errors.Is(err, jsstore.ErrPeriodArchived) || !strings.Contains(err.Error(), "restore") {
		t.Errorf("a fold with the previous period archived: %v, want a refusal saying to restore it", err)
	}
	if _, err := vs2.Replay(ctx, time.Now(), Views(), false, nil); !errors.Is(err, jsstore.ErrPeriodArchived) {
		t.Errorf("a replay with the previous period archived: %v", err)
	}
	if _, _, err := ExportEvents(ctx, next, time.Time{}, time.Now(), io.Discard, nil); !errors.Is(err, jsstore.ErrPeriodArchived) {
		t.Errorf("an export with the previous period archived: %v", err)
	}
}

func equalDumps(a, b map[string]map[string][]byte) bool {
	return maps.EqualFunc(a, b, func(x, y map[string][]byte) bool {
		return maps.EqualFunc(x, y, func(p, q []byte) bool { return string(p) == string(q) })
	})
}

func describeDumps(a, b map[string]map[string][]byte) string {
	var out []string
	for view, docs := range a {
		for k, v := range docs {
			if string(b[view][k]) != string(v) {
				out = append(out, view+" "+k+": "+jsviews.ShortDiff(v, b[view][k]))
			}
		}
		for k := range b[view] {
			if _, ok := docs[k]; !ok {
				out = append(out, view+" "+k+": new")
			}
		}
	}
	return strings.Join(out, "\n")
}

// A roll refuses while a serving process holds a writer's lease.
func TestPeriodRollRefusesWhileServeRuns(t *testing.T) {
	w := newRollWorld(t)
	_, _ = runViews(t, w.js, w.store) // a serving process's view writers, still running
	_, err := RollPeriod(context.Background(), &Log{JS: w.js, Store: w.store, Close: func() {}}, RollOptions{To: "REDLANE_2"})
	if err == nil || !strings.Contains(err.Error(), "serve is running") {
		t.Fatalf("roll while the writers run: %v", err)
	}
}

// A roll that stopped before it made the next period current runs again to the same end:
// nothing is carried twice.
func TestPeriodRollRunsAgain(t *testing.T) {
	w := newRollWorld(t)
	ctx := context.Background()
	first, err := RollPeriod(ctx, &Log{JS: w.js, Store: w.store}, RollOptions{To: "REDLANE_2", CatchUp: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// As if it had stopped before the last step.
	kv, err := w.js.KeyValue(ctx, jsstore.PeriodBucket)
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Purge(ctx, "current"); err != nil {
		t.Fatal(err)
	}
	old := w.open(t, jsstore.DefaultStream, jsstore.Config{}) // a writer's open of the sealed stream leaves it as it is
	again, err := RollPeriod(ctx, &Log{JS: w.js, Store: old}, RollOptions{To: "REDLANE_2", CatchUp: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if again.Carried != 0 || again.CarriedUpto != first.CarriedUpto {
		t.Errorf("run again: carried %d up to %d, want none more up to %d", again.Carried, again.CarriedUpto, first.CarriedUpto)
	}
	if cur, err := jsstore.CurrentStream(ctx, w.js); err != nil || cur != "REDLANE_2" {
		t.Errorf("current stream %q (%v)", cur, err)
	}
	if r, err := jsaudit.Verify(ctx, w.js, w.open(t, "REDLANE_2", jsstore.Config{ReadOnly: true}), jsaudit.VerifyConfig{Keys: jsstore.NewKeyring(w.signer.PublicKey())}); err != nil || !r.OK() || r.Link.Status != "ok" {
		t.Errorf("verify after a roll run again: %+v %v", r, err)
	}
}
