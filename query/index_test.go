package query_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/query"
)

var now = time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)

// doc makes an order document: submitted ago before now, with the usual deadlines.
func doc(lane, id string, ago time.Duration, st order.Status) backlog.Order {
	sub := now.Add(-ago)
	return backlog.Order{Lane: lane, Community: "taoyuan", Street: "dongcheng", Item: backlog.Item{
		ID: id, Number: "N-" + id, Title: "楼道灯不亮了 " + id, Category: "repair", Priority: order.PriorityNormal, Status: st,
		Escalation: order.LevelLane, SubmittedAt: sub, AcceptBy: sub.Add(24 * time.Hour), CompleteBy: sub.Add(72 * time.Hour),
	}}
}

func newIndex() *query.Index {
	return query.NewIndex(query.IndexConfig{Now: func() time.Time { return now }})
}

// pageAll walks every page of a lane's backlog and returns the ids in order.
func pageAll(t *testing.T, x *query.Index, q query.BacklogQuery) ([]string, query.Counts) {
	t.Helper()
	var ids []string
	var counts query.Counts
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("paging does not end")
		}
		p, err := x.Backlog(q)
		if err != nil {
			t.Fatal(err)
		}
		if pages == 0 {
			counts = p.Counts
		}
		for _, it := range p.Items {
			ids = append(ids, it.ID)
		}
		if p.Next == "" {
			return ids, counts
		}
		if len(p.Items) != q.Limit {
			t.Fatalf("a page before the last holds %d items, want %d", len(p.Items), q.Limit)
		}
		q.Cursor = p.Next
	}
}

func TestBacklogPagesReachEveryOrderOnce(t *testing.T) {
	x := newIndex()
	const n = 4000
	for i := range n {
		st := []order.Status{order.StatusOpen, order.StatusDispatched, order.StatusAccepted, order.StatusCompleted}[i%4]
		d := doc("busy", fmt.Sprintf("o-%05d", i), time.Duration(i)*time.Minute, st)
		if st != order.StatusOpen {
			d.Assignee = "m-1"
		}
		if st == order.StatusCompleted {
			at := now.Add(-time.Hour)
			d.CompletedAt = &at
		}
		x.Put(d)
	}
	x.Put(doc("quiet", "q-1", time.Hour, order.StatusOpen))
	for _, limit := range []int{3, 50, 500} {
		for _, sort := range []string{query.SortUrgency, query.SortAge} {
			ids, counts := pageAll(t, x, query.BacklogQuery{Lane: "busy", Sort: sort, Limit: limit, Now: now})
			if len(ids) != n {
				t.Fatalf("limit %d, %s: %d orders reached, want %d", limit, sort, len(ids), n)
			}
			seen := map[string]bool{}
			for _, id := range ids {
				if seen[id] {
					t.Fatalf("limit %d, %s: %s twice", limit, sort, id)
				}
				seen[id] = true
			}
			if counts.Live != n || counts.Open != n/4 || counts.Dispatched != n/4 || counts.Accepted != n/4 || counts.Completed != n/4 {
				t.Fatalf("counts %+v", counts)
			}
			if sort == query.SortAge && ids[0] != fmt.Sprintf("o-%05d", n-1) {
				t.Errorf("age: first %s, want the oldest", ids[0])
			}
		}
	}
	// Counts are exact as of now: orders submitted more than a day ago and not accepted
	// are past their accept deadline; accepted ones more than three days ago past completion.
	p, _ := x.Backlog(query.BacklogQuery{Lane: "busy", Limit: 1, Now: now})
	want := 0
	for i := range n {
		ago := time.Duration(i) * time.Minute
		switch i % 4 {
		case 0, 1:
			if ago > 24*time.Hour {
				want++
			}
		case 2:
			if ago > 72*time.Hour {
				want++
			}
		}
	}
	if p.Counts.Overdue != want {
		t.Errorf("overdue %d, want %d", p.Counts.Overdue, want)
	}
}

func TestUrgencyPutsOverdueThenUrgentThenNearestDeadline(t *testing.T) {
	x := newIndex()
	x.Put(doc("l", "fresh", time.Minute, order.StatusOpen))
	x.Put(doc("l", "older", 10*time.Hour, order.StatusOpen))
	urgent := doc("l", "urgent", time.Minute, order.StatusOpen)
	urgent.Priority = order.PriorityUrgent
	urgent.AcceptBy = now.Add(2 * time.Hour)
	x.Put(urgent)
	x.Put(doc("l", "late", 30*time.Hour, order.StatusOpen)) // past its accept deadline, not yet marked
	marked := doc("l", "marked", 2*time.Minute, order.StatusDispatched)
	marked.Overdue = true
	x.Put(marked)
	ids, _ := pageAll(t, x, query.BacklogQuery{Lane: "l", Limit: 2, Now: now})
	want := []string{"late", "marked", "urgent", "older", "fresh"}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("urgency order %v, want %v", ids, want)
	}
}

