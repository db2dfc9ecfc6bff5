package backlog_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/backlog"
)

var _ projections.View = (*backlog.View)(nil)

const laneA = "rouqiao-houxiang"

var registered = lane.Registered{Name: "柔桥后巷", Community: "taoyuan", Street: "dongcheng", Station: "柔桥后巷驿站"}

func TestLifecycle(t *testing.T) {
	newAcceptBy, newCompleteBy := t0.Add(48*time.Hour), t0.Add(96*time.Hour)
	cases := []struct {
		name   string
		events []domain.Event // after o-1's submission, a minute apart
		want   *backlog.Item  // o-1's item in the lane's backlog; nil: not there
		status order.Status   // o-1's status in its order document
	}{
		{name: "submitted is open", want: &backlog.Item{Status: order.StatusOpen}, status: order.StatusOpen},
		{name: "dispatched", events: []domain.Event{order.Dispatched{Member: "m-1"}},
			want: &backlog.Item{Status: order.StatusDispatched, Assignee: "m-1"}, status: order.StatusDispatched},
		{name: "accepted", events: []domain.Event{order.Dispatched{Member: "m-1"}, order.Accepted{Member: "m-1", OnTime: true}},
			want: &backlog.Item{Status: order.StatusAccepted, Assignee: "m-1"}, status: order.StatusAccepted},
		{name: "claimed is accepted", events: []domain.Event{order.Claimed{Member: "m-2", OnTime: true}},
			want: &backlog.Item{Status: order.StatusAccepted, Assignee: "m-2"}, status: order.StatusAccepted},
		{name: "declined is open again, nobody's, and marked returned", events: []domain.Event{order.Dispatched{Member: "m-1"}, order.Declined{Member: "m-1", Reason: "没空"}},
			want: &backlog.Item{Status: order.StatusOpen, Returned: true}, status: order.StatusOpen},
		{name: "declined, then dispatched again, is no longer returned", events: []domain.Event{order.Dispatched{Member: "m-1"}, order.Declined{Member: "m-1", Reason: "没空"}, order.Dispatched{Member: "m-2"}},
			want: &backlog.Item{Status: order.StatusDispatched, Assignee: "m-2"}, status: order.StatusDispatched},
		{name: "reassigned is dispatched to the new member", events: []domain.Event{order.Dispatched{Member: "m-1"}, order.Accepted{Member: "m-1"}, order.Reassigned{From: "m-1", Member: "m-2", Reason: "病了"}},
			want: &backlog.Item{Status: order.StatusDispatched, Assignee: "m-2"}, status: order.StatusDispatched},
		{name: "completed awaits its rating", events: []domain.Event{order.Claimed{Member: "m-1"}, order.Completed{Member: "m-1", Minutes: 30}},
			want: &backlog.Item{Status: order.StatusCompleted, Assignee: "m-1"}, status: order.StatusCompleted},
		{name: "marked overdue", events: []domain.Event{order.Dispatched{Member: "m-1"}, order.MarkedOverdue{Deadline: order.DeadlineAccept, Due: t0}},
			want: &backlog.Item{Status: order.StatusDispatched, Assignee: "m-1", Overdue: true}, status: order.StatusDispatched},
		{name: "escalated, since when and why", events: []domain.Event{order.Escalated{Level: order.LevelStreet, Reason: "跨社区"}},
			want: &backlog.Item{Status: order.StatusOpen, Escalation: order.LevelStreet, EscalatedAt: ptrTime(t0.Add(time.Minute)), EscalationReason: "跨社区", Reached: order.LevelStreet}, status: order.StatusOpen},
		{name: "sent back from the street to the community, since when and why", events: []domain.Event{order.Escalated{Level: order.LevelStreet, Reason: "跨社区"},
			order.Returned{From: order.LevelStreet, Level: order.LevelCommunity, Reason: "社区先协调"}},
			want: &backlog.Item{Status: order.StatusOpen, Escalation: order.LevelCommunity, EscalatedAt: ptrTime(t0.Add(2 * time.Minute)), EscalationReason: "社区先协调", SentBack: true, Reached: order.LevelStreet}, status: order.StatusOpen},
		{name: "sent back to the lane is un-escalated, but remembers it reached the community", events: []domain.Event{order.Escalated{Level: order.LevelCommunity, Reason: "协调"},
			order.Returned{From: order.LevelCommunity, Level: order.LevelLane, Reason: "驿站处理"}},
			want: &backlog.Item{Status: order.StatusOpen, SentBack: true, Reached: order.LevelCommunity}, status: order.StatusOpen},
		{name: "rated solved leaves", events: []domain.Event{order.Claimed{Member: "m-1"}, order.Completed{Member: "m-1", Minutes: 30}, order.Rated{Member: "m-1", Solved: true, Stars: 5}},
			status: order.StatusClosed},
		{name: "rated unsolved comes back open, nobody's, not overdue, with new deadlines",
			events: []domain.Event{order.Claimed{Member: "m-1"}, order.MarkedOverdue{Deadline: order.DeadlineComplete, Due: t0},
				order.Completed{Member: "m-1", Minutes: 30}, order.Rated{Member: "m-1", Solved: false, Stars: 2, AcceptBy: newAcceptBy, CompleteBy: newCompleteBy}},
			want:   &backlog.Item{Status: order.StatusOpen, AcceptBy: newAcceptBy, CompleteBy: newCompleteBy},
			status: order.StatusOpen},
		{name: "reopened after closing comes back open",
			events: []domain.Event{order.Dispatched{Member: "m-1"}, order.Accepted{Member: "m-1"}, order.Completed{Member: "m-1", Minutes: 30},
				order.Rated{Member: "m-1", Solved: true, Stars: 4}, order.Reopened{Reason: "又坏了", AcceptBy: newAcceptBy, CompleteBy: newCompleteBy}},
			want:   &backlog.Item{Status: order.StatusOpen, AcceptBy: newAcceptBy, CompleteBy: newCompleteBy},
			status: order.StatusOpen},
		{name: "cancelled while open leaves", events: []domain.Event{order.Cancelled{Reason: "不需要了"}},
			status: order.StatusCancelled},
		{name: "cancelled while accepted leaves", events: []domain.Event{order.Claimed{Member: "m-1"}, order.Cancelled{Reason: "重复"}},
			status: order.StatusCancelled},
		{name: "a note changes nothing", events: []domain.Event{order.Noted{Text: "已联系", Internal: true}},
			want: &backlog.Item{Status: order.StatusOpen}, status: order.StatusOpen},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHistory(t)
			h.Lane(t0, laneA, registered)
			sub := submitted(laneA, "N-1", "楼道灯不亮了", t0)
			h.Order(t0, "o-1", sub)
			// A second order keeps the backlog from being empty.
			h.Order(t0.Add(time.Second), "o-2", submitted(laneA, "N-2", "水管漏水", t0.Add(time.Second)))
			for i, ev := range tc.events {
				h.Order(t0.Add(time.Duration(i+1)*time.Minute), "o-1", ev)
			}
			v := backlog.New()
			apply(t, v, h.Recs)

			want := backlog.Item{
				ID: "o-1", Number: "N-1", Title: "楼道灯不亮了", Category: "repair", Priority: order.PriorityNormal,
				Escalation: order.LevelLane, SubmittedAt: t0, AcceptBy: sub.AcceptBy, CompleteBy: sub.CompleteBy,
			}
			wantItems := []string{"o-2"}
			if tc.want != nil {
				want.Status, want.Assignee, want.Overdue, want.Returned = tc.want.Status, tc.want.Assignee, tc.want.Overdue, tc.want.Returned
				want.EscalatedAt, want.EscalationReason, want.SentBack, want.Reached = tc.want.EscalatedAt, tc.want.EscalationReason, tc.want.SentBack, tc.want.Reached
				if tc.want.Escalation != "" {
					want.Escalation = tc.want.Escalation
				}
				if !tc.want.AcceptBy.IsZero() {
					want.AcceptBy, want.CompleteBy = tc.want.AcceptBy, tc.want.CompleteBy
				}
				if tc.want.Status == order.StatusCompleted { // when the last event, the completion, was recorded
					at := t0.Add(time.Duration(len(tc.events)) * time.Minute)
					want.CompletedAt = &at
				}
				wantItems = []string{"o-1", "o-2"}
			}

			l := doc[backlog.Lane](t, v, backlog.LaneKey(laneA))
			items := v.Items(laneA)
			var ids []string
			for _, it := range items {
				ids = append(ids, it.ID)
			}
			if !slices.Equal(ids, wantItems) {
				t.Fatalf("items %v, want %v", ids, wantItems)
			}
			if tc.want != nil && !reflect.DeepEqual(items[0], want) {
				t.Errorf("item\n got %+v\nwant %+v", items[0], want)
			}
			if got := doc[backlog.Order](t, v, backlog.OrderKey("o-1")); got.Status != tc.status || got.Lane != laneA {
				t.Errorf("order document: status %q in lane %q, want %q in %q", got.Status, got.Lane, tc.status, laneA)
			}

			var c backlog.Counts
			for _, it := range items {
				switch it.Status {
				case order.StatusOpen:
					c.Open++
				case order.StatusDispatched:
					c.Dispatched++
				case order.StatusAccepted:
					c.Accepted++
				case order.StatusCompleted:
					c.Completed++
				}
				if it.Overdue {
					c.Overdue++
				}
			}
			if l.Counts != c || l.Live != len(items) {
				t.Errorf("counts %+v and %d live, want %+v and %d", l.Counts, l.Live, c, len(items))
			}
		})
	}
}

