package feed_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/feed"
)

// busyDistrict is a history of n orders over 12 communities, 60 lanes and 600 members,
// each order submitted, dispatched, accepted, noted (publicly and internally), completed
// and rated, 30 seconds apart, decoded as the runner hands them to a view.
func busyDistrict(tb testing.TB, orders int) ([]domain.Recorded, []domain.Event) {
	tb.Helper()
	h := newHistory(tb)
	categories := []string{"consultation", "medical", "repair", "policy", "errand", "dispute", "city"}
	for i := range 60 {
		h.add(lane.AggregateType, fmt.Sprintf("lane-%02d", i), admin, lane.Registered{Name: fmt.Sprintf("街巷%02d", i), Community: fmt.Sprintf("c-%02d", i%12), Street: "dongcheng"})
	}
	for i := range 600 {
		h.add(member.AggregateType, fmt.Sprintf("m-%03d", i), admin, member.Registered{Name: fmt.Sprintf("党员%03d", i), Community: fmt.Sprintf("c-%02d", i%12)})
	}
	for i := range orders {
		id, ln, m := fmt.Sprintf("o-%07d", i), i%60, fmt.Sprintf("m-%03d", (i%60)%12+12*(i%50))
		s := submitted(categories[i%len(categories)], fmt.Sprintf("诉求%d", i))
		s.Lane, s.Community = fmt.Sprintf("lane-%02d", ln), fmt.Sprintf("c-%02d", ln%12)
		h.order(id, resident, s)
		h.order(id, steward, order.Dispatched{Member: m})
		h.order(id, domain.Actor{Role: domain.RoleMember, Member: m}, order.Accepted{Member: m, OnTime: i%3 != 0})
		h.order(id, steward, order.Noted{Text: "内部", Internal: i%2 == 0})
		h.order(id, domain.Actor{Role: domain.RoleMember, Member: m}, order.Completed{Member: m, Minutes: 30, OnTime: i%4 != 0})
		h.order(id, resident, order.Rated{Member: m, Solved: i%5 != 0, Stars: 1 + i%5})
	}
	for i := range h.recs {
		h.recs[i].Time = t0.Add(time.Duration(i) * 30 * time.Second)
	}
	evs := make([]domain.Event, len(h.recs))
	for i, rec := range h.recs {
		evs[i] = decode(tb, rec)
	}
	return h.recs, evs
}

// BenchmarkApply is the cost of one event in a rebuild: ns/op × 1,000,000 is a rebuild
// of a million events, the entries taken every 150 events as the runner does.
func BenchmarkApply(b *testing.B) {
	recs, evs := busyDistrict(b, 20_000)
	v := feed.New()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(recs) {
			b.StopTimer()
			v, i = feed.New(), 0
			b.StartTimer()
		}
		v.Apply(recs[i], evs[i])
		if i%150 == 0 {
			v.Take()
		}
		i++
	}
}
