package record_test

import (
	"slices"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/projections/record"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// scenario is two lanes of 塔苑 (taoyuan), three of its members and eleven orders over
// November and December 2026. Times are UTC; months are Shanghai's (UTC+8), so events
// 32 and 33, at 2026-11-30T16:30Z and T17:00Z, are already in December while event 31,
// at T15:59Z, is the last of November. The comment on each event is its seq.
func scenario(tb testing.TB) []domain.Recorded {
	tb.Helper()
	h := newHistory(tb)
	const l1, l2 = "rouqiao-houxiang", "kongyuan"
	sub := func(laneID, number, at string, p order.Priority) order.Submitted {
		s := submitted(laneID, number, "请求"+number, ts(at))
		s.Priority = p
		return s
	}
	normal, urgent := order.PriorityNormal, order.PriorityUrgent
	o := func(at, id string, ev domain.Event) { h.Order(ts(at), id, ev) }

	h.Lane(ts("2026-11-01T00:00:00Z"), l1, lane.Registered{Name: "柔桥后巷", Community: "taoyuan", Street: "dongcheng"})                 // 1
	h.Lane(ts("2026-11-01T00:01:00Z"), l2, lane.Registered{Name: "孔园", Community: "taoyuan", Street: "dongcheng"})                   // 2
	h.Member(ts("2026-11-01T00:02:00Z"), "m-1", member.Registered{Name: "刘芳", Community: "taoyuan", Teams: []string{"红色方舟"}})        // 3
	h.Member(ts("2026-11-01T00:03:00Z"), "m-2", member.Registered{Name: "王强", Community: "taoyuan", Teams: []string{"红色方舟", "护航者"}}) // 4
	h.Member(ts("2026-11-01T00:04:00Z"), "m-3", member.Registered{Name: "陈静", Community: "taoyuan", Teams: []string{"姐妹帮帮团"}})       // 5
	o("2026-11-03T02:00:00Z", "o-1", sub(l1, "N-1", "2026-11-03T02:00:00Z", normal))                                                 // 6
	o("2026-11-03T03:00:00Z", "o-1", order.Dispatched{Member: "m-1"})                                                                // 7
	o("2026-11-03T04:00:00Z", "o-1", order.Accepted{Member: "m-1", OnTime: true})                                                    // 8
	o("2026-11-04T02:00:00Z", "o-1", order.Completed{Member: "m-1", Note: "换了灯", Minutes: 40, OnTime: true})                         // 9
	o("2026-11-05T02:00:00Z", "o-2", sub(l1, "N-2", "2026-11-05T02:00:00Z", normal))                                                 // 10
	o("2026-11-05T03:00:00Z", "o-2", order.Dispatched{Member: "m-2"})                                                                // 11
	o("2026-11-05T04:00:00Z", "o-2", order.Declined{Member: "m-2", Reason: "出差"})                                                    // 12
	o("2026-11-05T05:00:00Z", "o-2", order.Dispatched{Member: "m-1"})                                                                // 13
	o("2026-11-05T06:00:00Z", "o-2", order.Accepted{Member: "m-1", OnTime: true})                                                    // 14
	o("2026-11-08T03:00:00Z", "o-2", order.MarkedOverdue{Deadline: order.DeadlineComplete, Due: ts("2026-11-08T02:00:00Z")})         // 15
	o("2026-11-09T02:00:00Z", "o-2", order.Completed{Member: "m-1", Note: "修好了", Minutes: 90, OnTime: false})                        // 16
	o("2026-11-10T02:00:00Z", "o-3", sub(l2, "N-3", "2026-11-10T02:00:00Z", normal))                                                 // 17
	o("2026-11-10T03:00:00Z", "o-3", order.Claimed{Member: "m-3", OnTime: true})                                                     // 18
	o("2026-11-12T02:00:00Z", "o-3", order.Completed{Member: "m-3", Note: "讲清楚了", Minutes: 60, OnTime: true})                        // 19
	o("2026-11-13T02:00:00Z", "o-3", order.Rated{Member: "m-3", Solved: true, Stars: 3})                                             // 20
	o("2026-11-20T02:00:00Z", "o-4", sub(l2, "N-4", "2026-11-20T02:00:00Z", normal))                                                 // 21
	o("2026-11-20T03:00:00Z", "o-4", order.Dispatched{Member: "m-2"})                                                                // 22
	o("2026-11-20T04:00:00Z", "o-4", order.Accepted{Member: "m-2", OnTime: true})                                                    // 23
	o("2026-11-22T02:00:00Z", "o-4", order.Reassigned{From: "m-2", Member: "m-3", Reason: "病了"})                                     // 24
	o("2026-11-22T03:00:00Z", "o-4", order.Accepted{Member: "m-3", OnTime: true})                                                    // 25
	o("2026-11-25T02:00:00Z", "o-5", sub(l1, "N-5", "2026-11-25T02:00:00Z", normal))                                                 // 26
	o("2026-11-26T02:00:00Z", "o-5", order.Cancelled{Reason: "重复"})                                                                  // 27
	o("2026-11-28T02:00:00Z", "o-6", sub(l2, "N-6", "2026-11-28T02:00:00Z", normal))                                                 // 28
	o("2026-11-28T03:00:00Z", "o-6", order.Dispatched{Member: "m-2"})                                                                // 29
	o("2026-11-29T03:00:00Z", "o-6", order.MarkedOverdue{Deadline: order.DeadlineAccept, Due: ts("2026-11-29T02:00:00Z")})           // 30
	o("2026-11-30T15:59:00Z", "o-4", order.Completed{Member: "m-3", Note: "好了", Minutes: 30, OnTime: true})                          // 31
	o("2026-11-30T16:30:00Z", "o-6", order.Accepted{Member: "m-2", OnTime: false})                                                   // 32
	o("2026-11-30T17:00:00Z", "o-2", order.Rated{Member: "m-1", Solved: false, Stars: 1,                                             // 33
		AcceptBy: ts("2026-12-01T17:00:00Z"), CompleteBy: ts("2026-12-03T17:00:00Z")})
	o("2026-12-01T01:00:00Z", "o-7", sub(l1, "N-7", "2026-12-01T01:00:00Z", normal))                                         // 34
	o("2026-12-01T02:00:00Z", "o-1", order.Rated{Member: "m-1", Solved: true, Stars: 5})                                     // 35
	o("2026-12-01T02:30:00Z", "o-7", order.Dispatched{Member: "m-3"})                                                        // 36
	o("2026-12-02T02:00:00Z", "o-2", order.Claimed{Member: "m-1", OnTime: true})                                             // 37
	o("2026-12-02T02:30:00Z", "o-7", order.MarkedOverdue{Deadline: order.DeadlineAccept, Due: ts("2026-12-02T01:00:00Z")})   // 38
	o("2026-12-02T03:00:00Z", "o-7", order.Accepted{Member: "m-3", OnTime: false})                                           // 39
	o("2026-12-02T05:00:00Z", "o-4", order.Rated{Member: "m-3", Solved: true, Stars: 1})                                     // 40
	o("2026-12-03T02:00:00Z", "o-2", order.Completed{Member: "m-1", Note: "这次修好了", Minutes: 30, OnTime: true})               // 41
	o("2026-12-04T02:00:00Z", "o-6", order.Completed{Member: "m-2", Note: "送到了", Minutes: 120, OnTime: false})               // 42
	o("2026-12-04T03:00:00Z", "o-7", order.MarkedOverdue{Deadline: order.DeadlineComplete, Due: ts("2026-12-04T01:00:00Z")}) // 43
	o("2026-12-05T02:00:00Z", "o-7", order.Completed{Member: "m-3", Note: "调解了", Minutes: 45, OnTime: false})                // 44
	o("2026-12-05T02:30:00Z", "o-3", order.Reopened{Reason: "又来问了",                                                          // 45
		AcceptBy: ts("2026-12-06T02:30:00Z"), CompleteBy: ts("2026-12-08T02:30:00Z")})
	o("2026-12-05T03:00:00Z", "o-8", sub(l2, "N-8", "2026-12-05T03:00:00Z", normal))                                       // 46
	o("2026-12-05T03:30:00Z", "o-6", order.Rated{Member: "m-2", Solved: true, Stars: 4})                                   // 47
	o("2026-12-05T04:00:00Z", "o-8", order.Claimed{Member: "m-3", OnTime: true})                                           // 48
	o("2026-12-05T06:00:00Z", "o-8", order.Completed{Member: "m-3", Minutes: 20, OnTime: true})                            // 49
	o("2026-12-06T02:00:00Z", "o-7", order.Rated{Member: "m-3", Solved: true, Stars: 2})                                   // 50
	o("2026-12-06T02:30:00Z", "o-9", sub(l1, "N-9", "2026-12-06T02:30:00Z", urgent))                                       // 51
	o("2026-12-06T03:00:00Z", "o-8", order.Rated{Member: "m-3", Solved: true, Stars: 1})                                   // 52
	o("2026-12-06T03:30:00Z", "o-9", order.Dispatched{Member: "m-1"})                                                      // 53
	o("2026-12-06T04:00:00Z", "o-9", order.MarkedOverdue{Deadline: order.DeadlineAccept, Due: ts("2026-12-06T03:00:00Z")}) // 54
	o("2026-12-06T05:00:00Z", "o-9", order.Escalated{Level: order.LevelCommunity, Reason: "无人接"})                          // 55
	o("2026-12-06T06:00:00Z", "o-9", order.Noted{Text: "已电话催办"})                                                           // 56
	o("2026-12-07T02:00:00Z", "o-10", sub(l1, "N-10", "2026-12-07T02:00:00Z", normal))                                     // 57
	o("2026-12-07T03:00:00Z", "o-11", sub(l2, "N-11", "2026-12-07T03:00:00Z", normal))                                     // 58
	o("2026-12-07T04:00:00Z", "o-11", order.Dispatched{Member: "m-2"})                                                     // 59
	o("2026-12-07T05:00:00Z", "o-11", order.Accepted{Member: "m-2", OnTime: true})                                         // 60
	if len(h.Recs) != 60 {
		tb.Fatalf("the scenario has %d events; the comments and the figures below count 60", len(h.Recs))
	}
	return h.Recs
}

// lastOfNovember is the seq of the last event in November, Shanghai time.
const lastOfNovember = 31

func TestScenarioBacklog(t *testing.T) {
	recs := scenario(t)
	v := backlog.New()
	type want struct {
		lane   string
		counts backlog.Counts
		items  []string // id:status:assignee, overdue marked with !
		seq    uint64
	}
	check := func(t *testing.T, w want) {
		t.Helper()
		l := doc[backlog.Lane](t, v, backlog.LaneKey(w.lane))
		if l.Counts != w.counts {
			t.Errorf("%s: counts %+v, want %+v", w.lane, l.Counts, w.counts)
		}
		var items []string
		for _, it := range v.Items(w.lane) {
			s := it.ID + ":" + string(it.Status) + ":" + it.Assignee
			if it.Overdue {
				s += "!"
			}
			items = append(items, s)
		}
		if !slices.Equal(items, w.items) {
			t.Errorf("%s: items %v, want %v", w.lane, items, w.items)
		}
		if l.Seq != w.seq {
			t.Errorf("%s: seq %d, want %d", w.lane, l.Seq, w.seq)
		}
	}

	t.Run("at the end of November", func(t *testing.T) {
		apply(t, v, recs[:lastOfNovember])
		// 柔桥后巷: o-1 and o-2 completed by m-1, awaiting ratings; o-2 was marked overdue (15)
		// before it was completed; o-5 submitted (26), cancelled and left (27: the last change).
		check(t, want{"rouqiao-houxiang", backlog.Counts{Completed: 2, Overdue: 1},
			[]string{"o-1:completed:m-1", "o-2:completed:m-1!"}, 27})
		// 孔园: o-3 rated solved (20) and left; o-4 completed by m-3 (31); o-6 dispatched to
		// m-2 and overdue (30). Last change: 31.
		check(t, want{"kongyuan", backlog.Counts{Dispatched: 1, Completed: 1, Overdue: 1},
			[]string{"o-4:completed:m-3", "o-6:dispatched:m-2!"}, 31})
	})
	t.Run("at the end", func(t *testing.T) {
		apply(t, v, recs[lastOfNovember:])
		// 柔桥后巷: o-1 closed (35); o-2 rated unsolved (33), back open with its overdue mark
		// cleared, claimed (37) and completed (41) by m-1; o-7 closed (50); o-9 dispatched to
		// m-1 (53), overdue (54), escalated (55), noted (56: no change); o-10 open (57).
		check(t, want{"rouqiao-houxiang", backlog.Counts{Open: 1, Dispatched: 1, Completed: 1, Overdue: 1},
			[]string{"o-2:completed:m-1", "o-9:dispatched:m-1!", "o-10:open:"}, 57})
		// 孔园: o-3 reopened (45); o-4 (40), o-6 (47) and o-8 (52) closed; o-11 accepted by
		// m-2 (60).
		check(t, want{"kongyuan", backlog.Counts{Open: 1, Accepted: 1},
			[]string{"o-3:open:", "o-11:accepted:m-2"}, 60})

		o2 := doc[backlog.Order](t, v, backlog.OrderKey("o-2"))
		if !o2.AcceptBy.Equal(ts("2026-12-01T17:00:00Z")) || !o2.CompleteBy.Equal(ts("2026-12-03T17:00:00Z")) {
			t.Errorf("o-2's deadlines are not those of its new cycle: %v, %v", o2.AcceptBy, o2.CompleteBy)
		}
		o9 := doc[backlog.Order](t, v, backlog.OrderKey("o-9"))
		if o9.Escalation != order.LevelCommunity || o9.Priority != order.PriorityUrgent || o9.Seq != 55 {
			t.Errorf("o-9: %+v", o9)
		}
	})
}

func TestScenarioRecords(t *testing.T) {
	v := record.New()
	apply(t, v, scenario(t))

	type figures struct {
		dispatched, accepted, declined, completed, minutes, ratings int
		meanStars, onTimeRate                                       float64
		points                                                      int
	}
	cases := []struct {
		member, period string
		want           figures
		seqs           []uint64 // of the events listed
	}{
		// m-1, November: o-1 dispatched (7), accepted (8), completed on time, 40 min (9);
		// o-2 dispatched (13), accepted (14), completed late, 90 min (16).
		// minutes 40+90 = 130; on time 1 of 2 = 0.5; points (10+2) + 10 = 22.
		{"m-1", "2026-11", figures{2, 2, 0, 2, 130, 0, 0, 0.5, 22}, []uint64{7, 8, 9, 13, 14, 16}},
		// m-1, December: o-2 rated 1 star unsolved (33: 2×(1−3) = −4), o-1 rated 5 stars
		// (35: 2×(5−3) = +4), o-2 claimed (37), completed on time, 30 min (41: +12), o-9
		// dispatched (53). Mean stars (1+5)/2 = 3; on time 1 of 1; points −4+4+12 = 12.
		{"m-1", "2026-12", figures{1, 1, 0, 1, 30, 2, 3, 1, 12}, []uint64{33, 35, 37, 41, 53}},
		// m-2, November: o-2 dispatched (11), declined (12); o-4 dispatched (22), accepted
		// (23), then reassigned away (24 counts for m-3); o-6 dispatched (29). Points 0.
		{"m-2", "2026-11", figures{3, 1, 1, 0, 0, 0, 0, 0, 0}, []uint64{11, 12, 22, 23, 29}},
		// m-2, December: o-6 accepted late (32, at 00:30 on 1 December in Shanghai),
		// completed late, 120 min (42: +10), rated 4 stars (47: +2); o-11 dispatched (59),
		// accepted (60). Points 10+2 = 12; on time 0 of 1.
		{"m-2", "2026-12", figures{1, 2, 0, 1, 120, 1, 4, 0, 12}, []uint64{32, 42, 47, 59, 60}},
		// m-3, November: o-3 claimed (18), completed on time, 60 min (19: +12), rated 3
		// stars (20: 0); o-4 reassigned to m-3 (24), accepted (25), completed on time, 30 min,
		// at 23:59 on 30 November in Shanghai (31: +12). Minutes 90; points 12+0+12 = 24.
		{"m-3", "2026-11", figures{1, 2, 0, 2, 90, 1, 3, 1, 24}, []uint64{18, 19, 20, 24, 25, 31}},
		// m-3, December: o-7 dispatched (36), accepted late (39); o-4 rated 1 star (40: −4);
		// o-7 completed late, 45 min (44: +10); o-8 claimed (48), completed on time, 20 min
		// (49: +12); o-7 rated 2 stars (50: −2); o-8 rated 1 star (52: −4).
		// Minutes 45+20 = 65; mean stars (1+2+1)/3 = 4/3; on time 1 of 2 = 0.5;
		// points 10+12−4−2−4 = 12.
		{"m-3", "2026-12", figures{1, 2, 0, 2, 65, 3, 4.0 / 3, 0.5, 12}, []uint64{36, 39, 40, 44, 48, 49, 50, 52}},
	}
	for _, tc := range cases {
		t.Run(tc.member+" "+tc.period, func(t *testing.T) {
			r := doc[record.Record](t, v, record.RecordKey(tc.member, tc.period))
			got := figures{r.Dispatched, r.Accepted, r.Declined, r.Completed, r.Minutes, r.Ratings,
				r.MeanStars, r.OnTimeRate, r.Points}
			var seqs []uint64
			sum := 0
			for _, e := range r.Events {
				seqs = append(seqs, e.Seq)
				sum += e.Points
			}
			if !slices.Equal(seqs, tc.seqs) {
				t.Errorf("events %v, want %v", seqs, tc.seqs)
			}
			if got != tc.want {
				t.Errorf("figures\n got %+v\nwant %+v", got, tc.want)
			}
			if sum != r.Points {
				t.Errorf("the events' points add up to %d, the record says %d", sum, r.Points)
			}
			if r.Community != "taoyuan" || r.Member != tc.member || r.Period != tc.period {
				t.Errorf("record of %s in %s for %s", r.Member, r.Community, r.Period)
			}
			if last := r.Events[len(r.Events)-1].Seq; r.Seq != last {
				t.Errorf("seq %d, want %d", r.Seq, last)
			}
		})
	}

	// One record's explanation, word for word.
	r := doc[record.Record](t, v, record.RecordKey("m-1", "2026-12"))
	var whats []string
	for _, e := range r.Events {
		whats = append(whats, e.What)
	}
	wantWhats := []string{"rated 1 star, not solved: -4", "rated 5 stars, solved: +4", "claimed",
		"completed on time, 30 min: +10 +2", "dispatched"}
	if !slices.Equal(whats, wantWhats) {
		t.Errorf("m-1's December events say %q, want %q", whats, wantWhats)
	}
}

func TestScenarioRanking(t *testing.T) {
	v := record.New()
	apply(t, v, scenario(t))
	cases := []struct {
		period string
		want   []record.RankItem
		seq    uint64
	}{
		// November: m-3 24 > m-1 22 > m-2 0. Sample = completed + ratings.
		{"2026-11", []record.RankItem{
			{Member: "m-3", Name: "陈静", Teams: []string{"姐妹帮帮团"}, Points: 24, Completed: 2, Ratings: 1, MeanStars: 3, Sample: 3},
			{Member: "m-1", Name: "刘芳", Teams: []string{"红色方舟"}, Points: 22, Completed: 2, Ratings: 0, MeanStars: 0, Sample: 2},
			{Member: "m-2", Name: "王强", Teams: []string{"护航者", "红色方舟"}, Points: 0, Completed: 0, Ratings: 0, MeanStars: 0, Sample: 0},
		}, 31},
		// December: all three have 12 points; m-3 completed 2, the others 1, so m-3 leads;
		// m-1 and m-2 tie on both and go by id.
		{"2026-12", []record.RankItem{
			{Member: "m-3", Name: "陈静", Teams: []string{"姐妹帮帮团"}, Points: 12, Completed: 2, Ratings: 3, MeanStars: 4.0 / 3, Sample: 5},
			{Member: "m-1", Name: "刘芳", Teams: []string{"红色方舟"}, Points: 12, Completed: 1, Ratings: 2, MeanStars: 3, Sample: 3},
			{Member: "m-2", Name: "王强", Teams: []string{"护航者", "红色方舟"}, Points: 12, Completed: 1, Ratings: 1, MeanStars: 4, Sample: 2},
		}, 52},
	}
	for _, tc := range cases {
		t.Run(tc.period, func(t *testing.T) {
			rk := doc[record.Ranking](t, v, record.RankingKey("taoyuan", tc.period))
			if rk.Community != "taoyuan" || rk.Period != tc.period || rk.Seq != tc.seq {
				t.Errorf("ranking of %s for %s at seq %d, want seq %d", rk.Community, rk.Period, rk.Seq, tc.seq)
			}
			if len(rk.Items) != len(tc.want) {
				t.Fatalf("items %+v, want %+v", rk.Items, tc.want)
			}
			for i := range tc.want {
				g, w := rk.Items[i], tc.want[i]
				if g.Member != w.Member || g.Name != w.Name || !slices.Equal(g.Teams, w.Teams) || g.Points != w.Points ||
					g.Completed != w.Completed || g.Ratings != w.Ratings || g.MeanStars != w.MeanStars || g.Sample != w.Sample {
					t.Errorf("item %d\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}
