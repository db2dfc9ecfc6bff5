package record_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/record"
)

var _ projections.View = (*record.View)(nil)

var liu = member.Registered{Name: "刘芳", Community: "taoyuan", Teams: []string{"红色方舟"}}

func TestCounting(t *testing.T) {
	type figures struct {
		dispatched, accepted, declined, completed, minutes, ratings int
		meanStars, onTimeRate                                       float64
		points                                                      int
	}
	cases := []struct {
		name   string
		events []domain.Event // of o-1, a minute apart, in November
		want   figures        // m-1's record
		whats  []string
	}{
		{"dispatched", []domain.Event{order.Dispatched{Member: "m-1"}},
			figures{dispatched: 1}, []string{"dispatched"}},
		{"reassigned counts as dispatched to the new member",
			[]domain.Event{order.Dispatched{Member: "m-2"}, order.Reassigned{From: "m-2", Member: "m-1", Reason: "病了"}},
			figures{dispatched: 1}, []string{"reassigned from m-2"}},
		{"claimed counts as accepted", []domain.Event{order.Claimed{Member: "m-1", OnTime: true}},
			figures{accepted: 1}, []string{"claimed"}},
		{"accepted late", []domain.Event{order.Dispatched{Member: "m-1"}, order.Accepted{Member: "m-1"}},
			figures{dispatched: 1, accepted: 1}, []string{"dispatched", "accepted after the accept deadline"}},
		{"declined", []domain.Event{order.Dispatched{Member: "m-1"}, order.Declined{Member: "m-1", Reason: "出差"}},
			figures{dispatched: 1, declined: 1}, []string{"dispatched", "declined"}},
		{"completed on time: 10 + 2", []domain.Event{order.Completed{Member: "m-1", Minutes: 40, OnTime: true}},
			figures{completed: 1, minutes: 40, onTimeRate: 1, points: 12}, []string{"completed on time, 40 min: +10 +2"}},
		{"completed late: 10", []domain.Event{order.Completed{Member: "m-1", Minutes: 90}},
			figures{completed: 1, minutes: 90, points: 10}, []string{"completed late, 90 min: +10"}},
		{"one of two on time", []domain.Event{order.Completed{Member: "m-1", Minutes: 1, OnTime: true}, order.Completed{Member: "m-1", Minutes: 2}},
			figures{completed: 2, minutes: 3, onTimeRate: 0.5, points: 22}, []string{"completed on time, 1 min: +10 +2", "completed late, 2 min: +10"}},
		{"1 star: 2×(1−3) = −4", []domain.Event{order.Rated{Member: "m-1", Solved: true, Stars: 1}},
			figures{ratings: 1, meanStars: 1, points: -4}, []string{"rated 1 star, solved: -4"}},
		{"2 stars: −2", []domain.Event{order.Rated{Member: "m-1", Solved: false, Stars: 2}},
			figures{ratings: 1, meanStars: 2, points: -2}, []string{"rated 2 stars, not solved: -2"}},
		{"3 stars: 0", []domain.Event{order.Rated{Member: "m-1", Solved: true, Stars: 3}},
			figures{ratings: 1, meanStars: 3}, []string{"rated 3 stars, solved: 0"}},
		{"4 stars: +2", []domain.Event{order.Rated{Member: "m-1", Solved: true, Stars: 4}},
			figures{ratings: 1, meanStars: 4, points: 2}, []string{"rated 4 stars, solved: +2"}},
		{"5 stars: +4, mean of 5 and 2 is 3.5", []domain.Event{order.Rated{Member: "m-1", Solved: true, Stars: 5}, order.Rated{Member: "m-1", Stars: 2}},
			figures{ratings: 2, meanStars: 3.5, points: 2}, []string{"rated 5 stars, solved: +4", "rated 2 stars, not solved: -2"}},
		{"events of other members, a note, an overdue mark and an escalation count nothing for m-1",
			[]domain.Event{order.Dispatched{Member: "m-2"}, order.Noted{Text: "x"}, order.MarkedOverdue{Deadline: order.DeadlineAccept},
				order.Escalated{Level: order.LevelCommunity, Reason: "x"}, order.Rated{Member: "m-2", Stars: 5}, order.Cancelled{Reason: "x"}},
			figures{}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHistory(t)
			h.Member(t0, "m-1", liu)
			h.Order(t0, "o-1", submitted("rouqiao-houxiang", "N-1", "楼道灯不亮了", t0))
			for i, ev := range tc.events {
				h.Order(t0.Add(time.Duration(i+1)*time.Minute), "o-1", ev)
			}
			v := record.New()
			apply(t, v, h.Recs)
			b := v.Doc(record.RecordKey("m-1", "2026-11"))
			if tc.whats == nil {
				if b != nil {
					t.Fatalf("m-1 has a record: %s", b)
				}
				return
			}
			r := doc[record.Record](t, v, record.RecordKey("m-1", "2026-11"))
			got := figures{r.Dispatched, r.Accepted, r.Declined, r.Completed, r.Minutes, r.Ratings, r.MeanStars, r.OnTimeRate, r.Points}
			if got != tc.want {
				t.Errorf("figures\n got %+v\nwant %+v", got, tc.want)
			}
			var whats []string
			sum := 0
			for _, e := range r.Events {
				whats = append(whats, e.What)
				sum += e.Points
				if e.Order != "o-1" || e.ID == "" || e.Type == "" || e.Time.IsZero() {
					t.Errorf("event %+v", e)
				}
			}
			if !slices.Equal(whats, tc.whats) {
				t.Errorf("events say %q, want %q", whats, tc.whats)
			}
			if sum != r.Points {
				t.Errorf("events' points add up to %d, record says %d", sum, r.Points)
			}
		})
	}
}

