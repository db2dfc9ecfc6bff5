package schedule_test

import (
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/domain/schedule"
)

var shanghai = time.FixedZone("CST", 8*3600)

var weekly = schedule.Define{
	Lane: "lane-1", Category: "errand", Title: "看望独居老人",
	Requester: order.Requester{Name: "王奶奶", Phone: "13700001111"},
	Every:     schedule.Weekly, Weekday: 2, At: "09:00", From: "2026-11-02", Until: "2026-11-30",
}

// defineAt is when the tests' schedules are defined.
var defineAt = time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)

func state(tb testing.TB, d schedule.Define) schedule.State {
	tb.Helper()
	evs, err := schedule.Decide(schedule.State{}, d, schedule.Env{Actor: domain.Actor{Role: domain.RoleAdmin}, Catalog: order.DefaultCatalog(), Now: defineAt})
	if err != nil {
		tb.Fatal(err)
	}
	return schedule.Evolve(schedule.State{}, evs[0], domain.Envelope{AggregateID: "s-1"})
}

func TestDecide(t *testing.T) {
	steward := domain.Actor{Role: domain.RoleSteward, Lanes: []string{"lane-1"}}
	other := domain.Actor{Role: domain.RoleSteward, Lanes: []string{"lane-2"}}
	bad := func(f func(*schedule.Define)) schedule.Define { d := weekly; f(&d); return d }
	active := state(t, weekly)
	cases := []struct {
		name   string
		s      schedule.State
		exists bool
		cmd    schedule.Command
		by     domain.Actor
		kind   domain.Kind // 0 with events > 0 means allowed
		events int
	}{
		{"steward of the lane defines", schedule.State{}, false, weekly, steward, 0, 1},
		{"steward of another lane is refused", schedule.State{}, false, weekly, other, domain.KindForbidden, 0},
		{"member is refused", schedule.State{}, false, weekly, domain.Actor{Role: domain.RoleMember, Member: "m"}, domain.KindForbidden, 0},
		{"defining twice conflicts", active, true, weekly, steward, domain.KindConflict, 0},
		{"bad weekday", schedule.State{}, false, bad(func(d *schedule.Define) { d.Weekday = 7 }), steward, domain.KindInvalid, 0},
		{"bad recurrence", schedule.State{}, false, bad(func(d *schedule.Define) { d.Every = "hourly" }), steward, domain.KindInvalid, 0},
		{"bad time of day", schedule.State{}, false, bad(func(d *schedule.Define) { d.At = "25:00" }), steward, domain.KindInvalid, 0},
		{"until before from", schedule.State{}, false, bad(func(d *schedule.Define) { d.Until = "2026-10-01" }), steward, domain.KindInvalid, 0},
		{"unknown category", schedule.State{}, false, bad(func(d *schedule.Define) { d.Category = "magic" }), steward, domain.KindInvalid, 0},
		{"from a month before it is defined", schedule.State{}, false, bad(func(d *schedule.Define) { d.From = "2026-10-01"; d.Until = "" }), steward, 0, 1},
		{"from more than a month before", schedule.State{}, false, bad(func(d *schedule.Define) { d.From = "2026-09-30"; d.Until = "" }), steward, domain.KindInvalid, 0},
		{"from year 1", schedule.State{}, false, bad(func(d *schedule.Define) { d.From = "0001-01-01"; d.Until = "" }), steward, domain.KindInvalid, 0},
		{"cancel an active schedule", active, true, schedule.Cancel{Reason: "老人搬走了"}, steward, 0, 1},
		{"cancel a missing schedule", schedule.State{}, false, schedule.Cancel{}, steward, domain.KindNotFound, 0},
		{"cancel by another lane's steward", active, true, schedule.Cancel{}, other, domain.KindForbidden, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs, err := schedule.Decide(c.s, c.cmd, schedule.Env{Actor: c.by, Exists: c.exists, Catalog: order.DefaultCatalog(), Now: defineAt})
			if c.kind != 0 {
				if domain.KindOf(err) != c.kind || len(evs) != 0 {
					t.Fatalf("got %v, %v; want refused %v", evs, err, c.kind)
				}
				return
			}
			if err != nil || len(evs) != c.events {
				t.Fatalf("got %v, %v; want %d events", evs, err, c.events)
			}
		})
	}
}

func TestOccurrences(t *testing.T) {
	s := state(t, weekly)
	all := s.Occurrences(time.Time{}, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), shanghai)
	var got []string
	for _, o := range all {
		got = append(got, o.In(shanghai).Format("2006-01-02 15:04 Mon"))
	}
	want := []string{"2026-11-03 09:00 Tue", "2026-11-10 09:00 Tue", "2026-11-17 09:00 Tue", "2026-11-24 09:00 Tue"}
	if len(got) != len(want) {
		t.Fatalf("occurrences %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("occurrences %v, want %v", got, want)
		}
	}
	// Only those after the given moment, up to the limit.
	after := time.Date(2026, 11, 10, 1, 0, 0, 0, time.UTC) // 09:00 in Shanghai: excluded
	upto := time.Date(2026, 11, 17, 1, 0, 0, 0, time.UTC)  // included
	if got := s.Occurrences(after, upto, shanghai); len(got) != 1 || !got[0].Equal(upto) {
		t.Fatalf("window gives %v", got)
	}
	if got := schedule.OccurrenceKey("s-1", all[0]); got != "s-1@2026-11-03T01:00:00Z" {
		t.Fatalf("key %q", got)
	}
	s.Active = false
	if got := s.Occurrences(time.Time{}, upto, shanghai); len(got) != 0 {
		t.Fatalf("a cancelled schedule yields %v", got)
	}
}