// TestApplyKeys checks, event by event, which documents change and their seq.
func TestApplyKeys(t *testing.T) {
	laneKey, o1, o2 := backlog.LaneKey(laneA), backlog.OrderKey("o-1"), backlog.OrderKey("o-2")
	steps := []struct {
		name   string
		agg    string
		id     string
		ev     domain.Event
		want   []string
		laneAt int // the seq the lane's document should then have; 0: no lane document
	}{
		{"an order before its lane is registered makes the lane", order.AggregateType, "o-1", submitted(laneA, "N-1", "楼道灯不亮了", t0), []string{o1, laneKey}, 1},
		{"registering the lane names it", lane.AggregateType, laneA, registered, []string{laneKey}, 2},
		{"registering it again as it is changes nothing", lane.AggregateType, laneA, lane.Updated(registered), nil, 2},
		{"dispatch", order.AggregateType, "o-1", order.Dispatched{Member: "m-1"}, []string{o1, laneKey}, 4},
		{"a note changes nothing", order.AggregateType, "o-1", order.Noted{Text: "已联系"}, nil, 4},
		{"overdue", order.AggregateType, "o-1", order.MarkedOverdue{Deadline: order.DeadlineAccept, Due: t0}, []string{o1, laneKey}, 6},
		{"a second overdue mark changes nothing", order.AggregateType, "o-1", order.MarkedOverdue{Deadline: order.DeadlineComplete, Due: t0}, nil, 6},
		{"escalate", order.AggregateType, "o-1", order.Escalated{Level: order.LevelCommunity, Reason: "久拖"}, []string{o1, laneKey}, 8},
		{"escalating to the same level changes nothing", order.AggregateType, "o-1", order.Escalated{Level: order.LevelCommunity, Reason: "再催"}, nil, 8},
		{"an order never seen submitted is ignored", order.AggregateType, "o-ghost", order.Dispatched{Member: "m-1"}, nil, 8},
		{"a token event is not read", "token", "tok-1", access.Issued{Role: domain.RoleSteward, Name: "王芳"}, nil, 8},
		{"cancel", order.AggregateType, "o-1", order.Cancelled{Reason: "重复"}, []string{o1, laneKey}, 12},
		{"an odd event for a cancelled order changes only its index", order.AggregateType, "o-1", order.Escalated{Level: order.LevelStreet, Reason: "?"}, []string{o1}, 12},
		{"a second submission is ignored", order.AggregateType, "o-1", submitted(laneA, "N-9", "别的", t0), nil, 12},
		{"another order", order.AggregateType, "o-2", submitted(laneA, "N-2", "水管漏水", t0), []string{o2, laneKey}, 15},
	}
	h := newHistory(t)
	v := backlog.New()
	for i, s := range steps {
		rec := h.Add(t0.Add(time.Duration(i)*time.Minute), s.agg, s.id, s.ev)
		got := v.Apply(rec, decode(t, rec))
		if !slices.Equal(got, s.want) {
			t.Errorf("%s: keys %v, want %v", s.name, got, s.want)
		}
		if seq := doc[backlog.Lane](t, v, laneKey).Seq; seq != uint64(s.laneAt) {
			t.Errorf("%s: lane seq %d, want %d", s.name, seq, s.laneAt)
		}
	}
	if got := doc[backlog.Order](t, v, o1); got.Seq != 13 || got.Escalation != order.LevelStreet || got.Status != order.StatusCancelled {
		t.Errorf("o-1's index: %+v", got)
	}
	for _, k := range []string{"order.o-ghost", "lane.nowhere", "other", ""} {
		if b := v.Doc(k); b != nil {
			t.Errorf("Doc(%q) = %s, want nil", k, b)
		}
	}
}

