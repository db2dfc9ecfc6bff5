package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
)

func mem(id, community string, skills ...string) member.State {
	return member.State{ID: id, Active: true, Profile: member.Profile{Name: id, Community: community, Skills: skills}}
}

func TestRank(t *testing.T) {
	repair, _ := order.DefaultCatalog().Lookup("repair") // skills: repair, electrical
	errand, _ := order.DefaultCatalog().Lookup("errand") // no skills
	retired := mem("m-retired", "taoyuan", "repair")
	retired.Active = false

	city, _ := order.DefaultCatalog().Lookup("city") // street management: skill city
	cases := []struct {
		name    string
		cat     order.Category
		members []member.State
		facts   map[string]MemberFacts
		want    []string // ids, best first
		reasons map[string]string
	}{
		{
			name:    "street management goes to whoever does it, not to the idle doctor next door",
			cat:     city,
			members: []member.State{mem("m-doctor", "taoyuan", "medical"), mem("m-city", "yingchun", "city", "fire-safety")},
			want:    []string{"m-city", "m-doctor"},
			reasons: map[string]string{
				"m-doctor": "技能不符 · 当前无在办 · 本社区 · 本月暂无评价",
				"m-city":   "技能匹配：城市管理 · 当前无在办 · 外社区 · 本月暂无评价",
			},
		},
		{
			name:    "a skill match in the community comes first",
			cat:     repair,
			members: []member.State{mem("m-a", "taoyuan"), mem("m-b", "taoyuan", "repair"), mem("m-c", "yingchun", "repair")},
			want:    []string{"m-b", "m-c", "m-a"},
			reasons: map[string]string{
				"m-b": "技能匹配：维修 · 当前无在办 · 本社区 · 本月暂无评价",
				"m-c": "技能匹配：维修 · 当前无在办 · 外社区 · 本月暂无评价",
				"m-a": "技能不符 · 当前无在办 · 本社区 · 本月暂无评价",
			},
		},
		{
			name:    "each further matching skill adds a little",
			cat:     repair,
			members: []member.State{mem("m-a", "taoyuan", "repair"), mem("m-b", "taoyuan", "electrical", "repair")},
			want:    []string{"m-b", "m-a"},
			reasons: map[string]string{"m-b": "技能匹配：维修、电工 · 当前无在办 · 本社区 · 本月暂无评价"},
		},
		{
			name:    "orders in hand count against",
			cat:     repair,
			members: []member.State{mem("m-a", "taoyuan", "repair"), mem("m-b", "taoyuan", "repair")},
			facts:   map[string]MemberFacts{"m-a": {Load: 2}, "m-b": {Load: 1}},
			want:    []string{"m-b", "m-a"},
			reasons: map[string]string{"m-a": "技能匹配：维修 · 当前在办 2 件 · 本社区 · 本月暂无评价"},
		},
		{
			name:    "a busy specialist still beats an idle member without the skill",
			cat:     repair,
			members: []member.State{mem("m-a", "taoyuan"), mem("m-b", "taoyuan", "repair")},
			facts:   map[string]MemberFacts{"m-b": {Load: 3}},
			want:    []string{"m-b", "m-a"},
		},
		{
			name:    "good ratings lift, in proportion to their number",
			cat:     repair,
			members: []member.State{mem("m-a", "taoyuan", "repair"), mem("m-b", "taoyuan", "repair"), mem("m-c", "taoyuan", "repair")},
			facts: map[string]MemberFacts{
				"m-a": {Ratings: 1, MeanStars: 5},   // one five-star job: +1.6
				"m-b": {Ratings: 6, MeanStars: 4.5}, // a steady record: +6
				"m-c": {Ratings: 4, MeanStars: 2},   // poor: -3.2
			},
			want:    []string{"m-b", "m-a", "m-c"},
			reasons: map[string]string{"m-b": "技能匹配：维修 · 当前无在办 · 本社区 · 本月均分 4.5（6 次评价）"},
		},
		{
			name:    "a category without skills ranks by community and load",
			cat:     errand,
			members: []member.State{mem("m-a", "yingchun"), mem("m-b", "taoyuan"), mem("m-c", "taoyuan")},
			facts:   map[string]MemberFacts{"m-b": {Load: 1}},
			want:    []string{"m-c", "m-b", "m-a"},
			reasons: map[string]string{"m-c": "当前无在办 · 本社区 · 本月暂无评价"},
		},
		{
			name:    "retired members are left out",
			cat:     repair,
			members: []member.State{retired, mem("m-a", "taoyuan")},
			want:    []string{"m-a"},
		},
		{
			name:    "ties go to the member id",
			cat:     errand,
			members: []member.State{mem("m-2", "taoyuan"), mem("m-1", "taoyuan")},
			want:    []string{"m-1", "m-2"},
		},
		{
			name: "no members, no proposals",
			cat:  repair,
			want: []string{},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Rank(c.cat, "taoyuan", c.members, c.facts)
			ids := []string{}
			for _, r := range got {
				ids = append(ids, r.Member.ID)
			}
			if !slices.Equal(ids, c.want) {
				t.Fatalf("ranked %v, want %v", ids, c.want)
			}
			for _, r := range got {
				if want, ok := c.reasons[r.Member.ID]; ok && r.Reasons != want {
					t.Errorf("%s: reasons %q, want %q", r.Member.ID, r.Reasons, want)
				}
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	cases := []struct {
		err         error
		status      int
		title, line string
	}{
		{domain.Refuse(domain.KindConflict, domain.CodeTransitionRefused, "cannot dispatch an order that is dispatched").
			With("action", "dispatch").With("status", "dispatched"), http.StatusConflict,
			"工单状态已变化，未能办理", "工单当前为「已派单」，不能派单。"},
		{domain.Invalid("stars", "must be a whole number from 1 to 5"), http.StatusBadRequest,
			"填写有误，请检查后再提交", "星级：请选择 1 到 5 星"},
		{domain.Refuse(domain.KindForbidden, domain.CodeAssigneeOnly, "only the member the order is assigned to may do this"), http.StatusForbidden,
			"无权进行此操作", "只有承办这张工单的党员可以这样做。"},
		{domain.Errorf(domain.KindNotFound, "no such order"), http.StatusNotFound, "找不到这张工单或这个页面", ""},
		{errors.New("nats: timeout"), http.StatusInternalServerError, "系统繁忙，请稍后再试", ""},
	}
	for _, c := range cases {
		p := describe(c.err)
		if p.Status != c.status || p.Title != c.title {
			t.Errorf("%v: %d %q, want %d %q", c.err, p.Status, p.Title, c.status, c.title)
		}
		if c.line != "" && (len(p.Lines) == 0 || p.Lines[0] != c.line) {
			t.Errorf("%v: lines %q, want %q", c.err, p.Lines, c.line)
		}
	}
}

// TestEveryCodeHasChineseWords: the pages can word every refusal the domain can make.
func TestEveryCodeHasChineseWords(t *testing.T) {
	for _, c := range domain.Codes {
		text := codeText(domain.Refuse(c.Kind, c.Code, "x").With("action", "dispatch").With("status", "open").With("level", "community"))
		if text == "" || strings.ContainsAny(text, "{}") {
			t.Errorf("%s: %q", c.Code, text)
		}
	}
	for code := range codeTexts {
		found := false
		for _, c := range domain.Codes {
			found = found || c.Code == code
		}
		if !found {
			t.Errorf("a text for %s, which is no code", code)
		}
	}
}

func TestAge(t *testing.T) {
	for d, want := range map[int64]string{30: "刚刚", 600: "10分钟", 3*3600 + 300: "3小时5分", 2*86400 + 4*3600: "2天4小时"} {
		if got := age(time.Duration(d) * time.Second); got != want {
			t.Errorf("age(%ds) = %q, want %q", d, got, want)
		}
	}
}

// TestSafeNextStaysOnSite: a sign-in's redirect never leaves the site, however the
// target is dressed up.
func TestSafeNextStaysOnSite(t *testing.T) {
	for _, bad := range []string{"", "https://evil.example/", "//evil.example", "/\t/evil.example/x", "/\n/evil.example", "/\\evil.example",
		"/\\/evil.example", "\t//evil.example", "javascript:alert(1)", "/%09/evil.example\x00", "evil.example", "/\u2028/evil.example"} {
		if got := safeNext(bad); got != "" {
			t.Errorf("safeNext(%q) = %q, want nothing", bad, got)
		}
	}
	for _, good := range []string{"/board", "/tasks?x=1", "/audit/orders/01a2", "/%09/still-a-path-on-this-site"} {
		if got := safeNext(good); got != good {
			t.Errorf("safeNext(%q) = %q, want it kept", good, got)
		}
	}
}