// TestMonths checks that records go by the Shanghai month of the event's time.
func TestMonths(t *testing.T) {
	cases := []struct {
		at     string
		period string
	}{
		{"2026-11-30T15:59:59Z", "2026-11"}, // 23:59:59 on 30 November in Shanghai
		{"2026-11-30T16:00:00Z", "2026-12"}, // midnight on 1 December in Shanghai
		{"2026-11-30T17:00:00Z", "2026-12"},
		{"2026-12-31T16:00:00Z", "2027-01"},
		{"2026-10-31T16:00:00Z", "2026-11"},
	}
	for _, tc := range cases {
		h := newHistory(t)
		h.Member(t0, "m-1", liu)
		rec := h.Order(ts(tc.at), "o-1", order.Rated{Member: "m-1", Solved: true, Stars: 5})
		v := record.New()
		apply(t, v, h.Recs[:1])
		got := v.Apply(rec, decode(t, rec))
		want := []string{record.RecordKey("m-1", tc.period), record.RankingKey("taoyuan", tc.period)}
		if !slices.Equal(got, want) {
			t.Errorf("%s: keys %v, want %v", tc.at, got, want)
		}
	}
}

// TestApplyKeys checks, event by event, which documents change.
func TestApplyKeys(t *testing.T) {
	const nov, dec = "2026-11", "2026-12"
	rec := func(m, p string) string { return record.RecordKey(m, p) }
	rank := func(c, p string) string { return record.RankingKey(c, p) }
	renamed := liu
	renamed.Name = "刘芳芳"
	reteamed := renamed
	reteamed.Teams = []string{"护航者", "红色方舟"}
	moved := reteamed
	moved.Community = "yingchun"
	steps := []struct {
		name string
		at   string
		agg  string
		id   string
		ev   domain.Event
		want []string
	}{
		{"registration", "2026-11-01T00:00:00Z", member.AggregateType, "m-1", liu, []string{"member.m-1"}},
		{"registering again as it is changes nothing", "2026-11-01T00:00:00Z", member.AggregateType, "m-1", liu, nil},
		{"the month's first event makes the record and joins the ranking", "2026-11-03T02:00:00Z", order.AggregateType, "o-1",
			order.Dispatched{Member: "m-1"}, []string{rec("m-1", nov), rank("taoyuan", nov)}},
		{"a counting-only event changes only the record", "2026-11-03T03:00:00Z", order.AggregateType, "o-1",
			order.Accepted{Member: "m-1", OnTime: true}, []string{rec("m-1", nov)}},
		{"a completion changes the ranking too", "2026-11-03T04:00:00Z", order.AggregateType, "o-1",
			order.Completed{Member: "m-1", Minutes: 5, OnTime: true}, []string{rec("m-1", nov), rank("taoyuan", nov)}},
		{"so does a rating, in its own month", "2026-12-01T00:00:00Z", order.AggregateType, "o-1",
			order.Rated{Member: "m-1", Solved: true, Stars: 4}, []string{rec("m-1", dec), rank("taoyuan", dec)}},
		{"a note counts nothing", "2026-12-01T00:00:00Z", order.AggregateType, "o-1", order.Noted{Text: "x"}, nil},
		{"a rating of nobody counts nothing", "2026-12-01T00:00:00Z", order.AggregateType, "o-2", order.Rated{Stars: 5}, nil},
		{"a lane event is not read", "2026-12-01T00:00:00Z", lane.AggregateType, "l-1", lane.Registered{Name: "孔园"}, nil},
		{"a token event is not read", "2026-12-01T00:00:00Z", "token", "tok-1", access.Revoked{}, nil},
		{"a new name changes the member's records and rankings", "2026-12-02T00:00:00Z", member.AggregateType, "m-1", member.Updated(renamed),
			[]string{"member.m-1", rec("m-1", nov), rank("taoyuan", nov), rec("m-1", dec), rank("taoyuan", dec)}},
		{"new teams change the rankings", "2026-12-02T00:00:00Z", member.AggregateType, "m-1", member.Updated(reteamed),
			[]string{"member.m-1", rank("taoyuan", nov), rank("taoyuan", dec)}},
		{"a move changes no record: each stays in the community it began in", "2026-12-02T00:00:00Z", member.AggregateType, "m-1",
			member.Updated(moved), []string{"member.m-1"}},
		{"retirement", "2026-12-03T00:00:00Z", member.AggregateType, "m-1", member.Retired{Reason: "搬走了"}, []string{"member.m-1"}},
		{"retiring again changes nothing", "2026-12-03T00:00:00Z", member.AggregateType, "m-1", member.Retired{Reason: "x"}, nil},
		{"an unknown member gets a record but no ranking", "2026-12-04T00:00:00Z", order.AggregateType, "o-3",
			order.Claimed{Member: "m-x", OnTime: true}, []string{rec("m-x", dec)}},
		{"and joins the ranking when registered", "2026-12-05T00:00:00Z", member.AggregateType, "m-x", member.Registered{Name: "新人", Community: "taoyuan"},
			[]string{"member.m-x", rec("m-x", dec), rank("taoyuan", dec)}},
		{"a dispatch for an order never seen still counts: the event names its member", "2026-12-06T00:00:00Z", order.AggregateType, "o-ghost",
			order.Dispatched{Member: "m-x"}, []string{rec("m-x", dec)}},
	}
	h := newHistory(t)
	v := record.New()
	for _, s := range steps {
		r := h.Add(ts(s.at), s.agg, s.id, s.ev)
		if got := v.Apply(r, decode(t, r)); !slices.Equal(got, s.want) {
			t.Errorf("%s: keys %v, want %v", s.name, got, s.want)
		}
	}
	p := doc[record.Profile](t, v, record.MemberKey("m-1"))
	if p.Name != "刘芳芳" || p.Community != "yingchun" || p.Active || !slices.Equal(p.Teams, []string{"护航者", "红色方舟"}) {
		t.Errorf("profile %+v", p)
	}
	if r := doc[record.Record](t, v, rec("m-1", nov)); r.Community != "taoyuan" || r.Name != "刘芳芳" || r.Seq != 11 {
		t.Errorf("m-1's November record: %s of %s at seq %d", r.Name, r.Community, r.Seq)
	}
	if r := doc[record.Ranking](t, v, rank("taoyuan", dec)); len(r.Items) != 2 || r.Items[0].Member != "m-1" || r.Items[1].Name != "新人" || r.Seq != 17 {
		t.Errorf("taoyuan's December ranking: %+v", r)
	}
	for _, k := range []string{"member.m-9", "record.m-1.2026-10", "record.m-1", "ranking.yingchun.2026-12", "other", ""} {
		if b := v.Doc(k); b != nil {
			t.Errorf("Doc(%q) = %s, want nil", k, b)
		}
	}
}

