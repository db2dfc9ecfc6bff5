package report_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/report"
)

// busyDistrict is a history of n orders over 12 communities, 60 lanes and 600 members,
// each order submitted, dispatched, accepted, noted (publicly and internally), completed
// and rated, 30 seconds apart (so it spans months), decoded as the runner hands them to a
// view.
func busyDistrict(tb testing.TB, orders int) ([]domain.Recorded, []domain.Event) {
	tb.Helper()
	var steps []step
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func() string { return t0.Add(time.Duration(len(steps)) * 30 * time.Second).Format(time.RFC3339) }
	add := func(aggType, id string, a domain.Actor, ev domain.Event) {
		steps = append(steps, step{at(), aggType, id, a, ev})
	}
	categories := []string{"consultation", "medical", "repair", "policy", "errand", "dispute", "city"}
	for i := range 60 {
		add(lane.AggregateType, fmt.Sprintf("lane-%02d", i), admin, lane.Registered{Name: fmt.Sprintf("街巷%02d", i), Community: fmt.Sprintf("c-%02d", i%12), Street: "dongcheng"})
	}
	for i := range 600 {
		add(member.AggregateType, fmt.Sprintf("m-%03d", i), admin, member.Registered{Name: fmt.Sprintf("党员%03d", i), Community: fmt.Sprintf("c-%02d", i%12)})
	}
	for i := range orders {
		id, ln, m := fmt.Sprintf("o-%07d", i), i%60, fmt.Sprintf("m-%03d", (i%60)%12+12*(i%50))
		s := submitted("kongyuan", categories[i%len(categories)], fmt.Sprintf("诉求%d", i))
		s.Lane, s.Community = fmt.Sprintf("lane-%02d", ln), fmt.Sprintf("c-%02d", ln%12)
		o := order.AggregateType
		add(o, id, resident, s)
		add(o, id, steward, order.Dispatched{Member: m})
		add(o, id, memberActor(m), order.Accepted{Member: m, OnTime: i%3 != 0})
		add(o, id, steward, order.Noted{Text: "内部", Internal: i%2 == 0})
		add(o, id, memberActor(m), order.Completed{Member: m, Minutes: 30, OnTime: i%4 != 0})
		add(o, id, resident, order.Rated{Member: m, Solved: i%5 != 0, Stars: 1 + i%5})
	}
	recs := record(tb, steps)
	evs := make([]domain.Event, len(recs))
	for i, rec := range recs {
		evs[i] = decode(tb, rec)
	}
	return recs, evs
}

// BenchmarkApply is the cost of one event in a rebuild: ns/op × 1,000,000 is a rebuild
// of a million events (Doc, which the runner calls per flush, not included).
func BenchmarkApply(b *testing.B) {
	recs, evs := busyDistrict(b, 20_000)
	v := report.New()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(recs) {
			b.StopTimer()
			v, i = report.New(), 0
			b.StartTimer()
		}
		v.Apply(recs[i], evs[i])
		i++
	}
}

// BenchmarkDoc is the cost of encoding a month's report of a community of 50 members.
func BenchmarkDoc(b *testing.B) {
	recs, evs := busyDistrict(b, 20_000)
	v := report.New()
	for i := range recs {
		v.Apply(recs[i], evs[i])
	}
	key := "report.c-00." + "2026-01"
	if v.Doc(key) == nil {
		b.Fatal("no report")
	}
	b.ReportAllocs()
	for b.Loop() {
		v.Doc(key)
	}
}