// TestDocs pins the documents' JSON, byte for byte.
func TestDocs(t *testing.T) {
	h := newHistory(t)
	h.Lane(t0, laneA, registered)
	h.Order(t0, "o-1", submitted(laneA, "N-1", "楼道灯不亮了", t0))
	h.Order(t0.Add(time.Hour), "o-1", order.Dispatched{Member: "m-001"})
	v := backlog.New()
	apply(t, v, h.Recs)

	wantLane := `{"lane":"rouqiao-houxiang","name":"柔桥后巷","community":"taoyuan","street":"dongcheng",` +
		`"counts":{"open":0,"dispatched":1,"accepted":0,"completed":0,"overdue":0},"live":1,"seq":3}`
	if got := string(v.Doc(backlog.LaneKey(laneA))); got != wantLane {
		t.Errorf("lane document\n got %s\nwant %s", got, wantLane)
	}
	wantOrder := `{"lane":"rouqiao-houxiang","community":"taoyuan","street":"dongcheng",` +
		`"id":"o-1","number":"N-1","title":"楼道灯不亮了","category":"repair","priority":"normal",` +
		`"status":"dispatched","assignee":"m-001","escalation":"lane","submitted_at":"2026-11-03T02:00:00Z",` +
		`"accept_by":"2026-11-04T02:00:00Z","complete_by":"2026-11-06T02:00:00Z","overdue":false,"seq":3}`
	if got := string(v.Doc(backlog.OrderKey("o-1"))); got != wantOrder {
		t.Errorf("order document\n got %s\nwant %s", got, wantOrder)
	}

	// A lane with no live order has zero counts.
	h.Order(t0.Add(2*time.Hour), "o-1", order.Cancelled{Reason: "重复"})
	apply(t, v, h.Recs[3:])
	wantEmpty := `{"lane":"rouqiao-houxiang","name":"柔桥后巷","community":"taoyuan","street":"dongcheng",` +
		`"counts":{"open":0,"dispatched":0,"accepted":0,"completed":0,"overdue":0},"live":0,"seq":4}`
	if got := string(v.Doc(backlog.LaneKey(laneA))); got != wantEmpty {
		t.Errorf("empty lane document\n got %s\nwant %s", got, wantEmpty)
	}
}

