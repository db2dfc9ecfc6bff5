package feed_test

import (
	"strings"
	"testing"

	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/domain/street"
	"github.com/redlane/redlane/projections"
	"github.com/redlane/redlane/projections/feed"
)

// TestPlacesAreCalledByTheirNames: once a community and a street are registered, the
// feed writes their names, never the id with 社区; a place never registered keeps its id.
func TestPlacesAreCalledByTheirNames(t *testing.T) {
	h := newHistory(t)
	h.add(street.AggregateType, "dongcheng", admin, street.Registered{Name: "东城街道"})
	h.add(community.AggregateType, "taoyuan", admin, community.Registered{Name: "塔苑社区", Street: "dongcheng"})
	h.add(lane.AggregateType, "rouqiao-houxiang", admin, lane.Registered{Name: "柔桥后巷", Community: "taoyuan", Street: "dongcheng", Station: "柔桥后巷驿站"})
	h.add(member.AggregateType, "m-002", admin, member.Registered{Name: "赵强", Community: "taoyuan"})
	h.order("o-repair", resident, submitted("repair", "楼道灯不亮了"))
	h.order("o-repair", steward, order.Escalated{Level: order.LevelCommunity, Reason: "需要物业配合"})
	h.order("o-repair", steward, order.Escalated{Level: order.LevelStreet, Reason: "需要街道协调"})
	h.add(community.AggregateType, "taoyuan", admin, community.Renamed{Name: "塔苑新社区"})
	h.add(member.AggregateType, "m-003", admin, member.Registered{Name: "周老师", Community: "taoyuan"})
	h.add(lane.AggregateType, "kongyuan", admin, lane.Registered{Name: "孔园", Community: "yingchun", Street: "xicheng"})

	v := feed.New()
	if err := projections.Fold(v, h.recs); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range v.Take() {
		texts = append(texts, e.Text)
	}
	want := []string{
		"新驿站「柔桥后巷驿站」在塔苑社区启用",
		"党员赵强加入服务，所属：塔苑社区",
		"居民在柔桥后巷驿站提出诉求「楼道灯不亮了」（日常维修）",
		"「楼道灯不亮了」已上报至塔苑社区（街道兜底）",
		"「楼道灯不亮了」已上报至东城街道（街道兜底）",
		"党员周老师加入服务，所属：塔苑新社区",
		"新驿站「孔园驿站」在yingchun社区启用",
	}
	if strings.Join(texts, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
	for k, w := range map[string]string{
		"community.taoyuan": `{"name":"塔苑新社区","street":"dongcheng"}`,
		"street.dongcheng":  `{"name":"东城街道"}`,
	} {
		if got := string(v.Doc(k)); got != w {
			t.Errorf("Doc(%s) = %s, want %s", k, got, w)
		}
	}

	// A restarted feed knows the names from its documents alone.
	r := feed.New()
	for _, k := range []string{"community.taoyuan", "street.dongcheng"} {
		if err := r.Restore(k, v.Doc(k)); err != nil {
			t.Fatal(err)
		}
	}
	h2 := newHistory(t)
	h2.add(lane.AggregateType, "wudongqiao", admin, lane.Registered{Name: "五洞桥", Community: "taoyuan", Street: "dongcheng"})
	if err := projections.Fold(r, h2.recs); err != nil {
		t.Fatal(err)
	}
	if got := r.Take(); len(got) != 1 || got[0].Text != "新驿站「五洞桥驿站」在塔苑新社区启用" {
		t.Errorf("after restore: %+v", got)
	}
}
