package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/report"
)

// TestReportNamesItsCommunity: a registered community's report carries its name, which
// the CSV and the HTML page show instead of "taoyuan社区"; a rename changes the report,
// and a restored view keeps the name.
func TestReportNamesItsCommunity(t *testing.T) {
	recs := record(t, []step{
		{"2026-11-01T01:00:00Z", community.AggregateType, "taoyuan", admin, community.Registered{Name: "塔苑社区", Street: "dongcheng"}},
		{"2026-11-02T01:00:00Z", order.AggregateType, "o-1", resident, submitted("rouqiao-houxiang", "repair", "楼道灯不亮了")},
		{"2026-11-03T01:00:00Z", order.AggregateType, "o-2", resident, submitted("wudongqiao", "repair", "路灯不亮")},
	})
	v := report.New()
	for _, rec := range recs {
		v.Apply(rec, decode(t, rec))
	}
	r, ok := v.Report("taoyuan", "2026-11")
	if !ok || r.CommunityName != "塔苑社区" || r.Place() != "塔苑社区" {
		t.Fatalf("report = %+v, %v; want it named 塔苑社区", r, ok)
	}
	if other, _ := v.Report("yingchun", "2026-11"); other.CommunityName != "" || other.Place() != "yingchun社区" {
		t.Errorf("an unregistered community's report is called %q (%q)", other.Place(), other.CommunityName)
	}

	var csv, html bytes.Buffer
	if err := report.WriteCSV(&csv, r, map[string]string{"rouqiao-houxiang": "柔桥后巷"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csv.String(), "概况,community_name,社区名称,塔苑社区,") {
		t.Errorf("the CSV does not name the community:\n%s", csv.String())
	}
	if err := report.WriteHTML(&html, r, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), "<h1>塔苑社区 · 2026-11 月度服务报告</h1>") || strings.Contains(html.String(), "taoyuan") {
		t.Errorf("the HTML report does not call the community 塔苑社区")
	}

	rename := record(t, []step{{"2026-12-01T01:00:00Z", community.AggregateType, "taoyuan", admin, community.Renamed{Name: "塔苑新社区"}}})[0]
	rename.Seq = uint64(len(recs) + 1)
	keys := v.Apply(rename, decode(t, rename))
	if strings.Join(keys, " ") != "community.taoyuan report.taoyuan.2026-11" {
		t.Errorf("a rename changed %v", keys)
	}
	restored := report.New()
	for _, k := range keys {
		if err := restored.Restore(k, v.Doc(k)); err != nil {
			t.Fatal(err)
		}
	}
	if r, _ := restored.Report("taoyuan", "2026-11"); r.CommunityName != "塔苑新社区" {
		t.Errorf("restored report is named %q", r.CommunityName)
	}
}
