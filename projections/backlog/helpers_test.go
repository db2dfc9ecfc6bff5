package backlog_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/backlog"
)

// t0 is when the histories begin; nothing here reads the clock.
var t0 = time.Date(2026, 11, 3, 2, 0, 0, 0, time.UTC)

var steward = domain.Actor{ID: "tok-steward", Name: "王芳", Role: domain.RoleSteward, Lanes: []string{"rouqiao-houxiang"}}

// history builds sealed, recorded events with increasing stream positions.
type history struct {
	tb       testing.TB
	versions map[string]uint64
	recs     []domain.Recorded
}

func newHistory(tb testing.TB) *history { return &history{tb: tb, versions: map[string]uint64{}} }

// add appends one event of the aggregate aggType/id, happening at at.
func (h *history) add(at time.Time, aggType, id string, ev domain.Event) domain.Recorded {
	h.tb.Helper()
	seq := uint64(len(h.recs)) + 1
	agg := aggType + "/" + id
	envs, err := domain.Seal(aggType, id, h.versions[agg], []domain.Event{ev}, []string{fmt.Sprintf("ev-%06d", seq)},
		domain.Meta{Actor: steward, Time: at, CorrelationID: "corr", CausationID: "cause"})
	if err != nil {
		h.tb.Fatal(err)
	}
	h.versions[agg]++
	rec := domain.Recorded{Envelope: envs[0], Seq: seq}
	h.recs = append(h.recs, rec)
	return rec
}

func (h *history) order(at time.Time, id string, ev domain.Event) domain.Recorded {
	h.tb.Helper()
	return h.add(at, order.AggregateType, id, ev)
}

func (h *history) lane(at time.Time, id string, ev domain.Event) domain.Recorded {
	h.tb.Helper()
	return h.add(at, lane.AggregateType, id, ev)
}

// submitted is a normal request to laneID with the default deadlines from at.
func submitted(laneID, number, title string, at time.Time) order.Submitted {
	return order.Submitted{
		Number: number, Lane: laneID, Community: "taoyuan", Street: "dongcheng", Category: "repair",
		Title: title, Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"},
		Mode: order.ModeInstant, Channel: order.ChannelStation, Priority: order.PriorityNormal,
		AcceptBy: at.Add(24 * time.Hour), CompleteBy: at.Add(72 * time.Hour),
	}
}

// decode turns a record back into its event, as the runner does.
func decode(tb testing.TB, rec domain.Recorded) domain.Event {
	tb.Helper()
	ev, err := projections.Events.Decode(rec.Envelope)
	if err != nil {
		tb.Fatal(err)
	}
	return ev
}