func TestItemsSortedBySubmissionThenID(t *testing.T) {
	h := newHistory(t)
	// Log order is not time order: writers' clocks differ a little.
	h.Order(t0.Add(time.Minute), "o-b", submitted(laneA, "N-b", "b", t0))
	h.Order(t0.Add(time.Minute), "o-a", submitted(laneA, "N-a", "a", t0))
	h.Order(t0, "o-c", submitted(laneA, "N-c", "c", t0))
	h.Order(t0.Add(2*time.Minute), "o-0", submitted(laneA, "N-0", "0", t0))
	v := backlog.New()
	apply(t, v, h.Recs)
	var ids []string
	for _, it := range v.Items(laneA) {
		ids = append(ids, it.ID)
	}
	if want := []string{"o-c", "o-a", "o-b", "o-0"}; !slices.Equal(ids, want) {
		t.Errorf("items %v, want %v", ids, want)
	}
}

func TestDeterministic(t *testing.T) {
	recs := long()
	keys := allKeys(t, recs)
	a, b := backlog.New(), backlog.New()
	apply(t, a, recs)
	apply(t, b, recs)
	sameDocs(t, a, b, keys)
	for _, k := range keys {
		if a.Doc(k) == nil {
			t.Fatalf("no document under reported key %s", k)
		}
	}
}