func TestFiltersAndTheCallbackList(t *testing.T) {
	x := newIndex()
	x.Put(doc("l", "open", time.Hour, order.StatusOpen))
	d := doc("l", "mine", time.Hour, order.StatusDispatched)
	d.Assignee, d.Category = "m-7", "medical"
	x.Put(d)
	recent := doc("l", "done-recent", 10*time.Hour, order.StatusCompleted)
	at := now.Add(-time.Hour)
	recent.CompletedAt = &at
	x.Put(recent)
	old := doc("l", "done-long-ago", 200*time.Hour, order.StatusCompleted)
	at2 := now.Add(-100 * time.Hour)
	old.CompletedAt = &at2
	x.Put(old)
	x.Put(doc("l", "late", 30*time.Hour, order.StatusOpen))
	cases := []struct {
		v    url.Values
		want string
	}{
		{url.Values{}, "[late mine open done-recent]"},
		{url.Values{"status": {"callback"}}, "[done-long-ago]"},
		{url.Values{"status": {"completed"}}, "[done-recent]"},
		{url.Values{"status": {"open"}}, "[late open]"},
		{url.Values{"overdue": {"true"}}, "[late]"},
		{url.Values{"category": {"medical"}}, "[mine]"},
		{url.Values{"assignee": {"m-7"}}, "[mine]"},
		{url.Values{"sort": {"age"}}, "[late done-recent mine open]"},
	}
	for _, tc := range cases {
		q, err := query.ParseBacklogQuery(tc.v, "l", now)
		if err != nil {
			t.Fatal(err)
		}
		ids, counts := pageAll(t, x, q)
		if fmt.Sprint(ids) != tc.want {
			t.Errorf("%v: %v, want %s", tc.v, ids, tc.want)
		}
		if counts.Live != 5 || counts.Callback != 1 || counts.Completed != 1 || counts.Overdue != 1 {
			t.Errorf("%v: counts %+v", tc.v, counts)
		}
	}
}

func TestBadQueriesNameTheField(t *testing.T) {
	for field, v := range map[string]url.Values{
		"status":  {"status": {"closed"}},
		"sort":    {"sort": {"newest"}},
		"overdue": {"overdue": {"yes"}},
		"limit":   {"limit": {"501"}},
	} {
		_, err := query.ParseBacklogQuery(v, "l", now)
		var e *domain.Error
		if !errors.As(err, &e) || (len(e.Fields) == 0 || e.Fields[0].Field != field) {
			t.Errorf("%v: %v, want an error naming %s", v, err, field)
		}
	}
	x := newIndex()
	_, err := x.Backlog(query.BacklogQuery{Lane: "l", Cursor: "not-a-cursor", Now: now})
	var e *domain.Error
	if !errors.As(err, &e) || (len(e.Fields) == 0 || e.Fields[0].Field != "cursor") {
		t.Errorf("a forged cursor: %v", err)
	}
	for field, v := range map[string]url.Values{
		"from":   {"from": {"yesterday"}},
		"to":     {"from": {"2026-11-30"}, "to": {"2026-11-01"}},
		"status": {"status": {"lost"}},
		"q":      {"q": {string(make([]byte, 101))}},
	} {
		_, err := query.ParseSearchQuery(v, now)
		if !errors.As(err, &e) || (len(e.Fields) == 0 || e.Fields[0].Field != field) {
			t.Errorf("search %v: %v, want an error naming %s", v, err, field)
		}
	}
}

func TestSearch(t *testing.T) {
	x := newIndex()
	for i := range 300 {
		st := order.StatusOpen
		if i%3 == 0 {
			st = order.StatusClosed
		}
		d := doc([]string{"a", "b"}[i%2], fmt.Sprintf("s-%03d", i), time.Duration(i)*time.Hour, st)
		if i%5 == 0 {
			d.Community = "xinhua"
		}
		x.Put(d)
	}
	// Closed orders submitted before the window are not kept; live ones are.
	x.Put(doc("a", "ancient-closed", 200*24*time.Hour, order.StatusClosed))
	x.Put(doc("a", "ancient-open", 200*24*time.Hour, order.StatusOpen))
	all := func(q query.SearchQuery) []string {
		var ids []string
		for {
			p, err := x.Search(q)
			if err != nil {
				t.Fatal(err)
			}
			for i, it := range p.Items {
				if len(ids) > 0 && i == 0 && it.SubmittedAt.After(now) {
					t.Fatal("not newest first")
				}
				ids = append(ids, it.ID)
			}
			if p.Next == "" {
				return ids
			}
			q.Cursor = p.Next
		}
	}
	if got := all(query.SearchQuery{Limit: 37, Now: now}); len(got) != 301 || got[0] != "s-000" || got[300] != "ancient-open" {
		t.Errorf("everything: %d orders, first %s last %s", len(got), got[0], got[len(got)-1])
	}
	if got := all(query.SearchQuery{Lane: "a", Status: "closed", Limit: 10, Now: now}); len(got) != 50 {
		t.Errorf("closed in lane a: %d, want 50", len(got))
	}
	if got := all(query.SearchQuery{Community: "xinhua", Now: now}); len(got) != 60 {
		t.Errorf("community: %d, want 60", len(got))
	}
	if got := all(query.SearchQuery{Text: "n-s-01", Now: now}); len(got) != 10 {
		t.Errorf("number prefix: %v", got)
	}
	if got := all(query.SearchQuery{Text: "灯不亮了 s-123", Now: now}); fmt.Sprint(got) != "[s-123]" {
		t.Errorf("title: %v", got)
	}
	if got := all(query.SearchQuery{From: now.Add(-10 * time.Hour), To: now.Add(-5 * time.Hour), Now: now}); fmt.Sprint(got) != "[s-006 s-007 s-008 s-009 s-010]" {
		t.Errorf("time range: %v", got)
	}
	onlyB := func(p query.Place) bool { return p.Lane == "b" }
	if got := all(query.SearchQuery{May: onlyB, Now: now}); len(got) != 150 {
		t.Errorf("what the caller may read: %d, want 150", len(got))
	}
	if st := x.Stats(); st.Orders != 301 || st.Live != 201 {
		t.Errorf("stats %+v", st)
	}
}