// apply applies recs to v and returns every key Apply reported, sorted and once each.
func apply(tb testing.TB, v projections.View, recs []domain.Recorded) []string {
	tb.Helper()
	var keys []string
	for _, rec := range recs {
		keys = append(keys, v.Apply(rec, decode(tb, rec))...)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// doc decodes the document under key, failing when there is none.
func doc[T any](tb testing.TB, v projections.View, key string) T {
	tb.Helper()
	var d T
	b := v.Doc(key)
	if b == nil {
		tb.Fatalf("no document under %s", key)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		tb.Fatalf("decode %s: %v", key, err)
	}
	return d
}

// sameDocs fails unless a and b hold byte-identical documents under every key.
func sameDocs(tb testing.TB, a, b projections.View, keys []string) {
	tb.Helper()
	for _, k := range keys {
		if da, db := a.Doc(k), b.Doc(k); !bytes.Equal(da, db) {
			tb.Fatalf("documents under %s differ:\n%s\n%s", k, da, db)
		}
	}
}

// synth is a long, interleaved history: lanes lanes, members members and orders orders,
// each order taking one of the paths an order may take, chosen by a fixed seed.
func synth(tb testing.TB, lanes, members, orders int) []domain.Recorded {
	tb.Helper()
	h := newHistory(tb)
	rng := rand.New(rand.NewPCG(1, 2))
	at := t0
	tick := func() time.Time { at = at.Add(time.Minute); return at }
	for l := range lanes {
		h.lane(tick(), fmt.Sprintf("lane-%02d", l), lane.Registered{Name: fmt.Sprintf("第%d巷", l), Community: fmt.Sprintf("c-%d", l%3), Street: "dongcheng"})
	}
	type live struct {
		id, member string
		step       int
	}
	const window = 64 // orders in flight at once
	var active []*live
	next := 0
	for next < orders || len(active) > 0 {
		for len(active) < window && next < orders {
			id := fmt.Sprintf("o-%06d", next)
			h.order(tick(), id, submitted(fmt.Sprintf("lane-%02d", next%lanes), fmt.Sprintf("N-%06d", next), "楼道灯不亮了", at))
			active = append(active, &live{id: id})
			next++
		}
		i := rng.IntN(len(active))
		o := active[i]
		m := fmt.Sprintf("m-%03d", rng.IntN(members))
		done := false
		switch r := rng.IntN(100); {
		case o.step == 0 && r < 5:
			h.order(tick(), o.id, order.Cancelled{Reason: "不需要了"})
			done = true
		case o.step == 0 && r < 30:
			o.member = m
			h.order(tick(), o.id, order.Claimed{Member: m, OnTime: true})
			o.step = 2
		case o.step == 0:
			o.member = m
			h.order(tick(), o.id, order.Dispatched{Member: m})
			o.step = 1
		case o.step == 1 && r < 10:
			h.order(tick(), o.id, order.Declined{Member: o.member, Reason: "没空"})
			o.step = 0
		case o.step == 1 && r < 15:
			o.member = m
			h.order(tick(), o.id, order.Reassigned{From: o.member, Member: m, Reason: "换人"})
		case o.step == 1:
			h.order(tick(), o.id, order.Accepted{Member: o.member, OnTime: r < 80})
			o.step = 2
		case o.step == 2 && r < 10:
			h.order(tick(), o.id, order.MarkedOverdue{Deadline: order.DeadlineComplete, Due: at})
		case o.step == 2 && r < 15:
			h.order(tick(), o.id, order.Escalated{Level: order.LevelCommunity, Reason: "久拖"})
		case o.step == 2 && r < 20:
			h.order(tick(), o.id, order.Noted{Text: "已联系"})
		case o.step == 2:
			h.order(tick(), o.id, order.Completed{Member: o.member, Note: "好了", Minutes: 10 + r, OnTime: r < 70})
			o.step = 3
		case o.step == 3 && r < 15:
			h.order(tick(), o.id, order.Rated{Member: o.member, Solved: false, Stars: 1 + r%3, AcceptBy: at.Add(time.Hour), CompleteBy: at.Add(4 * time.Hour)})
			o.step = 0
		case o.step == 3:
			h.order(tick(), o.id, order.Rated{Member: o.member, Solved: true, Stars: 1 + r%5})
			done = r >= 25
			o.step = 4
		case o.step == 4:
			h.order(tick(), o.id, order.Reopened{Reason: "又坏了", AcceptBy: at.Add(24 * time.Hour), CompleteBy: at.Add(72 * time.Hour)})
			o.step = 0
		}
		if done {
			active = slices.Delete(active, i, i+1)
		}
	}
	return h.recs
}

// long is the long history most property tests share, made once.
var long = sync.OnceValue(func() []domain.Recorded { return synth(panicTB{}, 7, 40, 1500) })

// panicTB lets synth run outside a test; it fails by panicking.
type panicTB struct{ testing.TB }

func (panicTB) Helper()                        {}
func (panicTB) Fatal(args ...any)              { panic(fmt.Sprint(args...)) }
func (panicTB) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }

// allKeys is every key the view reported while applying recs to a fresh view.
func allKeys(tb testing.TB, recs []domain.Recorded) []string {
	tb.Helper()
	return apply(tb, backlog.New(), recs)
}
