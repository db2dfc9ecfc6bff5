package feed_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
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
	"github.com/redlane/redlane/projections/feed"
)

var _ projections.View = feed.New()

func TestViewIdentity(t *testing.T) {
	v := feed.New()
	if v.Name() != "feed" {
		t.Errorf("Name() = %q, want feed", v.Name())
	}
	if got, want := v.Types(), []string{"order", "lane", "member", "street", "community"}; !slices.Equal(got, want) {
		t.Errorf("Types() = %v, want %v", got, want)
	}
}

func TestEntryTextAndDimensions(t *testing.T) {
	urgentMedical := submitted("medical", "老人摔倒需要上门看看")
	urgentMedical.Priority, urgentMedical.Channel = order.PriorityUrgent, order.ChannelHotline
	atTerminal := submitted("policy", "拆迁补偿政策咨询")
	atTerminal.Channel = order.ChannelTerminal
	onWeb := submitted("city", "夜宵摊深夜噪音扰民")
	onWeb.Channel = order.ChannelWeb
	byOpen311 := submitted("repair", "路灯不亮")
	byOpen311.Channel = order.ChannelOpen311
	unknownLane := submitted("dispute", "邻居占用楼道")
	unknownLane.Lane = "wudongqiao"

	var (
		pm   = []string{"people", "matters"}
		po   = []string{"people", "organisations"}
		mo   = []string{"matters", "organisations"}
		plo  = []string{"places", "organisations"}
		only = func(d string) []string { return []string{d} }
	)
	tests := []struct {
		name     string
		aggType  string
		id       string
		actor    domain.Actor
		ev       domain.Event
		wantText string // "" = no entry
		wantDims []string
		wantLane string
		wantComm string
	}{
		{"submitted at the station", "order", "o-new", resident, submitted("repair", "楼道灯不亮了"),
			"居民在柔桥后巷驿站提出诉求「楼道灯不亮了」（日常维修）", []string{"people", "places", "matters"}, "rouqiao-houxiang", "taoyuan"},
		{"submitted urgent by the hotline", "order", "o-new", domain.Actor{ID: "tok-op", Name: "接线员小陈", Role: domain.RoleOperator}, urgentMedical,
			"居民通过96345热线向柔桥后巷驿站提出诉求「老人摔倒需要上门看看」（医疗服务，加急）", []string{"people", "places", "matters"}, "rouqiao-houxiang", "taoyuan"},
		{"submitted at a terminal", "order", "o-new", resident, atTerminal,
			"居民通过智慧党建终端向柔桥后巷驿站提出诉求「拆迁补偿政策咨询」（政策解读）", []string{"people", "places", "matters"}, "rouqiao-houxiang", "taoyuan"},
		{"submitted on the web", "order", "o-new", resident, onWeb,
			"居民在网上向柔桥后巷驿站提出诉求「夜宵摊深夜噪音扰民」（城市管理）", []string{"people", "places", "matters"}, "rouqiao-houxiang", "taoyuan"},
		{"submitted through an Open311 app", "order", "o-new", domain.Actor{ID: "tok-op", Name: "接线员小陈", Role: domain.RoleOperator}, byOpen311,
			"居民通过Open311应用向柔桥后巷驿站提出诉求「路灯不亮」（日常维修）", []string{"people", "places", "matters"}, "rouqiao-houxiang", "taoyuan"},
		{"submitted to a lane the feed has not seen", "order", "o-new", resident, unknownLane,
			"居民在wudongqiao驿站提出诉求「邻居占用楼道」（邻里纠纷）", []string{"people", "places", "matters"}, "wudongqiao", "taoyuan"},
		{"submitted again is ignored", "order", "o-repair", resident, submitted("repair", "又一次"), "", nil, "", ""},
		{"dispatched", "order", "o-repair", steward, order.Dispatched{Member: "m-001"},
			"驿站管家王芳将「楼道灯不亮了」派给党员李明", po, "rouqiao-houxiang", "taoyuan"},
		{"dispatched to a member the feed has not seen", "order", "o-repair", steward, order.Dispatched{Member: "m-999"},
			"驿站管家王芳将「楼道灯不亮了」派给党员m-999", po, "rouqiao-houxiang", "taoyuan"},
		{"dispatched by a steward without a name", "order", "o-repair", domain.Actor{ID: "tok-s2", Role: domain.RoleSteward}, order.Dispatched{Member: "m-001"},
			"驿站管家将「楼道灯不亮了」派给党员李明", po, "rouqiao-houxiang", "taoyuan"},
		{"reassigned, reason kept off the feed", "order", "o-repair", steward, order.Reassigned{From: "m-001", Member: "m-002", Reason: "李明住院了"},
			"驿站管家王芳将「楼道灯不亮了」改派给党员赵强", po, "rouqiao-houxiang", "taoyuan"},
		{"claimed", "order", "o-repair", member1, order.Claimed{Member: "m-001", OnTime: true},
			"党员李明领办了「楼道灯不亮了」", only("people"), "rouqiao-houxiang", "taoyuan"},
		{"claimed late", "order", "o-repair", member1, order.Claimed{Member: "m-001"},
			"党员李明领办了「楼道灯不亮了」（已超过接单时限）", only("people"), "rouqiao-houxiang", "taoyuan"},
		{"accepted", "order", "o-repair", member1, order.Accepted{Member: "m-001", OnTime: true},
			"党员李明接单「楼道灯不亮了」", only("people"), "rouqiao-houxiang", "taoyuan"},
		{"accepted late", "order", "o-repair", member1, order.Accepted{Member: "m-001"},
			"党员李明接单「楼道灯不亮了」（已超过接单时限）", only("people"), "rouqiao-houxiang", "taoyuan"},
		{"declined: neither the reason nor who declined on the public feed", "order", "o-repair", member1, order.Declined{Member: "m-001", Reason: "我不会修灯"},
			"「楼道灯不亮了」已退回驿站，等待重新派单", only("people"), "rouqiao-houxiang", "taoyuan"},
		{"completed repair touches materials", "order", "o-repair", member1, order.Completed{Member: "m-001", Note: "换了感应灯", Minutes: 40, OnTime: true},
			"党员李明办结了「楼道灯不亮了」，服务40分钟", []string{"people", "materials", "matters"}, "rouqiao-houxiang", "taoyuan"},
		{"completed errand touches money", "order", "o-errand", member1, order.Completed{Member: "m-001", Minutes: 25, OnTime: true},
			"党员李明办结了「代缴水电费」，服务25分钟", []string{"people", "money", "matters"}, "rouqiao-houxiang", "taoyuan"},
		{"completed consultation late", "order", "o-consult", member1, order.Completed{Member: "m-001", Minutes: 15},
			"党员李明办结了「社保怎么续交」，服务15分钟（超时办结）", pm, "rouqiao-houxiang", "taoyuan"},
		{"rated solved, comment kept off the feed", "order", "o-repair", resident, order.Rated{Member: "m-001", Solved: true, Stars: 5, Comment: "张阿姨很满意"},
			"居民评价「楼道灯不亮了」：问题已解决，5星", pm, "rouqiao-houxiang", "taoyuan"},
		{"rated unsolved", "order", "o-repair", steward, order.Rated{Member: "m-001", Solved: false, Stars: 2, AcceptBy: t0.Add(48 * time.Hour), CompleteBy: t0.Add(96 * time.Hour)},
			"居民评价「楼道灯不亮了」：问题未解决，转为重办", pm, "rouqiao-houxiang", "taoyuan"},
		{"cancelled", "order", "o-repair", steward, order.Cancelled{Reason: "张阿姨自己修好了"},
			"「楼道灯不亮了」已撤销", only("matters"), "rouqiao-houxiang", "taoyuan"},
		{"escalated to the community", "order", "o-repair", steward, order.Escalated{Level: order.LevelCommunity, Reason: "需要物业配合"},
			"「楼道灯不亮了」已上报至社区（街道兜底）", mo, "rouqiao-houxiang", "taoyuan"},
		{"escalated to the street office", "order", "o-repair", system, order.Escalated{Level: order.LevelStreet, Reason: "超时"},
			"「楼道灯不亮了」已上报至街道（街道兜底）", mo, "rouqiao-houxiang", "taoyuan"},
		{"sent back from the street to the community", "order", "o-repair", steward, order.Returned{From: order.LevelStreet, Level: order.LevelCommunity, Reason: "社区先协调"},
			"「楼道灯不亮了」已由街道退回社区办理", mo, "rouqiao-houxiang", "taoyuan"},
		{"sent back from the community to the lane", "order", "o-repair", steward, order.Returned{From: order.LevelCommunity, Level: order.LevelLane, Reason: "驿站可以处理"},
			"「楼道灯不亮了」已由社区退回街巷驿站办理", mo, "rouqiao-houxiang", "taoyuan"},
		{"reopened", "order", "o-repair", steward, order.Reopened{Reason: "回访发现灯又坏了", AcceptBy: t0.Add(48 * time.Hour), CompleteBy: t0.Add(96 * time.Hour)},
			"「楼道灯不亮了」转为重办", only("matters"), "rouqiao-houxiang", "taoyuan"},
		{"public note, text kept off the feed", "order", "o-repair", steward, order.Noted{Text: "已联系物业，明天上门"},
			"驿站管家王芳更新了「楼道灯不亮了」的办理进展", only("matters"), "rouqiao-houxiang", "taoyuan"},
		{"public note by the member", "order", "o-repair", member1, order.Noted{Text: "明天带灯泡来"},
			"党员李明更新了「楼道灯不亮了」的办理进展", only("matters"), "rouqiao-houxiang", "taoyuan"},
		{"internal note makes no entry", "order", "o-repair", steward, order.Noted{Text: "张阿姨脾气急", Internal: true}, "", nil, "", ""},
		{"overdue to accept", "order", "o-repair", system, order.MarkedOverdue{Deadline: order.DeadlineAccept, Due: t0.Add(24 * time.Hour)},
			"「楼道灯不亮了」超时未接单", only("matters"), "rouqiao-houxiang", "taoyuan"},
		{"overdue to complete", "order", "o-repair", system, order.MarkedOverdue{Deadline: order.DeadlineComplete, Due: t0.Add(72 * time.Hour)},
			"「楼道灯不亮了」超时未办结", only("matters"), "rouqiao-houxiang", "taoyuan"},
		{"event of an order never submitted", "order", "o-ghost", steward, order.Dispatched{Member: "m-001"}, "", nil, "", ""},
		{"lane registered with its station", "lane", "wudongqiao", admin, lane.Registered{Name: "五洞桥", Community: "taoyuan", Street: "dongcheng", Station: "五洞桥红色驿站"},
			"新驿站「五洞桥红色驿站」在taoyuan社区启用", plo, "wudongqiao", "taoyuan"},
		{"lane registered without a station name", "lane", "wudongqiao", admin, lane.Registered{Name: "五洞桥", Community: "yingchun", Street: "xicheng"},
			"新驿站「五洞桥驿站」在yingchun社区启用", plo, "wudongqiao", "yingchun"},
		{"lane updated", "lane", "rouqiao-houxiang", admin, lane.Updated{Name: "柔桥后巷", Community: "taoyuan", Street: "dongcheng", Station: "柔桥后巷党群驿站"},
			"驿站「柔桥后巷党群驿站」信息已更新", plo, "rouqiao-houxiang", "taoyuan"},
		{"member registered in teams", "member", "m-003", admin, member.Registered{Name: "王小红", Community: "taoyuan", Teams: []string{"红色方舟", "护航者"}},
			"党员王小红加入服务，所属：红色方舟、护航者", po, "", "taoyuan"},
		{"member registered in no team", "member", "m-003", admin, member.Registered{Name: "王小红", Community: "yingchun"},
			"党员王小红加入服务，所属：yingchun社区", po, "", "yingchun"},
		{"member updated", "member", "m-001", admin, member.Updated{Name: "李明", Community: "taoyuan", Skills: []string{"electrical"}},
			"党员李明的服务信息已更新", po, "", "taoyuan"},
		{"member retired", "member", "m-001", admin, member.Retired{Reason: "搬家"},
			"党员李明退出服务", po, "", "taoyuan"},
		{"member the feed has not seen retired", "member", "m-404", admin, member.Retired{Reason: "搬家"},
			"党员m-404退出服务", po, "", ""},
		{"token issued makes no entry", "token", "tok-9", admin, access.Issued{Role: domain.RoleSteward, Name: "王芳", Hash: "abc"}, "", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistory(t)
			setup(h)
			v := feed.New()
			if err := projections.Fold(v, h.recs); err != nil {
				t.Fatal(err)
			}
			v.Take()
			rec := h.add(tt.aggType, tt.id, tt.actor, tt.ev)
			v.Apply(rec, decode(t, rec))
			got := v.Take()
			if tt.wantText == "" {
				if len(got) != 0 {
					t.Fatalf("want no entry, got %+v", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("want one entry, got %d: %+v", len(got), got)
			}
			e := got[0]
			wantOrder := ""
			if tt.aggType == "order" {
				wantOrder = tt.id
			}
			want := feed.Entry{
				Seq: rec.Seq, Time: rec.Time, Text: tt.wantText, Dimensions: tt.wantDims,
				Lane: tt.wantLane, Community: tt.wantComm, Order: wantOrder, Type: tt.ev.EventType(), EventID: rec.ID,
			}
			if tt.wantLane != "" {
				want.Street = map[string]string{"yingchun": "xicheng"}[tt.wantComm]
				if want.Street == "" {
					want.Street = "dongcheng"
				}
			}
			if !reflect.DeepEqual(e, want) {
				t.Errorf("entry\n got %+v\nwant %+v", e, want)
			}
			if d := feed.Dimensions(decode(t, rec), category(tt.id)); !slices.Equal(d, tt.wantDims) {
				t.Errorf("Dimensions = %v, want %v", d, tt.wantDims)
			}
		})
	}
}

// category is the category of the setup's orders.
func category(id string) string {
	return map[string]string{"o-repair": "repair", "o-errand": "errand", "o-consult": "consultation"}[id]
}

func TestDimensionsTable(t *testing.T) {
	tests := []struct {
		name     string
		ev       domain.Event
		category string
		want     []string
	}{
		{"submitted", order.Submitted{}, "repair", []string{"people", "places", "matters"}},
		{"dispatched", order.Dispatched{}, "", []string{"people", "organisations"}},
		{"reassigned", order.Reassigned{}, "", []string{"people", "organisations"}},
		{"claimed", order.Claimed{}, "", []string{"people"}},
		{"accepted", order.Accepted{}, "", []string{"people"}},
		{"declined", order.Declined{}, "", []string{"people"}},
		{"completed repair", order.Completed{}, "repair", []string{"people", "materials", "matters"}},
		{"completed errand", order.Completed{}, "errand", []string{"people", "money", "matters"}},
		{"completed medical", order.Completed{}, "medical", []string{"people", "matters"}},
		{"completed, category unknown", order.Completed{}, "", []string{"people", "matters"}},
		{"rated", order.Rated{}, "errand", []string{"people", "matters"}},
		{"cancelled", order.Cancelled{}, "", []string{"matters"}},
		{"escalated", order.Escalated{}, "", []string{"matters", "organisations"}},
		{"returned", order.Returned{}, "", []string{"matters", "organisations"}},
		{"reopened", order.Reopened{}, "", []string{"matters"}},
		{"public note", order.Noted{}, "", []string{"matters"}},
		{"internal note", order.Noted{Internal: true}, "", nil},
		{"overdue", order.MarkedOverdue{}, "", []string{"matters"}},
		{"lane registered", lane.Registered{}, "", []string{"places", "organisations"}},
		{"lane updated", lane.Updated{}, "", []string{"places", "organisations"}},
		{"member registered", member.Registered{}, "", []string{"people", "organisations"}},
		{"member updated", member.Updated{}, "", []string{"people", "organisations"}},
		{"member retired", member.Retired{}, "", []string{"people", "organisations"}},
		{"token issued", access.Issued{}, "", nil},
		{"token revoked", access.Revoked{}, "", nil},
		{"nil", nil, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := feed.Dimensions(tt.ev, tt.category); !slices.Equal(got, tt.want) {
				t.Errorf("Dimensions = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDimensionNames(t *testing.T) {
	if got, want := feed.All(), []string{"people", "money", "materials", "places", "matters", "organisations"}; !slices.Equal(got, want) {
		t.Errorf("All() = %v, want %v", got, want)
	}
	labels := map[string]string{"people": "人", "money": "财", "materials": "物", "places": "地", "matters": "事", "organisations": "组织", "stuff": ""}
	for d, want := range labels {
		if got := feed.Label(d); got != want {
			t.Errorf("Label(%q) = %q, want %q", d, got, want)
		}
		if got := feed.Valid(d); got != (want != "") {
			t.Errorf("Valid(%q) = %v", d, got)
		}
	}
}

func TestMatches(t *testing.T) {
	e := feed.Entry{Lane: "kongyuan", Community: "taoyuan", Dimensions: []string{"people", "matters"}}
	tests := []struct {
		lane, community, dimension string
		want                       bool
	}{
		{"", "", "", true},
		{"kongyuan", "", "", true},
		{"kongyuan", "taoyuan", "matters", true},
		{"", "taoyuan", "people", true},
		{"rouqiao-houxiang", "", "", false},
		{"", "yingchun", "", false},
		{"", "", "money", false},
		{"kongyuan", "taoyuan", "places", false},
	}
	for _, tt := range tests {
		if got := e.Matches(tt.lane, tt.community, tt.dimension); got != tt.want {
			t.Errorf("Matches(%q, %q, %q) = %v, want %v", tt.lane, tt.community, tt.dimension, got, tt.want)
		}
	}
}

// lifeStory is a long history touching every event type, with the requester's name and
// phone written into every free-text field an event has.
func lifeStory(h *history) {
	setup(h)
	leaky := submitted("repair", "张阿姨家（13812345678）水管爆了")
	leaky.Channel = order.ChannelHotline
	h.order("o-leak", resident, leaky)
	pii := "张阿姨 13812345678"
	for i, id := range []string{"o-repair", "o-errand", "o-leak"} {
		h.order(id, steward, order.Noted{Text: "内部：" + pii, Internal: true})
		h.order(id, steward, order.Dispatched{Member: "m-002"})
		h.order(id, member1, order.Declined{Member: "m-002", Reason: "不认识" + pii})
		h.order(id, steward, order.Dispatched{Member: "m-002"})
		h.order(id, steward, order.Reassigned{From: "m-002", Member: "m-001", Reason: pii})
		h.order(id, member1, order.Accepted{Member: "m-001", OnTime: i%2 == 0})
		h.order(id, steward, order.Escalated{Level: order.LevelCommunity, Reason: pii})
		h.order(id, system, order.MarkedOverdue{Deadline: order.DeadlineComplete})
		h.order(id, member1, order.Noted{Text: "公开：" + pii})
		h.order(id, member1, order.Completed{Member: "m-001", Note: pii, Minutes: 30 + i, OnTime: true})
		h.order(id, resident, order.Rated{Member: "m-001", Solved: false, Stars: 2, Comment: pii})
		h.order(id, member1, order.Claimed{Member: "m-001", OnTime: true})
		h.order(id, member1, order.Completed{Member: "m-001", Note: pii, Minutes: 10})
		h.order(id, resident, order.Rated{Member: "m-001", Solved: true, Stars: 4, Comment: pii})
		h.order(id, steward, order.Reopened{Reason: pii})
		h.order(id, steward, order.Cancelled{Reason: pii})
	}
	h.add(member.AggregateType, "m-001", admin, member.Retired{Reason: pii})
	h.add(lane.AggregateType, "kongyuan", admin, lane.Updated{Name: "孔园", Community: "taoyuan", Street: "dongcheng", Station: "孔园驿站"})
	h.add("token", "tok-1", admin, access.Issued{Role: domain.RoleMember, Member: "m-001", Name: "张阿姨", Hash: "13812345678"})
}

func TestNoEntryNamesTheResident(t *testing.T) {
	h := newHistory(t)
	lifeStory(h)
	v := feed.New()
	var keys []string
	for _, rec := range h.recs {
		keys = append(keys, v.Apply(rec, decode(t, rec))...)
	}
	entries := v.Take()
	if len(entries) < 50 {
		t.Fatalf("only %d entries: the story should make many", len(entries))
	}
	secrets := []string{"张阿姨", "13812345678", "1234", "内部", "公开", "不认识"}
	for _, e := range entries {
		b, _ := json.Marshal(e)
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("entry %d %q shows %q", e.Seq, e.Text, s)
			}
		}
	}
	for _, k := range keys {
		for _, s := range secrets[:2] {
			if bytes.Contains(v.Doc(k), []byte(s)) {
				t.Errorf("document %s stores %q: %s", k, s, v.Doc(k))
			}
		}
	}
	if got, want := textOf(entries, "o-leak", order.TypeSubmitted), "居民通过96345热线向柔桥后巷驿站提出诉求「居民家（138****5678）水管爆了」（日常维修）"; got != want {
		t.Errorf("leaky title: got %q, want %q", got, want)
	}
}

func textOf(es []feed.Entry, orderID, typ string) string {
	for _, e := range es {
		if e.Order == orderID && e.Type == typ {
			return e.Text
		}
	}
	return ""
}

func TestEntriesAreInOrderAndTakeClears(t *testing.T) {
	h := newHistory(t)
	lifeStory(h)
	v := feed.New()
	if err := projections.Fold(v, h.recs[:20]); err != nil {
		t.Fatal(err)
	}
	first := v.Take()
	if err := projections.Fold(v, h.recs[20:]); err != nil {
		t.Fatal(err)
	}
	second := v.Take()
	if again := v.Take(); len(again) != 0 {
		t.Fatalf("Take after Take returned %d entries", len(again))
	}
	all := append(first, second...)
	seen := map[string]bool{}
	for i, e := range all {
		if i > 0 && e.Seq <= all[i-1].Seq {
			t.Errorf("entry %d: seq %d after %d", i, e.Seq, all[i-1].Seq)
		}
		if seen[e.EventID] {
			t.Errorf("two entries for event %s", e.EventID)
		}
		seen[e.EventID] = true
		if len(e.Dimensions) == 0 || e.Text == "" {
			t.Errorf("entry %d is empty: %+v", i, e)
		}
	}
}

func TestDeterministic(t *testing.T) {
	h := newHistory(t)
	lifeStory(h)
	run := func() ([]byte, map[string][]byte) {
		v := feed.New()
		docs := map[string][]byte{}
		for _, rec := range h.recs {
			for _, k := range v.Apply(rec, decode(t, rec)) {
				docs[k] = v.Doc(k)
			}
		}
		b, err := json.Marshal(v.Take())
		if err != nil {
			t.Fatal(err)
		}
		return b, docs
	}
	e1, d1 := run()
	for range 5 {
		e2, d2 := run()
		if !bytes.Equal(e1, e2) {
			t.Fatal("two folds of one history made different entries")
		}
		if !reflect.DeepEqual(d1, d2) {
			t.Fatal("two folds of one history made different documents")
		}
	}
}

func TestRestoreThenContinue(t *testing.T) {
	h := newHistory(t)
	lifeStory(h)
	for _, cut := range []int{0, 3, 7, 15, 30, len(h.recs) - 1, len(h.recs)} {
		t.Run(fmt.Sprint("cut at ", cut), func(t *testing.T) {
			orig := feed.New()
			keys := map[string]bool{}
			for _, rec := range h.recs[:cut] {
				for _, k := range orig.Apply(rec, decode(t, rec)) {
					keys[k] = true
				}
			}
			orig.Take()
			restored := feed.New()
			for k := range keys {
				doc := orig.Doc(k)
				if doc == nil {
					continue
				}
				if err := restored.Restore(k, doc); err != nil {
					t.Fatalf("Restore(%s): %v", k, err)
				}
				if got := restored.Doc(k); !bytes.Equal(got, doc) {
					t.Fatalf("Doc(%s) after Restore = %s, want %s", k, got, doc)
				}
			}
			for _, rec := range h.recs[cut:] {
				ev := decode(t, rec)
				ka, kb := orig.Apply(rec, ev), restored.Apply(rec, ev)
				if !slices.Equal(ka, kb) {
					t.Fatalf("seq %d: keys %v, restored %v", rec.Seq, ka, kb)
				}
				for _, k := range ka {
					keys[k] = true
				}
			}
			if a, b := orig.Take(), restored.Take(); !reflect.DeepEqual(a, b) {
				t.Fatalf("entries differ after restore:\n%+v\n%+v", a, b)
			}
			for k := range keys {
				if a, b := orig.Doc(k), restored.Doc(k); !bytes.Equal(a, b) {
					t.Errorf("Doc(%s): %s, restored %s", k, a, b)
				}
			}
		})
	}
}

func TestRestoreRefusesWhatDocNeverMade(t *testing.T) {
	tests := []struct{ key, doc string }{
		{"order.o-1", "{"},
		{"order.o-1", ""},
		{"order.o-1", "null"},
		{"orders", `{}`},
		{"report.x", `{}`},
		{"member.", `{}`},
	}
	for _, tt := range tests {
		if err := feed.New().Restore(tt.key, []byte(tt.doc)); err == nil {
			t.Errorf("Restore(%q, %q) accepted it", tt.key, tt.doc)
		}
	}
}

func TestDocOfUnknownKeyIsNil(t *testing.T) {
	v := feed.New()
	for _, k := range []string{"order.nope", "lane.nope", "member.nope", "nope", ""} {
		if d := v.Doc(k); d != nil {
			t.Errorf("Doc(%q) = %s, want nil", k, d)
		}
	}
}

func TestDocumentShapes(t *testing.T) {
	h := newHistory(t)
	setup(h)
	v := feed.New()
	if err := projections.Fold(v, h.recs); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"order.o-repair":        `{"title":"楼道灯不亮了","lane":"rouqiao-houxiang","community":"taoyuan","street":"dongcheng","category":"repair"}`,
		"member.m-001":          `{"name":"李明","community":"taoyuan"}`,
		"lane.rouqiao-houxiang": `{"name":"柔桥后巷","station":"柔桥后巷驿站","community":"taoyuan","street":"dongcheng"}`,
	}
	for k, w := range want {
		if got := string(v.Doc(k)); got != w {
			t.Errorf("Doc(%s) = %s, want %s", k, got, w)
		}
	}
}

func TestEntryJSON(t *testing.T) {
	e := feed.Entry{Seq: 42, Time: time.Date(2026, 11, 27, 2, 15, 4, 0, time.UTC), Text: "「楼道灯不亮了」已撤销",
		Dimensions: []string{"matters"}, Lane: "rouqiao-houxiang", Community: "taoyuan", Street: "dongcheng",
		Order: "o-1", Type: order.TypeCancelled, EventID: "ev-1"}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"seq":42,"time":"2026-11-27T02:15:04Z","text":"「楼道灯不亮了」已撤销","dimensions":["matters"],"lane":"rouqiao-houxiang","community":"taoyuan","street":"dongcheng","order":"o-1","type":"redlane.order.cancelled.v1","event":"ev-1"}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
}