// TestDocs pins the documents' JSON, byte for byte.
func TestDocs(t *testing.T) {
	h := newHistory(t)
	h.Member(t0, "m-1", member.Registered{Name: "刘芳", Community: "taoyuan", Teams: []string{"红色方舟", "护航者"}})
	h.Order(t0.Add(time.Hour), "o-1", order.Completed{Member: "m-1", Minutes: 40, OnTime: true})
	h.Order(t0.Add(2*time.Hour), "o-1", order.Rated{Member: "m-1", Solved: true, Stars: 5})
	h.Member(t0.Add(3*time.Hour), "m-2", member.Registered{Name: "王强", Community: "taoyuan"})
	h.Order(t0.Add(4*time.Hour), "o-2", order.Dispatched{Member: "m-2"})
	v := record.New()
	apply(t, v, h.Recs)

	cases := []struct{ key, want string }{
		{"member.m-1", `{"id":"m-1","name":"刘芳","community":"taoyuan","teams":["护航者","红色方舟"],"active":true}`},
		{"member.m-2", `{"id":"m-2","name":"王强","community":"taoyuan","teams":[],"active":true}`},
		{"record.m-1.2026-11", `{"member":"m-1","name":"刘芳","community":"taoyuan","period":"2026-11",` +
			`"dispatched":0,"accepted":0,"declined":0,"completed":1,"minutes":40,"ratings":1,"mean_stars":5,` +
			`"on_time_rate":1,"points":16,"events":[` +
			`{"seq":2,"id":"ev-000002","type":"redlane.order.completed.v1","time":"2026-11-03T03:00:00Z","order":"o-1","points":12,"what":"completed on time, 40 min: +10 +2"},` +
			`{"seq":3,"id":"ev-000003","type":"redlane.order.rated.v1","time":"2026-11-03T04:00:00Z","order":"o-1","points":4,"what":"rated 5 stars, solved: +4"}],` +
			`"seq":3}`},
		{"ranking.taoyuan.2026-11", `{"community":"taoyuan","period":"2026-11","items":[` +
			`{"member":"m-1","name":"刘芳","teams":["护航者","红色方舟"],"points":16,"completed":1,"ratings":1,"mean_stars":5,"sample":2},` +
			`{"member":"m-2","name":"王强","teams":[],"points":0,"completed":0,"ratings":0,"mean_stars":0,"sample":0}],"seq":5}`},
	}
	for _, tc := range cases {
		if got := string(v.Doc(tc.key)); got != tc.want {
			t.Errorf("%s\n got %s\nwant %s", tc.key, got, tc.want)
		}
	}
}

