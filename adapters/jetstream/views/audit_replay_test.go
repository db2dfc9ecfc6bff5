package views_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jsviews "github.com/redlane/redlane/adapters/jetstream/views"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/projections/record"
	"github.com/redlane/redlane/service"
)

// settableClock is a clock a test moves by hand.
type settableClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *settableClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *settableClock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// KnownHistory is a history with known times (Asia/Shanghai, 2026-11-27): the lane and
// member at 08:00; order A submitted 09:00, dispatched to m-001 10:00; order B submitted
// 11:00; A accepted 12:00, completed 13:00 and rated 5 stars, solved, 14:00.
type knownHistory struct {
	js    jetstream.JetStream
	store *jsstore.Store
	views *jsviews.Views
	a, b  string
}

var shanghai = time.FixedZone("CST", 8*3600)

func at(hh, mm int) time.Time { return time.Date(2026, 11, 27, hh, mm, 0, 0, shanghai) }

func newKnownHistory(tb testing.TB) *knownHistory {
	tb.Helper()
	_, nc := natstest.Start(tb)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	store, err := jsstore.Open(ctx, js, jsstore.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	clock := &settableClock{now: at(8, 0)}
	svc := service.New(service.Config{Store: store, Catalog: order.DefaultCatalog(), ReceiptKey: []byte("k"), Clock: clock,
		NewID: func() string { return uuid.Must(uuid.NewV7()).String() }})
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	admin := svc.Meta(service.Admin, "")
	_, err = svc.RegisterLane(ctx, admin, "rouqiao-houxiang", lane.Register{Name: "柔桥后巷", Community: "taoyuan", Street: "dongcheng"})
	must(err)
	_, err = svc.RegisterMember(ctx, admin, "m-001", member.Register{Name: "李明", Community: "taoyuan"})
	must(err)
	steward := domain.Actor{ID: "tok-steward", Name: "王芳", Role: domain.RoleSteward, Lanes: []string{"rouqiao-houxiang"}}
	li := domain.Actor{ID: "tok-member", Name: "李明", Role: domain.RoleMember, Member: "m-001"}
	submit := func(title string) string {
		snap, _, err := svc.Submit(ctx, svc.Meta(service.Resident, ""), service.SubmitRequest{LaneID: "rouqiao-houxiang", Submit: order.Submit{
			Category: "repair", Title: title, Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"}}})
		must(err)
		return snap.ID
	}
	act := func(a domain.Actor, id string, cmd order.Command) {
		_, err := svc.Act(ctx, svc.Meta(a, ""), id, cmd, 0)
		must(err)
	}
	h := &knownHistory{js: js, store: store}
	clock.set(at(9, 0))
	h.a = submit("楼道灯不亮了")
	clock.set(at(10, 0))
	act(steward, h.a, order.Dispatch{Member: order.MemberRef{ID: "m-001"}})
	clock.set(at(11, 0))
	h.b = submit("水管漏水")
	clock.set(at(12, 0))
	act(li, h.a, order.Accept{})
	clock.set(at(13, 0))
	act(li, h.a, order.Complete{Note: "换了感应灯", Minutes: 40})
	clock.set(at(14, 0))
	yes := true
	act(service.Resident, h.a, order.Rate{Solved: &yes, Stars: 5})
	h.views, err = jsviews.New(ctx, js, store, jsviews.Config{Owner: "replay-test"})
	must(err)
	return h
}

func (h *knownHistory) replay(tb testing.TB, until time.Time, keep bool) *jsviews.Replay {
	tb.Helper()
	r, err := h.views.Replay(context.Background(), until, allViews, keep, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// laneAt is the lane's backlog as of a replay: its summary, and its live orders from
// their documents, oldest first.
func laneAt(tb testing.TB, r *jsviews.Replay) replayedLane {
	tb.Helper()
	var l replayedLane
	doc := r.Doc(backlog.Name, backlog.LaneKey("rouqiao-houxiang"))
	if doc == nil {
		tb.Fatalf("no backlog for the lane as of %s", r.Until)
	}
	if err := json.Unmarshal(doc, &l.Lane); err != nil {
		tb.Fatal(err)
	}
	for _, k := range r.Keys[backlog.Name] {
		var o backlog.Order
		if !strings.HasPrefix(k, "order.") {
			continue
		}
		if err := json.Unmarshal(r.Doc(backlog.Name, k), &o); err != nil {
			tb.Fatal(err)
		}
		if o.Lane == l.Lane.Lane && backlog.Live(o.Status) {
			l.Items = append(l.Items, o.Item)
		}
	}
	slices.SortFunc(l.Items, func(a, b backlog.Item) int { return a.SubmittedAt.Compare(b.SubmittedAt) })
	return l
}

type replayedLane struct {
	backlog.Lane
	Items []backlog.Item
}

func TestReplayGivesTheBacklogAsItWas(t *testing.T) {
	h := newKnownHistory(t)
	type item struct {
		id     string
		status order.Status
	}
	for _, c := range []struct {
		name   string
		until  time.Time
		counts backlog.Counts
		items  []item
		points int // m-001's in the ranking of taoyuan, 2026-11; -1: not ranked
	}{
		{"before anything was asked", at(8, 30), backlog.Counts{}, nil, -1},
		{"between dispatch and the second request", at(10, 30), backlog.Counts{Dispatched: 1}, []item{{h.a, order.StatusDispatched}}, 0},
		{"exactly at the second request", at(11, 0), backlog.Counts{Open: 1, Dispatched: 1}, []item{{h.a, order.StatusDispatched}, {h.b, order.StatusOpen}}, 0},
		{"between accept and completion", at(12, 30), backlog.Counts{Open: 1, Accepted: 1}, []item{{h.a, order.StatusAccepted}, {h.b, order.StatusOpen}}, 0},
		{"between completion and rating", at(13, 59), backlog.Counts{Open: 1, Completed: 1}, []item{{h.a, order.StatusCompleted}, {h.b, order.StatusOpen}}, 12},
		{"after the rating", at(23, 0), backlog.Counts{Open: 1}, []item{{h.b, order.StatusOpen}}, 16},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := h.replay(t, c.until, false)
			l := laneAt(t, r)
			if l.Counts != c.counts || len(l.Items) != len(c.items) {
				t.Fatalf("as of %s: counts %+v, %d items; want %+v, %d", c.until, l.Counts, len(l.Items), c.counts, len(c.items))
			}
			for i, it := range c.items {
				if l.Items[i].ID != it.id || l.Items[i].Status != it.status {
					t.Errorf("item %d = %s %s, want %s %s", i, l.Items[i].ID, l.Items[i].Status, it.id, it.status)
				}
			}
			if r.Time.After(c.until) {
				t.Errorf("folded an event of %s, after %s", r.Time, c.until)
			}
			var rk record.Ranking
			doc := r.Doc(record.Name, record.RankingKey("taoyuan", "2026-11"))
			if doc != nil {
				if err := json.Unmarshal(doc, &rk); err != nil {
					t.Fatal(err)
				}
			}
			got := -1
			for _, it := range rk.Items {
				if it.Member == "m-001" {
					got = it.Points
				}
			}
			if got != c.points {
				t.Errorf("m-001's points = %d, want %d", got, c.points)
			}
		})
	}
}

func TestReplayKeepsItsOwnBuckets(t *testing.T) {
	h := newKnownHistory(t)
	ctx := context.Background()
	until := at(12, 30)
	r := h.replay(t, until, true)
	name := r.Buckets[backlog.Name]
	if name != jsviews.ReplayBucket("backlog", until) || name != "REDLANE_REPLAY_BACKLOG_"+strconv.FormatInt(until.Unix(), 10) {
		t.Fatalf("bucket %q", name)
	}
	kv, err := h.js.KeyValue(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, backlog.LaneKey("rouqiao-houxiang"))
	if err != nil {
		t.Fatal(err)
	}
	if string(e.Value()) != string(r.Doc(backlog.Name, backlog.LaneKey("rouqiao-houxiang"))) {
		t.Errorf("kept %s, folded %s", e.Value(), r.Doc(backlog.Name, backlog.LaneKey("rouqiao-houxiang")))
	}
	// The live views were not touched: not even their first generation was made.
	if _, err := h.js.KeyValue(ctx, "REDLANE_VIEW_BACKLOG_1"); !errors.Is(err, jetstream.ErrBucketNotFound) {
		t.Errorf("live bucket: %v", err)
	}
	// Replaying to the same moment again replaces the bucket.
	h.replay(t, until, true)
}