func TestApplyTakesTheViewsDocuments(t *testing.T) {
	x := newIndex()
	d := doc("l", "o-1", time.Hour, order.StatusOpen)
	b, _ := json.Marshal(d)
	if err := x.Apply("order.o-1", b); err != nil {
		t.Fatal(err)
	}
	if err := x.Apply("order.o-2", b); err == nil {
		t.Error("a document filed under another order's key was taken")
	}
	if err := x.Apply("order.o-3", []byte("{")); err == nil {
		t.Error("a broken document was taken")
	}
	if err := x.Apply("lane.l", []byte(`{"lane":"l"}`)); err != nil {
		t.Errorf("a lane document: %v", err)
	}
	if x.Ready() == nil {
		t.Error("ready before loading")
	}
	x.Loaded()
	if x.Ready() != nil {
		t.Error("not ready after loading")
	}
	done := make(chan bool)
	go func() { done <- x.Await(t.Context(), 9, 5*time.Second) }()
	if err := x.Apply("_checkpoint", []byte(`{"seq":9}`)); err != nil {
		t.Fatal(err)
	}
	if !<-done {
		t.Error("Await did not see the checkpoint")
	}
	if got := x.Live("l"); len(got) != 1 {
		t.Fatalf("live %v", got)
	}
	if err := x.Apply("order.o-1", nil); err != nil || len(x.Live("l")) != 0 {
		t.Errorf("a deleted document stays: %v", err)
	}
	if st := x.Stats(); st.Undecodable != 2 {
		t.Errorf("stats %+v, want 2 undecodable", st)
	}
}

func TestLoadsCountOrdersInHand(t *testing.T) {
	x := newIndex()
	put := func(lane, id string, st order.Status, who string) {
		d := doc(lane, id, time.Hour, st)
		d.Assignee = who
		x.Put(d)
	}
	put("a", "1", order.StatusDispatched, "m-1")
	put("a", "2", order.StatusAccepted, "m-1")
	put("a", "3", order.StatusCompleted, "m-1") // done, awaiting a rating
	put("a", "4", order.StatusOpen, "")
	put("b", "5", order.StatusAccepted, "m-2")
	put("b", "6", order.StatusClosed, "m-2") // not live
	got := x.Loads()
	if got["m-1"] != 2 || got["m-2"] != 1 || len(got) != 2 {
		t.Fatalf("loads %v, want m-1: 2, m-2: 1", got)
	}
}

// A member's list counts the member's own orders, on every page, not the lanes' counts
// (which are every member's).
func TestMatchedCountsWhatTheFiltersSelect(t *testing.T) {
	x := newIndex()
	for i := range 7 {
		d := doc("a", fmt.Sprintf("mine-%d", i), time.Hour, order.StatusAccepted)
		d.Assignee = "m-1"
		x.Put(d)
	}
	for i := range 30 {
		d := doc("b", fmt.Sprintf("theirs-%d", i), time.Hour, order.StatusDispatched)
		d.Assignee = "m-2"
		x.Put(d)
	}
	q := query.BacklogQuery{Lanes: []string{"a", "b"}, Assignee: "m-1", Limit: 3, Now: now}
	for pages := 0; pages < 5; pages++ {
		p, err := x.Backlog(q)
		if err != nil {
			t.Fatal(err)
		}
		if p.Matched != 7 {
			t.Fatalf("page %d: matched %d, want the member's 7", pages, p.Matched)
		}
		if p.Counts.Live != 37 {
			t.Fatalf("page %d: counts %+v, want the lanes' 37 live", pages, p.Counts)
		}
		if p.Next == "" {
			return
		}
		q.Cursor = p.Next
	}
	t.Fatal("paging does not end")
}