// TestRestore stops a view part way, restores a fresh one from its documents, and
// checks that both then report the same keys and hold the same documents.
func TestRestore(t *testing.T) {
	recs := long()
	all := allKeys(t, recs)
	for _, cut := range []int{0, 1, len(recs) / 3, len(recs) / 2, len(recs) - 1} {
		v1 := backlog.New()
		keys := apply(t, v1, recs[:cut])
		v2 := backlog.New()
		// Restore in reverse key order: lanes after their orders.
		for _, k := range slices.Backward(keys) {
			if err := v2.Restore(k, v1.Doc(k)); err != nil {
				t.Fatal(err)
			}
		}
		sameDocs(t, v1, v2, keys)
		for _, rec := range recs[cut:] {
			ev := decode(t, rec)
			k1, k2 := v1.Apply(rec, ev), v2.Apply(rec, ev)
			if !slices.Equal(k1, k2) {
				t.Fatalf("cut %d, seq %d: keys %v and %v", cut, rec.Seq, k1, k2)
			}
		}
		sameDocs(t, v1, v2, all)
	}
}

func TestRestoreRefuses(t *testing.T) {
	cases := map[string]struct{ key, doc string }{
		"not JSON":          {"lane.a", `{`},
		"another lane":      {"lane.a", `{"lane":"b"}`},
		"another order":     {"order.o-1", `{"lane":"a","id":"o-2"}`},
		"an order, no lane": {"order.o-1", `{"id":"o-1"}`},
		"an unknown key":    {"feed.1", `{}`},
	}
	for name, tc := range cases {
		if err := backlog.New().Restore(tc.key, []byte(tc.doc)); err == nil {
			t.Errorf("%s: restored", name)
		}
	}
}

func BenchmarkApply(b *testing.B) {
	recs := synth(b, 30, 300, 20000)
	evs := make([]domain.Event, len(recs))
	for i, rec := range recs {
		evs[i] = decode(b, rec)
	}
	v := backlog.New()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		j := i % len(recs)
		if j == 0 {
			v = backlog.New()
		}
		v.Apply(recs[j], evs[j])
	}
}

func ptrTime(t time.Time) *time.Time { return &t }

// After a period roll the log's positions start again below those the restored
// documents name: the runner sets the mark to where the view stands in the new period
// (projections.SetApplied), and the view takes the new period's events.
func TestRestoreIntoALaterPeriod(t *testing.T) {
	recs := long()
	cut := len(recs) / 2
	next := slices.Clone(recs[cut:])
	for i := range next {
		next[i].Seq = uint64(i + 2) // the next period: its own positions after one carried event
	}
	v1 := backlog.New()
	keys := apply(t, v1, recs[:cut])
	restore := func() *backlog.View {
		v := backlog.New()
		for _, k := range keys {
			if err := v.Restore(k, v1.Doc(k)); err != nil {
				t.Fatal(err)
			}
		}
		return v
	}
	stale, v2 := restore(), restore()
	projections.SetApplied(v1, 1)
	projections.SetApplied(v2, 1)
	took := 0
	for _, rec := range next {
		ev := decode(t, rec)
		if len(stale.Apply(rec, ev)) > 0 {
			t.Fatalf("without its mark set, the restored view took the event at %d", rec.Seq)
		}
		k1, k2 := v1.Apply(rec, ev), v2.Apply(rec, ev)
		if !slices.Equal(k1, k2) {
			t.Fatalf("seq %d: keys %v and %v", rec.Seq, k1, k2)
		}
		took += len(k2)
	}
	if took == 0 {
		t.Fatal("the later period's events changed nothing")
	}
	sameDocs(t, v1, v2, allKeys(t, recs))
}