// TestExplained checks, over a long history, that every record's figures are exactly
// what its listed events add up to.
func TestExplained(t *testing.T) {
	recs := long()
	v := record.New()
	keys := apply(t, v, recs)
	records := 0
	for _, k := range keys {
		if !strings.HasPrefix(k, "record.") {
			continue
		}
		records++
		r := doc[record.Record](t, v, k)
		n := map[string]int{}
		sum := 0
		for _, e := range r.Events {
			n[e.Type]++
			sum += e.Points
		}
		if sum != r.Points ||
			r.Dispatched != n[order.TypeDispatched]+n[order.TypeReassigned] ||
			r.Accepted != n[order.TypeAccepted]+n[order.TypeClaimed] ||
			r.Declined != n[order.TypeDeclined] || r.Completed != n[order.TypeCompleted] || r.Ratings != n[order.TypeRated] {
			t.Fatalf("%s is not what its events add up to: %+v", k, r)
		}
	}
	if records < 60 {
		t.Fatalf("only %d records: the history is too short to tell", records)
	}
}

func TestDeterministic(t *testing.T) {
	recs := long()
	keys := allKeys(t, recs)
	a, b := record.New(), record.New()
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
	for _, cut := range []int{0, 1, 50, len(recs) / 3, len(recs) / 2, len(recs) - 1} {
		v1 := record.New()
		keys := apply(t, v1, recs[:cut])
		v2 := record.New()
		// Rankings first, then records, then members: the reverse of key order.
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

func TestRestoreScenario(t *testing.T) {
	recs := scenario(t)
	v1 := record.New()
	keys := apply(t, v1, recs[:lastOfNovember+2])
	v2 := record.New()
	for _, k := range keys {
		if err := v2.Restore(k, v1.Doc(k)); err != nil {
			t.Fatal(err)
		}
	}
	apply(t, v1, recs[lastOfNovember+2:])
	apply(t, v2, recs[lastOfNovember+2:])
	sameDocs(t, v1, v2, allKeys(t, recs))
}

func TestRestoreRefuses(t *testing.T) {
	cases := map[string]struct{ key, doc string }{
		"not JSON":                  {"member.m-1", `{`},
		"another member":            {"member.m-1", `{"id":"m-2"}`},
		"a record of another":       {"record.m-1.2026-11", `{"member":"m-2","period":"2026-11"}`},
		"a record of another month": {"record.m-1.2026-11", `{"member":"m-1","period":"2026-12"}`},
		"another ranking":           {"ranking.taoyuan.2026-11", `{"community":"yingchun","period":"2026-11"}`},
		"an unknown key":            {"lane.a", `{}`},
	}
	for name, tc := range cases {
		if err := record.New().Restore(tc.key, []byte(tc.doc)); err == nil {
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
	v := record.New()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		j := i % len(recs)
		if j == 0 {
			v = record.New()
		}
		v.Apply(recs[j], evs[j])
	}
}
