package record_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/record"
	"github.com/redlane/redlane/projections/viewtest"
)

// t0 is when the histories begin; nothing here reads the clock.
var t0 = time.Date(2026, 11, 3, 2, 0, 0, 0, time.UTC)

// The history builder and its helpers are viewtest's, shared by every view's tests.
var (
	newHistory = viewtest.NewHistory
	submitted  = viewtest.Submitted
	decode     = viewtest.Decode
	apply      = viewtest.Apply
	sameDocs   = viewtest.SameDocs
)

// doc decodes the document under key, failing when there is none.
func doc[T any](tb testing.TB, v projections.View, key string) T {
	tb.Helper()
	return viewtest.Doc[T](tb, v, key)
}

// synth is a long, interleaved history: lanes lanes, members members and orders orders,
// each order taking one of the paths an order may take, chosen by a fixed seed. Every
// tenth member registers only half way through, and a few change their profiles then.
func synth(tb testing.TB, lanes, members, orders int) []domain.Recorded {
	tb.Helper()
	h := newHistory(tb)
	rng := rand.New(rand.NewPCG(1, 2))
	at := t0
	tick := func() time.Time { at = at.Add(7 * time.Minute); return at } // a history of months
	for l := range lanes {
		h.Lane(tick(), fmt.Sprintf("lane-%02d", l), lane.Registered{Name: fmt.Sprintf("第%d巷", l), Community: fmt.Sprintf("c-%d", l%3), Street: "dongcheng"})
	}
	profile := func(i int) member.Profile {
		return member.Profile{Name: fmt.Sprintf("党员%d", i), Community: fmt.Sprintf("c-%d", i%3), Teams: []string{"红色方舟", fmt.Sprintf("队%d", i%4)}}
	}
	for i := range members {
		if i%10 != 9 {
			h.Member(tick(), fmt.Sprintf("m-%03d", i), member.Registered(profile(i)))
		}
	}
	halfway := func() {
		for i := range members {
			if i%10 == 9 {
				h.Member(tick(), fmt.Sprintf("m-%03d", i), member.Registered(profile(i)))
			}
		}
		p := profile(0)
		p.Name = "改了名"
		h.Member(tick(), "m-000", member.Updated(p))
		p = profile(1)
		p.Teams = []string{"护航者"}
		h.Member(tick(), "m-001", member.Updated(p))
		h.Member(tick(), "m-002", member.Retired{Reason: "搬走了"})
		p = profile(3)
		p.Community = "elsewhere"
		h.Member(tick(), "m-003", member.Updated(p))
	}
	type live struct {
		id, member string
		step       int
	}
	const window = 64 // orders in flight at once
	var active []*live
	next := 0
	half := false
	for next < orders || len(active) > 0 {
		if !half && next >= orders/2 {
			halfway()
			half = true
		}
		for len(active) < window && next < orders {
			id := fmt.Sprintf("o-%06d", next)
			h.Order(tick(), id, submitted(fmt.Sprintf("lane-%02d", next%lanes), fmt.Sprintf("N-%06d", next), "楼道灯不亮了", at))
			active = append(active, &live{id: id})
			next++
		}
		i := rng.IntN(len(active))
		o := active[i]
		m := fmt.Sprintf("m-%03d", rng.IntN(members))
		done := false
		switch r := rng.IntN(100); {
		case o.step == 0 && r < 5:
			h.Order(tick(), o.id, order.Cancelled{Reason: "不需要了"})
			done = true
		case o.step == 0 && r < 30:
			o.member = m
			h.Order(tick(), o.id, order.Claimed{Member: m, OnTime: true})
			o.step = 2
		case o.step == 0:
			o.member = m
			h.Order(tick(), o.id, order.Dispatched{Member: m})
			o.step = 1
		case o.step == 1 && r < 10:
			h.Order(tick(), o.id, order.Declined{Member: o.member, Reason: "没空"})
			o.step = 0
		case o.step == 1 && r < 15:
			o.member = m
			h.Order(tick(), o.id, order.Reassigned{From: o.member, Member: m, Reason: "换人"})
		case o.step == 1:
			h.Order(tick(), o.id, order.Accepted{Member: o.member, OnTime: r < 80})
			o.step = 2
		case o.step == 2 && r < 10:
			h.Order(tick(), o.id, order.MarkedOverdue{Deadline: order.DeadlineComplete, Due: at})
		case o.step == 2 && r < 15:
			h.Order(tick(), o.id, order.Escalated{Level: order.LevelCommunity, Reason: "久拖"})
		case o.step == 2 && r < 20:
			h.Order(tick(), o.id, order.Noted{Text: "已联系"})
		case o.step == 2:
			h.Order(tick(), o.id, order.Completed{Member: o.member, Note: "好了", Minutes: 10 + r, OnTime: r < 70})
			o.step = 3
		case o.step == 3 && r < 15:
			h.Order(tick(), o.id, order.Rated{Member: o.member, Solved: false, Stars: 1 + r%3, AcceptBy: at.Add(time.Hour), CompleteBy: at.Add(4 * time.Hour)})
			o.step = 0
		case o.step == 3:
			h.Order(tick(), o.id, order.Rated{Member: o.member, Solved: true, Stars: 1 + r%5})
			done = r >= 25
			o.step = 4
		case o.step == 4:
			h.Order(tick(), o.id, order.Reopened{Reason: "又坏了", AcceptBy: at.Add(24 * time.Hour), CompleteBy: at.Add(72 * time.Hour)})
			o.step = 0
		}
		if done {
			active = slices.Delete(active, i, i+1)
		}
	}
	return h.Recs
}

// long is the long history most property tests share, made once.
var long = sync.OnceValue(func() []domain.Recorded { return synth(viewtest.PanicTB{}, 7, 40, 1500) })

// allKeys is every key the view reported while applying recs to a fresh view.
func allKeys(tb testing.TB, recs []domain.Recorded) []string {
	tb.Helper()
	return apply(tb, record.New(), recs)
}
