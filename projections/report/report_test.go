package report_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/feed"
	"github.com/redlane/redlane/projections/report"
)

var _ projections.View = report.New()

func TestViewIdentity(t *testing.T) {
	v := report.New()
	if v.Name() != "reports" {
		t.Errorf("Name() = %q, want reports", v.Name())
	}
	if got, want := v.Types(), []string{"order", "member", "lane", "community"}; !slices.Equal(got, want) {
		t.Errorf("Types() = %v, want %v", got, want)
	}
}

// scenario is two lanes of taoyuan (柔桥后巷 and 孔园) and one of yingchun (五洞桥), over
// November and December 2026 in Asia/Shanghai. Times are UTC: November there runs from
// 2026-10-31T16:00Z to 2026-11-30T16:00Z.
//
//	order  lane      category      submitted (CST)  story
//	o-a    柔桥后巷  repair        11-02            m-001 dispatched, accepted on time, done on time, rated solved 5★ (Nov)
//	o-b    孔园      errand        11-05            m-002 claims late, done late, rated unsolved 2★ (Nov);
//	                                                claims again, done on time (Dec), rated solved 4★ (Dec)
//	o-j    柔桥后巷  policy        11-06            m-004 dispatched, accepted on time, done late, rated solved 1★ (Nov)
//	o-k    孔园      dispute       11-08            m-004 claims on time, done late, not rated
//	o-c    柔桥后巷  consultation  11-10            escalated, cancelled before anyone accepted it
//	o-g    五洞桥    repair        11-12 (yingchun) m-009 claims on time, done on time, rated solved 5★ (Nov)
//	o-d    孔园      repair        11-20            m-001 dispatched and declines; m-003 dispatched, accepts on
//	                                                time; internal note; done on time (Nov); rated solved 4★ at
//	                                                2026-11-30T17:00Z — 12-01 01:00 in Shanghai, so December
//	o-h    孔园      city          11-25            m-002 dispatched, accepts on time; cancelled after that
//	o-e    柔桥后巷  medical       11-30 23:59      never accepted; overdue to accept (Dec)
//	o-f    柔桥后巷  repair        12-01 00:00      (2026-11-30T16:00Z) m-001 claims on time, done on time, rated solved 3★
//	o-i    孔园      consultation  12-03            m-003 claims late, done late
//
// Besides: lanes and members m-001 李明, m-002 赵强, m-004 孙丽 (taoyuan) and m-009 陈刚
// (yingchun) registered in October; m-003 王小红 (taoyuan) registered 11-15; a token issued
// and a dispatch of an order never submitted in November; 孔园 updated in December.
func scenario(tb testing.TB) []domain.Recorded {
	tb.Helper()
	m := memberActor
	o := order.AggregateType
	return record(tb, []step{
		{"2026-10-20T01:00:00Z", lane.AggregateType, "rouqiao-houxiang", admin, lane.Registered{Name: "柔桥后巷", Community: "taoyuan", Street: "dongcheng", Station: "柔桥后巷驿站"}},
		{"2026-10-20T01:01:00Z", lane.AggregateType, "kongyuan", admin, lane.Registered{Name: "孔园", Community: "taoyuan", Street: "dongcheng"}},
		{"2026-10-20T01:02:00Z", lane.AggregateType, "wudongqiao", admin, lane.Registered{Name: "五洞桥", Community: "yingchun", Street: "xicheng"}},
		{"2026-10-20T01:03:00Z", member.AggregateType, "m-001", admin, member.Registered{Name: "李明", Community: "taoyuan", Teams: []string{"红色方舟"}}},
		{"2026-10-20T01:04:00Z", member.AggregateType, "m-002", admin, member.Registered{Name: "赵强", Community: "taoyuan"}},
		{"2026-10-20T01:05:00Z", member.AggregateType, "m-004", admin, member.Registered{Name: "孙丽", Community: "taoyuan"}},
		{"2026-10-20T01:06:00Z", member.AggregateType, "m-009", admin, member.Registered{Name: "陈刚", Community: "yingchun"}},

		{"2026-11-02T01:00:00Z", o, "o-a", resident, submitted("rouqiao-houxiang", "repair", "楼道灯不亮了")},
		{"2026-11-02T01:10:00Z", o, "o-a", steward, order.Dispatched{Member: "m-001"}},
		{"2026-11-02T01:20:00Z", o, "o-a", m("m-001"), order.Accepted{Member: "m-001", OnTime: true}},
		{"2026-11-02T01:30:00Z", o, "o-a", steward, order.Noted{Text: "明天上午上门"}},
		{"2026-11-02T03:00:00Z", o, "o-a", m("m-001"), order.Completed{Member: "m-001", Minutes: 40, OnTime: true}},
		{"2026-11-03T02:00:00Z", o, "o-a", resident, order.Rated{Member: "m-001", Solved: true, Stars: 5}},

		{"2026-11-05T02:00:00Z", o, "o-b", resident, submitted("kongyuan", "errand", "代缴水电费")},
		{"2026-11-06T05:00:00Z", o, "o-b", m("m-002"), order.Claimed{Member: "m-002", OnTime: false}},
		{"2026-11-09T05:00:00Z", o, "o-b", m("m-002"), order.Completed{Member: "m-002", Minutes: 30, OnTime: false}},
		{"2026-11-10T01:00:00Z", o, "o-b", resident, order.Rated{Member: "m-002", Solved: false, Stars: 2}},
		{"2026-12-01T02:00:00Z", o, "o-b", m("m-002"), order.Claimed{Member: "m-002", OnTime: true}},
		{"2026-12-02T02:00:00Z", o, "o-b", m("m-002"), order.Completed{Member: "m-002", Minutes: 20, OnTime: true}},
		{"2026-12-02T06:00:00Z", o, "o-b", resident, order.Rated{Member: "m-002", Solved: true, Stars: 4}},

		{"2026-11-06T03:00:00Z", o, "o-j", resident, submitted("rouqiao-houxiang", "policy", "拆迁补偿政策")},
		{"2026-11-06T03:10:00Z", o, "o-j", steward, order.Dispatched{Member: "m-004"}},
		{"2026-11-06T03:20:00Z", o, "o-j", m("m-004"), order.Accepted{Member: "m-004", OnTime: true}},
		{"2026-11-10T03:00:00Z", o, "o-j", m("m-004"), order.Completed{Member: "m-004", Minutes: 60, OnTime: false}},
		{"2026-11-11T03:00:00Z", o, "o-j", resident, order.Rated{Member: "m-004", Solved: true, Stars: 1}},

		{"2026-11-08T02:00:00Z", o, "o-k", resident, submitted("kongyuan", "dispute", "邻居占用楼道")},
		{"2026-11-08T02:30:00Z", o, "o-k", m("m-004"), order.Claimed{Member: "m-004", OnTime: true}},
		{"2026-11-12T02:00:00Z", o, "o-k", m("m-004"), order.Completed{Member: "m-004", Minutes: 90, OnTime: false}},

		{"2026-11-10T06:00:00Z", o, "o-c", resident, submitted("rouqiao-houxiang", "consultation", "社保怎么续交")},
		{"2026-11-10T07:00:00Z", o, "o-c", steward, order.Escalated{Level: order.LevelCommunity, Reason: "需要社区答复"}},
		{"2026-11-11T07:00:00Z", o, "o-c", steward, order.Cancelled{Reason: "居民已自行办理"}},

		{"2026-11-12T01:00:00Z", o, "o-g", resident, submitted("wudongqiao", "repair", "水龙头漏水")},
		{"2026-11-12T01:30:00Z", o, "o-g", m("m-009"), order.Claimed{Member: "m-009", OnTime: true}},
		{"2026-11-12T05:00:00Z", o, "o-g", m("m-009"), order.Completed{Member: "m-009", Minutes: 45, OnTime: true}},
		{"2026-11-13T01:00:00Z", o, "o-g", resident, order.Rated{Member: "m-009", Solved: true, Stars: 5}},

		{"2026-11-15T01:00:00Z", member.AggregateType, "m-003", admin, member.Registered{Name: "王小红", Community: "taoyuan", Teams: []string{"姐妹帮帮团"}}},

		{"2026-11-20T02:00:00Z", o, "o-d", resident, submitted("kongyuan", "repair", "窗户关不上")},
		{"2026-11-20T02:10:00Z", o, "o-d", steward, order.Dispatched{Member: "m-001"}},
		{"2026-11-20T02:30:00Z", o, "o-d", m("m-001"), order.Declined{Member: "m-001", Reason: "出差"}},
		{"2026-11-20T02:40:00Z", o, "o-d", steward, order.Dispatched{Member: "m-003"}},
		{"2026-11-20T03:00:00Z", o, "o-d", m("m-003"), order.Accepted{Member: "m-003", OnTime: true}},
		{"2026-11-20T03:10:00Z", o, "o-d", steward, order.Noted{Text: "内部备注", Internal: true}},
		{"2026-11-22T03:00:00Z", o, "o-d", m("m-003"), order.Completed{Member: "m-003", Minutes: 50, OnTime: true}},
		{"2026-11-30T17:00:00Z", o, "o-d", resident, order.Rated{Member: "m-003", Solved: true, Stars: 4}},

		{"2026-11-25T02:00:00Z", o, "o-h", resident, submitted("kongyuan", "city", "夜宵摊噪音")},
		{"2026-11-25T02:10:00Z", o, "o-h", steward, order.Dispatched{Member: "m-002"}},
		{"2026-11-25T02:30:00Z", o, "o-h", m("m-002"), order.Accepted{Member: "m-002", OnTime: true}},
		{"2026-11-26T02:00:00Z", o, "o-h", steward, order.Cancelled{Reason: "城管已处理"}},

		{"2026-11-27T02:00:00Z", "token", "tok-1", admin, access.Issued{Role: domain.RoleSteward, Name: "王芳", Hash: "00"}},
		{"2026-11-27T03:00:00Z", o, "o-ghost", steward, order.Dispatched{Member: "m-001"}},

		{"2026-11-30T15:59:00Z", o, "o-e", resident, submitted("rouqiao-houxiang", "medical", "老人需要量血压")},
		{"2026-12-01T16:00:00Z", o, "o-e", system, order.MarkedOverdue{Deadline: order.DeadlineAccept}},

		{"2026-11-30T16:00:00Z", o, "o-f", resident, submitted("rouqiao-houxiang", "repair", "门锁坏了")},
		{"2026-11-30T18:00:00Z", o, "o-f", m("m-001"), order.Claimed{Member: "m-001", OnTime: true}},
		{"2026-11-30T20:00:00Z", o, "o-f", m("m-001"), order.Completed{Member: "m-001", Minutes: 30, OnTime: true}},
		{"2026-12-02T08:00:00Z", o, "o-f", resident, order.Rated{Member: "m-001", Solved: true, Stars: 3}},

		{"2026-12-03T02:00:00Z", o, "o-i", resident, submitted("kongyuan", "consultation", "医保报销")},
		{"2026-12-04T03:00:00Z", o, "o-i", m("m-003"), order.Claimed{Member: "m-003", OnTime: false}},
		{"2026-12-08T03:00:00Z", o, "o-i", m("m-003"), order.Completed{Member: "m-003", Minutes: 25, OnTime: false}},

		{"2026-12-10T02:00:00Z", lane.AggregateType, "kongyuan", admin, lane.Updated{Name: "孔园", Community: "taoyuan", Street: "dongcheng", Station: "孔园驿站"}},
	})
}

