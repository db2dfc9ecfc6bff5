package service_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redlane/redlane/internal/testworld"

	jsstore "github.com/redlane/redlane/adapters/jetstream"
	"github.com/redlane/redlane/adapters/natsserver"
	"github.com/redlane/redlane/adapters/natsserver/natstest"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/domain/schedule"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/service"
)

// fakeClock is the injectable clock: tests move it by hand.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// desk is a process: a service over a store on a (restartable) embedded server.
type desk struct {
	tb    testing.TB
	srv   *natsserver.Server
	store *jsstore.Store
	svc   *service.Service
	clock *fakeClock
}

func newDesk(tb testing.TB, clock *fakeClock) *desk {
	tb.Helper()
	srv, _ := natstest.Start(tb)
	d := &desk{tb: tb, srv: srv, clock: clock}
	d.open()
	return d
}

// open starts a fresh service, as a new process would, over the server's store.
func (d *desk) open() {
	d.tb.Helper()
	w := testworld.Open(d.tb, d.srv, testworld.Options{Clock: d.clock, Directory: true})
	d.store, d.svc = w.Store, w.Svc
}

// restart stops the server and the process and starts both again on the same data.
func (d *desk) restart() {
	d.tb.Helper()
	d.srv, _ = natstest.Restart(d.tb, d.srv)
	d.open()
}

// backlogNow folds the backlog view from the log: the live orders the view writer would
// store, read without a writer.
type backlogNow struct{ store *jsstore.Store }

func (b backlogNow) fold() *backlog.View {
	v := backlog.New()
	err := b.store.ReadAll(context.Background(), 1, func(rec domain.Recorded) error {
		if rec.AggregateType != order.AggregateType && rec.AggregateType != lane.AggregateType {
			return nil
		}
		ev, err := projections.Events.Decode(rec.Envelope)
		if err == nil {
			v.Apply(rec, ev)
		}
		return err
	})
	if err != nil {
		panic(err)
	}
	return v
}

func (b backlogNow) LiveLanes() []string { return b.fold().Lanes() }

func (b backlogNow) Live(lane string) []backlog.Order {
	var out []backlog.Order
	for _, it := range b.fold().Items(lane) {
		out = append(out, backlog.Order{Lane: lane, Item: it})
	}
	return out
}

func (d *desk) seedLane() {
	d.tb.Helper()
	if _, err := d.svc.RegisterLane(context.Background(), d.svc.Meta(service.Admin, ""), "rouqiao-houxiang",
		lane.Register{Name: "柔桥后巷", Community: "taoyuan", Street: "dongcheng"}); err != nil {
		d.tb.Fatal(err)
	}
}

func (d *desk) countTypes(id string) map[string]int {
	d.tb.Helper()
	recs, err := d.store.Load(context.Background(), order.AggregateType, id, 0)
	if err != nil {
		d.tb.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range recs {
		out[r.Type]++
	}
	return out
}

func TestDeadlineRecordedOnceAcrossRestartsAndProcesses(t *testing.T) {
	clock := &fakeClock{}
	clock.Set(time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC))
	d := newDesk(t, clock)
	d.seedLane()
	ctx := context.Background()
	snap, _, err := d.svc.Submit(ctx, d.svc.Meta(service.Resident, ""), service.SubmitRequest{LaneID: "rouqiao-houxiang",
		Submit: order.Submit{Category: "medical", Title: "老人摔倒需要上门查看", Priority: order.PriorityUrgent,
			Requester: order.Requester{Name: "王奶奶", Phone: "13700001111"}}})
	if err != nil {
		t.Fatal(err)
	}
	views := backlogNow{d.store}

	clock.Advance(10 * time.Minute) // inside the 15-minute urgent medical accept deadline
	if n, err := d.svc.CheckDeadlines(ctx, views, clock.Now()); err != nil || n != 0 {
		t.Fatalf("before the deadline: %d events, %v", n, err)
	}
	clock.Advance(10 * time.Minute) // past it
	if n, err := d.svc.CheckDeadlines(ctx, views, clock.Now()); err != nil || n != 2 {
		t.Fatalf("at the deadline: %d events (want overdue + escalated), %v", n, err)
	}
	d.restart()
	views = backlogNow{d.store}
	clock.Advance(time.Minute)
	// Two processes check at once after the restart: nothing more is recorded.
	other := d.svc
	d.open()
	var wg sync.WaitGroup
	for _, svc := range []*service.Service{d.svc, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n, err := svc.CheckDeadlines(ctx, views, clock.Now()); err != nil || n != 0 {
				t.Errorf("after the restart: %d events, %v", n, err)
			}
		}()
	}
	wg.Wait()
	got := d.countTypes(snap.ID)
	if got[order.TypeOverdue] != 1 || got[order.TypeEscalated] != 1 {
		t.Fatalf("history holds %v; want one overdue and one escalation", got)
	}
	o, err := d.svc.Order(ctx, snap.ID)
	if err != nil || !o.State.Overdue() || o.State.Escalation != order.LevelCommunity {
		t.Fatalf("order after the deadline: %+v %v", o.State, err)
	}
}

func TestWeeklyScheduleSixWeeksTwoRestarts(t *testing.T) {
	clock := &fakeClock{}
	// Monday 2026-11-02 08:00 in Shanghai; the schedule visits every Tuesday at 09:00.
	clock.Set(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
	d := newDesk(t, clock)
	d.seedLane()
	ctx := context.Background()
	steward := domain.Actor{ID: "tok-s", Name: "王芳", Role: domain.RoleSteward, Lanes: []string{"rouqiao-houxiang"}}
	_, err := d.svc.DefineSchedule(ctx, d.svc.Meta(steward, ""), "visit-wang", schedule.Define{
		Lane: "rouqiao-houxiang", Category: "errand", Title: "每周二看望独居老人王奶奶",
		Requester: order.Requester{Name: "王奶奶", Phone: "13700001111"},
		Every:     schedule.Weekly, Weekday: int(time.Tuesday), At: "09:00", From: "2026-11-02",
	})
	if err != nil {
		t.Fatal(err)
	}
	produced := 0
	for hour := 0; hour < 6*7*24; hour += 6 { // six weeks, a tick every six hours
		if hour == 10*24 || hour == 30*24 {
			d.restart()
		}
		n, err := d.svc.ProduceDue(ctx, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		produced += n
		clock.Advance(6 * time.Hour)
	}
	// And once more from a second process at the end: nothing new.
	d.open()
	if n, err := d.svc.ProduceDue(ctx, clock.Now()); err != nil || n != 0 {
		t.Fatalf("a second process produced %d, %v", n, err)
	}
	var orders []string
	err = d.store.ReadAll(ctx, 1, func(rec domain.Recorded) error {
		if rec.Type == order.TypeSubmitted && strings.Contains(string(rec.Data), `"schedule":"visit-wang@`) {
			orders = append(orders, rec.AggregateID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if produced != 6 || len(orders) != 6 {
		t.Fatalf("six weeks produced %d orders (%d submitted events), want 6", produced, len(orders))
	}
}