// seqOf is the stream position of the event at time at (UTC, RFC 3339) in recs.
func seqOf(tb testing.TB, recs []domain.Recorded, at string) uint64 {
	tb.Helper()
	for _, r := range recs {
		if r.Time.Format("2006-01-02T15:04:05Z") == at {
			return r.Seq
		}
	}
	tb.Fatalf("no event at %s", at)
	return 0
}

func fold(tb testing.TB, recs []domain.Recorded) (*report.View, map[string]bool) {
	tb.Helper()
	v := report.New()
	keys := map[string]bool{}
	for _, rec := range recs {
		for _, k := range v.Apply(rec, decode(tb, rec)) {
			keys[k] = true
		}
	}
	return v, keys
}

func docReport(tb testing.TB, v *report.View, key string) report.Report {
	tb.Helper()
	b := v.Doc(key)
	if b == nil {
		tb.Fatalf("no document %s", key)
	}
	var r report.Report
	if err := json.Unmarshal(b, &r); err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestScenario(t *testing.T) {
	recs := scenario(t)
	v, _ := fold(t, recs)

	tests := []struct {
		key  string
		want report.Report
	}{
		{"report.taoyuan.2026-11", report.Report{
			Community: "taoyuan", Period: "2026-11",
			// submitted in November (CST) in taoyuan: o-a o-b o-j o-k o-c o-d o-h o-e = 8
			// (o-e at 23:59 on 11-30 is November; o-f at 00:00 on 12-01 is not; o-g is yingchun)
			Orders: 8,
			// response: the orders due — accepted: o-a o-b o-j o-k o-d o-h; past the accept
			// deadline unaccepted: o-e (marked on 12-01, counted in its own month) — = 7 in the
			// sample; o-c was cancelled before it was due. First acceptance on time: o-a, o-j,
			// o-k, o-d (its decline is no acceptance), o-h (cancelled after accepting) = 5;
			// o-b's first claim was late. 5 / 7
			ResponseSample: 7, Responded: 5, ResponseRate: ptr(5.0 / 7),
			// ratings made in November: o-a solved 5★, o-b unsolved 2★, o-j solved 1★ = 3
			// (o-d's 4★ came at 12-01 01:00 CST). solved 2 / 3; 4–5★: o-a only, 1 / 3
			RatingSample: 3, Solved: 2, Satisfied: 1, ResolutionRate: ptr(2.0 / 3), SatisfactionRate: ptr(1.0 / 3),
			// repair o-a o-d; errand o-b; policy o-j; dispute o-k; consultation o-c; city o-h; medical o-e
			ByCategory: map[string]int{"repair": 2, "errand": 1, "policy": 1, "dispute": 1, "consultation": 1, "city": 1, "medical": 1},
			// 柔桥后巷 o-a o-j o-c o-e; 孔园 o-b o-k o-d o-h
			ByLane: map[string]int{"rouqiao-houxiang": 4, "kongyuan": 4},
			// 33 entries in taoyuan in November (the internal note on o-d, the token and the
			// dispatch of o-ghost have none):
			//   m-003 registered              people organisations
			//   o-a submitted dispatched accepted note completed(repair) rated
			//       p+pl+m, p+o, p, m, p+mat+m, p+m
			//   o-b submitted claimed completed(errand) rated   p+pl+m, p, p+money+m, p+m
			//   o-j submitted dispatched accepted completed rated   p+pl+m, p+o, p, p+m, p+m
			//   o-k submitted claimed completed                p+pl+m, p, p+m
			//   o-c submitted escalated cancelled              p+pl+m, m+o, m
			//   o-d submitted dispatched declined dispatched accepted completed(repair)
			//       p+pl+m, p+o, p, p+o, p, p+mat+m
			//   o-h submitted dispatched accepted cancelled    p+pl+m, p+o, p, m
			//   o-e submitted                                  p+pl+m
			// people   1 + 5(a) + 4(b) + 5(j) + 3(k) + 1(c) + 6(d) + 3(h) + 1(e) = 29
			// money    o-b completed = 1
			// materials o-a, o-d completed = 2
			// places   8 submissions = 8
			// matters  4(a) + 3(b) + 3(j) + 2(k) + 3(c) + 2(d) + 2(h) + 1(e) = 20
			// organisations m-003, o-a, o-j, o-c, o-d ×2, o-h = 7
			FeedByDimension: map[string]int{"people": 29, "money": 1, "materials": 2, "places": 8, "matters": 20, "organisations": 7},
			// points in November, taoyuan members:
			//   m-004 孙丽   o-j done late 10 + o-k done late 10 + o-j 1★ 2×(1−3) = −4 → 16, 2 done, 1 rating (mean 1)
			//   m-001 李明   o-a done on time 10+2 + o-a 5★ 2×(5−3) = +4          → 16, 1 done, 1 rating (mean 5)
			//   m-003 王小红 o-d done on time 10+2 (its rating is December's)     → 12, 1 done, 0 ratings
			//   m-002 赵强   o-b done late 10 + o-b 2★ 2×(2−3) = −2               →  8, 1 done, 1 rating (mean 2)
			// m-004 and m-001 tie at 16: more completed first.
			TopMembers: []report.TopMember{
				{Member: "m-004", Name: "孙丽", Completed: 2, Points: 16, Ratings: 1, MeanStars: ptr(1)},
				{Member: "m-001", Name: "李明", Completed: 1, Points: 16, Ratings: 1, MeanStars: ptr(5)},
				{Member: "m-003", Name: "王小红", Completed: 1, Points: 12, Ratings: 0, MeanStars: nil},
				{Member: "m-002", Name: "赵强", Completed: 1, Points: 8, Ratings: 1, MeanStars: ptr(2)},
			},
			Seq: seqOf(t, recs, "2026-12-01T16:00:00Z"), // o-e past its accept deadline: due, so in November's sample
		}},
		{"report.taoyuan.2026-12", report.Report{
			Community: "taoyuan", Period: "2026-12",
			// o-f (2026-11-30T16:00Z = 12-01 00:00 CST) and o-i
			Orders: 2,
			// o-f claimed on time, o-i claimed late: 1 / 2
			ResponseSample: 2, Responded: 1, ResponseRate: ptr(0.5),
			// ratings in December: o-d 4★ solved, o-b 4★ solved, o-f 3★ solved = 3;
			// solved 3 / 3; 4–5★ o-d, o-b: 2 / 3
			RatingSample: 3, Solved: 3, Satisfied: 2, ResolutionRate: ptr(1), SatisfactionRate: ptr(2.0 / 3),
			ByCategory: map[string]int{"repair": 1, "consultation": 1},
			ByLane:     map[string]int{"rouqiao-houxiang": 1, "kongyuan": 1},
			// 13 entries:
			//   o-d rated p+m; o-b claimed p, completed(errand) p+money+m, rated p+m; o-e overdue m;
			//   o-f submitted p+pl+m, claimed p, completed(repair) p+mat+m, rated p+m;
			//   o-i submitted p+pl+m, claimed p, completed p+m; 孔园 updated pl+o
			// people 1+3+0+4+3 = 11; money 1; materials 1; places 1+1+1 = 3;
			// matters 1+2+1+3+2 = 9; organisations 1
			FeedByDimension: map[string]int{"people": 11, "money": 1, "materials": 1, "places": 3, "matters": 9, "organisations": 1},
			// points in December:
			//   m-002 赵强   o-b done on time 12 + o-b 4★ +2                  → 14, 1 done, 1 rating (mean 4)
			//   m-001 李明   o-f done on time 12 (at 12-01 04:00 CST) + o-f 3★ 0 → 12, 1 done, 1 rating (mean 3)
			//   m-003 王小红 o-d 4★ +2 + o-i done late 10                     → 12, 1 done, 1 rating (mean 4)
			// m-001 and m-003 tie at 12 with 1 done each: by id.
			TopMembers: []report.TopMember{
				{Member: "m-002", Name: "赵强", Completed: 1, Points: 14, Ratings: 1, MeanStars: ptr(4)},
				{Member: "m-001", Name: "李明", Completed: 1, Points: 12, Ratings: 1, MeanStars: ptr(3)},
				{Member: "m-003", Name: "王小红", Completed: 1, Points: 12, Ratings: 1, MeanStars: ptr(4)},
			},
			Seq: seqOf(t, recs, "2026-12-10T02:00:00Z"), // 孔园 updated
		}},
		{"report.yingchun.2026-11", report.Report{
			Community: "yingchun", Period: "2026-11",
			Orders: 1, // o-g
			// claimed on time: 1 / 1; one rating, solved, 5★: 1 / 1 and 1 / 1
			ResponseSample: 1, Responded: 1, ResponseRate: ptr(1),
			RatingSample: 1, Solved: 1, Satisfied: 1, ResolutionRate: ptr(1), SatisfactionRate: ptr(1),
			ByCategory: map[string]int{"repair": 1},
			ByLane:     map[string]int{"wudongqiao": 1},
			// o-g submitted p+pl+m, claimed p, completed(repair) p+mat+m, rated p+m
			FeedByDimension: map[string]int{"people": 4, "money": 0, "materials": 1, "places": 1, "matters": 3, "organisations": 0},
			// m-009 陈刚: done on time 12 + 5★ +4 = 16
			TopMembers: []report.TopMember{{Member: "m-009", Name: "陈刚", Completed: 1, Points: 16, Ratings: 1, MeanStars: ptr(5)}},
			Seq:        seqOf(t, recs, "2026-11-13T01:00:00Z"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got := docReport(t, v, tt.key)
			if !reflect.DeepEqual(got, tt.want) {
				g, _ := json.MarshalIndent(got, "", " ")
				w, _ := json.MarshalIndent(tt.want, "", " ")
				t.Errorf("report\n got %s\nwant %s", g, w)
			}
			direct, ok := v.Report(tt.want.Community, tt.want.Period)
			if !ok {
				t.Fatal("Report() has no report")
			}
			if b, _ := json.Marshal(direct); !bytes.Equal(b, v.Doc(tt.key)) {
				t.Errorf("Report() = %s, Doc = %s", b, v.Doc(tt.key))
			}
		})
	}
	for _, k := range []string{"report.yingchun.2026-12", "report.taoyuan.2026-09", "report.nowhere.2026-11"} {
		if d := v.Doc(k); d != nil {
			t.Errorf("Doc(%s) = %s, want nil: nothing happened there", k, d)
		}
	}
}

// TestFeedCountsMatchTheFeed checks feed_by_dimension against the feed itself: the feed's
// entries of each community and month, counted by dimension.
func TestFeedCountsMatchTheFeed(t *testing.T) {
	recs := scenario(t)
	v, keys := fold(t, recs)
	fv := feed.New()
	if err := projections.Fold(fv, recs); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]int{}
	for _, e := range fv.Take() {
		if e.Community == "" {
			continue
		}
		k := "report." + e.Community + "." + projections.Period(e.Time)
		if want[k] == nil {
			want[k] = map[string]int{}
			for _, d := range feed.All() {
				want[k][d] = 0
			}
		}
		for _, d := range e.Dimensions {
			want[k][d]++
		}
	}
	got := map[string]map[string]int{}
	for k := range keys {
		if r := v.Doc(k); r != nil && k[:7] == "report." {
			got[k] = docReport(t, v, k).FeedByDimension
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("feed_by_dimension\n got %v\nwant %v", got, want)
	}
}

func TestDocumentShapes(t *testing.T) {
	recs := scenario(t)
	v, _ := fold(t, recs)
	want := map[string]string{
		"order.o-b":                `{"community":"taoyuan","lane":"kongyuan","category":"errand","period":"2026-11","response":"late"}`,
		"order.o-c":                `{"community":"taoyuan","lane":"rouqiao-houxiang","category":"consultation","period":"2026-11","response":"cancelled"}`,
		"order.o-e":                `{"community":"taoyuan","lane":"rouqiao-houxiang","category":"medical","period":"2026-11","response":"overdue"}`,
		"order.o-f":                `{"community":"taoyuan","lane":"rouqiao-houxiang","category":"repair","period":"2026-12","response":"on_time"}`,
		"member.m-3":               ``,
		"member.m-003":             `{"name":"王小红","community":"taoyuan"}`,
		"members.yingchun.2026-11": `{"community":"yingchun","period":"2026-11","members":[{"member":"m-009","name":"陈刚","completed":1,"on_time":1,"ratings":1,"stars":5,"points":16}]}`,
		"report.yingchun.2026-11": `{"community":"yingchun","period":"2026-11","orders":1,"response_rate":1,"resolution_rate":1,"satisfaction_rate":1,` +
			`"response_sample":1,"rating_sample":1,"responded":1,"solved":1,"satisfied":1,"by_category":{"repair":1},"by_lane":{"wudongqiao":1},` +
			`"feed_by_dimension":{"materials":1,"matters":3,"money":0,"organisations":0,"people":4,"places":1},` +
			`"top_members":[{"member":"m-009","name":"陈刚","completed":1,"points":16,"ratings":1,"mean_stars":5}],"seq":` +
			fmt.Sprint(seqOf(t, recs, "2026-11-13T01:00:00Z")) + `}`,
	}
	for k, w := range want {
		if got := string(v.Doc(k)); got != w {
			t.Errorf("Doc(%s)\n got %s\nwant %s", k, got, w)
		}
	}
}

func TestNullRates(t *testing.T) {
	recs := record(t, []step{
		{"2026-11-02T01:00:00Z", order.AggregateType, "o-1", resident, submitted("kongyuan", "repair", "灯")},
		{"2026-11-02T02:00:00Z", order.AggregateType, "o-1", resident, order.Cancelled{Reason: "不需要了"}},
	})
	v, _ := fold(t, recs)
	b := v.Doc("report.taoyuan.2026-11")
	for _, want := range []string{`"response_rate":null`, `"resolution_rate":null`, `"satisfaction_rate":null`, `"response_sample":0`, `"top_members":[]`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("report lacks %s: %s", want, b)
		}
	}
}

func TestTopMembersKeepsFive(t *testing.T) {
	var steps []step
	for i := range 7 {
		id, oid := fmt.Sprintf("m-%d", i), fmt.Sprintf("o-%d", i)
		steps = append(steps,
			step{fmt.Sprintf("2026-11-0%dT01:00:00Z", i+1), member.AggregateType, id, admin, member.Registered{Name: "党员" + id, Community: "taoyuan"}},
			step{fmt.Sprintf("2026-11-0%dT02:00:00Z", i+1), order.AggregateType, oid, resident, submitted("kongyuan", "repair", oid)},
			step{fmt.Sprintf("2026-11-0%dT03:00:00Z", i+1), order.AggregateType, oid, memberActor(id), order.Claimed{Member: id, OnTime: true}},
			step{fmt.Sprintf("2026-11-0%dT04:00:00Z", i+1), order.AggregateType, oid, memberActor(id), order.Completed{Member: id, Minutes: 5, OnTime: i%2 == 0}},
			step{fmt.Sprintf("2026-11-0%dT05:00:00Z", i+1), order.AggregateType, oid, resident, order.Rated{Member: id, Solved: true, Stars: 1 + i%5}},
		)
	}
	v, _ := fold(t, record(t, steps))
	// points: 10 + 2 when i even + 2×((1+i%5) − 3):
	// m-0 12−4=8, m-1 10−2=8, m-2 12+0=12, m-3 10+2=12, m-4 12+4=16, m-5 10−4=6, m-6 12−2=10
	var got []string
	for _, m := range docReport(t, v, "report.taoyuan.2026-11").TopMembers {
		got = append(got, fmt.Sprint(m.Member, ":", m.Points))
	}
	if want := []string{"m-4:16", "m-2:12", "m-3:12", "m-6:10", "m-0:8"}; !slices.Equal(got, want) {
		t.Errorf("top members = %v, want %v", got, want)
	}
	var all struct{ Members []json.RawMessage }
	if err := json.Unmarshal(v.Doc("members.taoyuan.2026-11"), &all); err != nil || len(all.Members) != 7 {
		t.Errorf("members document keeps %d tallies (%v), want all 7", len(all.Members), err)
	}
}

func TestOddHistoriesChangeNothing(t *testing.T) {
	recs := record(t, []step{
		{"2026-11-02T01:00:00Z", order.AggregateType, "o-1", resident, submitted("kongyuan", "repair", "灯")},
		// from here on, nothing may count
		{"2026-11-02T02:00:00Z", order.AggregateType, "o-1", resident, submitted("kongyuan", "errand", "灯")},
		{"2026-11-02T03:00:00Z", order.AggregateType, "o-ghost", steward, order.Dispatched{Member: "m-1"}},
		{"2026-11-02T04:00:00Z", order.AggregateType, "o-ghost", memberActor("m-1"), order.Accepted{Member: "m-1", OnTime: true}},
		{"2026-11-02T05:00:00Z", order.AggregateType, "o-ghost", memberActor("m-1"), order.Completed{Member: "m-1", Minutes: 3, OnTime: true}},
		{"2026-11-02T06:00:00Z", order.AggregateType, "o-ghost", resident, order.Rated{Member: "m-1", Solved: true, Stars: 5}},
		{"2026-11-02T07:00:00Z", order.AggregateType, "o-ghost", steward, order.Cancelled{Reason: "x"}},
		{"2026-11-02T08:00:00Z", order.AggregateType, "o-1", steward, order.Noted{Text: "内部", Internal: true}},
		{"2026-11-02T09:00:00Z", "token", "tok-1", admin, access.Issued{Role: domain.RoleAuditor, Name: "审计", Hash: "00"}},
		{"2026-11-02T10:00:00Z", "token", "tok-1", admin, access.Revoked{}},
		{"2026-11-02T11:00:00Z", member.AggregateType, "m-unknown", admin, member.Retired{Reason: "x"}},
	})
	v := report.New()
	v.Apply(recs[0], decode(t, recs[0]))
	before := string(v.Doc("report.taoyuan.2026-11"))
	for _, rec := range recs[1:] {
		if keys := v.Apply(rec, decode(t, rec)); len(keys) != 0 {
			t.Errorf("seq %d (%s) changed %v", rec.Seq, rec.Type, keys)
		}
	}
	if after := string(v.Doc("report.taoyuan.2026-11")); after != before {
		t.Errorf("report changed:\n%s\n%s", before, after)
	}
	// a view knows nothing of events it was never meant to read
	type unknown struct{ domain.Event }
	if keys := v.Apply(recs[0], unknown{}); keys != nil {
		t.Errorf("unknown event changed %v", keys)
	}
	if keys := v.Apply(recs[0], nil); keys != nil {
		t.Errorf("nil event changed %v", keys)
	}
}

func TestOddButStoredFactsAreFolded(t *testing.T) {
	// Evolve accepts facts that today's rules refuse; so does the view, without panicking
	// and without a rate above 1.
	recs := record(t, []step{
		{"2026-11-02T01:00:00Z", order.AggregateType, "o-1", resident, submitted("kongyuan", "repair", "灯")},
		{"2026-11-02T02:00:00Z", order.AggregateType, "o-1", steward, order.Cancelled{Reason: "x"}},
		{"2026-11-02T03:00:00Z", order.AggregateType, "o-1", memberActor("m-1"), order.Accepted{Member: "m-1", OnTime: true}},
		{"2026-11-02T04:00:00Z", order.AggregateType, "o-1", memberActor("m-1"), order.Claimed{Member: "m-1", OnTime: true}},
		{"2026-11-02T05:00:00Z", order.AggregateType, "o-1", resident, order.Rated{Solved: true, Stars: 9}},
		{"2026-11-02T06:00:00Z", order.AggregateType, "o-1", memberActor("m-1"), order.Completed{Minutes: -1}},
	})
	v, _ := fold(t, recs)
	r := docReport(t, v, "report.taoyuan.2026-11")
	if r.ResponseSample != 0 || r.ResponseRate != nil || r.Responded != 0 {
		t.Errorf("response after a cancel: sample %d, responded %d", r.ResponseSample, r.Responded)
	}
	if r.RatingSample != 1 || r.Solved != 1 || r.Satisfied != 0 || len(r.TopMembers) != 0 {
		t.Errorf("odd rating: %+v", r)
	}
}

func TestRestoreThenContinue(t *testing.T) {
	recs := scenario(t)
	for _, cut := range []int{0, 1, 9, 20, 33, 45, 50, len(recs) - 1, len(recs)} {
		t.Run(fmt.Sprint("cut at ", cut), func(t *testing.T) {
			orig, keys := fold(t, recs[:cut])
			restored := report.New()
			for _, k := range slices.Sorted(maps.Keys(keys)) {
				doc := orig.Doc(k)
				if doc == nil {
					continue
				}
				if err := restored.Restore(k, doc); err != nil {
					t.Fatalf("Restore(%s): %v", k, err)
				}
			}
			for k := range keys {
				if a, b := orig.Doc(k), restored.Doc(k); !bytes.Equal(a, b) {
					t.Fatalf("Doc(%s) after Restore = %s, want %s", k, b, a)
				}
			}
			for _, rec := range recs[cut:] {
				ev := decode(t, rec)
				ka, kb := orig.Apply(rec, ev), restored.Apply(rec, ev)
				if !slices.Equal(ka, kb) {
					t.Fatalf("seq %d: keys %v, restored %v", rec.Seq, ka, kb)
				}
				for _, k := range ka {
					keys[k] = true
				}
			}
			whole, _ := fold(t, recs)
			for k := range keys {
				a, b, w := orig.Doc(k), restored.Doc(k), whole.Doc(k)
				if !bytes.Equal(a, b) || !bytes.Equal(a, w) {
					t.Errorf("Doc(%s):\n  continued %s\n  restored  %s\n  one fold  %s", k, a, b, w)
				}
			}
		})
	}
}

func TestRestoreInAnyOrder(t *testing.T) {
	recs := scenario(t)
	orig, keys := fold(t, recs)
	sorted := slices.Sorted(maps.Keys(keys))
	slices.Reverse(sorted)
	restored := report.New()
	for _, k := range sorted {
		if err := restored.Restore(k, orig.Doc(k)); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range sorted {
		if a, b := orig.Doc(k), restored.Doc(k); !bytes.Equal(a, b) {
			t.Errorf("Doc(%s) = %s, want %s", k, b, a)
		}
	}
}

func TestRestoreRefusesWhatDocNeverMade(t *testing.T) {
	tests := []struct{ key, doc string }{
		{"report.taoyuan.2026-11", "{"},
		{"report.taoyuan.2026-11", ""},
		{"report.taoyuan.2026-11", `{"community":"yingchun","period":"2026-11"}`},
		{"report.taoyuan.2026-11", `{"community":"taoyuan","period":"2026-11","orders":1,"response_sample":2}`},
		{"report.taoyuan", `{}`},
		{"members.taoyuan.2026-11", `{"community":"taoyuan","period":"2026-10"}`},
		{"order.o-1", "null"},
		{"member.m-1", "[]"},
		{"nothing.x", "{}"},
		{"order", "{}"},
	}
	for _, tt := range tests {
		if err := report.New().Restore(tt.key, []byte(tt.doc)); err == nil {
			t.Errorf("Restore(%q, %q) accepted it", tt.key, tt.doc)
		}
	}
}

func TestDeterministic(t *testing.T) {
	recs := scenario(t)
	a, keys := fold(t, recs)
	for range 5 {
		b, _ := fold(t, recs)
		for k := range keys {
			if !bytes.Equal(a.Doc(k), b.Doc(k)) {
				t.Fatalf("Doc(%s) differs between two folds", k)
			}
		}
	}
}

// TestAResponseCountsOnceDue: an order inside its accept deadline is in neither the
// response sample nor the responded; it enters when accepted or when its accept
// deadline passes unaccepted, once; one cancelled before it was due never does.
func TestAResponseCountsOnceDue(t *testing.T) {
	o := order.AggregateType
	base := []step{
		{"2026-11-02T01:00:00Z", lane.AggregateType, "rouqiao-houxiang", admin, lane.Registered{Name: "柔桥后巷", Community: "taoyuan", Street: "dongcheng"}},
		{"2026-11-02T02:00:00Z", o, "o-1", resident, submitted("rouqiao-houxiang", "repair", "楼道灯不亮了")},
	}
	cases := []struct {
		name              string
		then              []step
		sample, responded int
	}{
		{"just submitted", nil, 0, 0},
		{"accepted on time", []step{{"2026-11-02T02:10:00Z", o, "o-1", memberActor("m-001"), order.Claimed{Member: "m-001", OnTime: true}}}, 1, 1},
		{"accepted late", []step{{"2026-11-04T02:10:00Z", o, "o-1", memberActor("m-001"), order.Claimed{Member: "m-001", OnTime: false}}}, 1, 0},
		{"past the accept deadline", []step{{"2026-11-03T02:00:00Z", o, "o-1", system, order.MarkedOverdue{Deadline: order.DeadlineAccept}}}, 1, 0},
		{"past the deadline, then accepted: counted once", []step{
			{"2026-11-03T02:00:00Z", o, "o-1", system, order.MarkedOverdue{Deadline: order.DeadlineAccept}},
			{"2026-11-03T05:00:00Z", o, "o-1", memberActor("m-001"), order.Claimed{Member: "m-001", OnTime: false}},
			{"2026-11-05T05:00:00Z", o, "o-1", system, order.MarkedOverdue{Deadline: order.DeadlineComplete}},
		}, 1, 0},
		{"cancelled before it was due", []step{{"2026-11-02T03:00:00Z", o, "o-1", steward, order.Cancelled{Reason: "重复"}}}, 0, 0},
		{"cancelled after it was due", []step{
			{"2026-11-03T02:00:00Z", o, "o-1", system, order.MarkedOverdue{Deadline: order.DeadlineAccept}},
			{"2026-11-03T03:00:00Z", o, "o-1", steward, order.Cancelled{Reason: "居民不需要了"}},
		}, 1, 0},
	}
	for _, tc := range cases {
		v, _ := fold(t, record(t, append(append([]step{}, base...), tc.then...)))
		r := docReport(t, v, "report.taoyuan.2026-11")
		if r.ResponseSample != tc.sample || r.Responded != tc.responded {
			t.Errorf("%s: sample %d, responded %d; want %d, %d", tc.name, r.ResponseSample, r.Responded, tc.sample, tc.responded)
		}
		if tc.sample == 0 && r.ResponseRate != nil {
			t.Errorf("%s: a rate %v with no sample", tc.name, *r.ResponseRate)
		}
	}
}
