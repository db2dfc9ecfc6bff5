package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/template"

	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/feed"
)

// Place is what the report calls its community: the registered name, else the id with
// 社区 (taoyuan社区).
func (r Report) Place() string {
	if r.CommunityName != "" {
		return r.CommunityName
	}
	return feed.CommunityByID(r.Community)
}

func rateText(r *float64) string {
	if r == nil {
		return ""
	}
	return strconv.FormatFloat(*r, 'f', 4, 64)
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// WriteCSV writes a report as a spreadsheet opens it: a UTF-8 byte-order mark (so
// Excel reads the Chinese), Chinese headers, and names beside codes.
func WriteCSV(w io.Writer, r Report, laneNames map[string]string) error {
	if _, err := io.WriteString(w, csvBOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cat := order.DefaultCatalog()
	catName := func(code string) string {
		if c, ok := cat.Lookup(code); ok {
			return c.Name
		}
		return ""
	}
	rows := [][]string{
		{"栏目", "代码", "名称", "数值", "样本"},
		{"概况", "community", "社区", r.Community, ""},
		{"概况", "community_name", "社区名称", r.Place(), ""},
		{"概况", "period", "月份", r.Period, ""},
		{"概况", "orders", "工单数", strconv.Itoa(r.Orders), ""},
		{"三率", "response_rate", "响应率", rateText(r.ResponseRate), strconv.Itoa(r.ResponseSample)},
		{"三率", "resolution_rate", "解决率", rateText(r.ResolutionRate), strconv.Itoa(r.RatingSample)},
		{"三率", "satisfaction_rate", "满意率", rateText(r.SatisfactionRate), strconv.Itoa(r.RatingSample)},
	}
	for _, k := range sortedKeys(r.ByCategory) {
		rows = append(rows, []string{"类别", k, catName(k), strconv.Itoa(r.ByCategory[k]), ""})
	}
	for _, k := range sortedKeys(r.ByLane) {
		rows = append(rows, []string{"街巷", k, laneNames[k], strconv.Itoa(r.ByLane[k]), ""})
	}
	for _, k := range sortedKeys(r.FeedByDimension) {
		rows = append(rows, []string{"联动维度", k, feed.Label(k), strconv.Itoa(r.FeedByDimension[k]), ""})
	}
	for _, m := range r.TopMembers {
		rows = append(rows, []string{"优秀党员", m.Member, m.Name, strconv.Itoa(m.Points), strconv.Itoa(m.Completed + m.Ratings)})
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

// csvBOM starts every CSV Redlane writes: without it a Chinese Excel reads UTF-8 as GBK.
const csvBOM = "\uFEFF"

type bar struct {
	Label string
	Value string
	Width float64 // percent of the chart
}

func bars(m map[string]int, label func(string) string) []bar {
	maxV := 0
	for _, v := range m {
		maxV = max(maxV, v)
	}
	var out []bar
	for _, k := range sortedKeys(m) {
		w := 0.0
		if maxV > 0 {
			w = 100 * float64(m[k]) / float64(maxV)
		}
		out = append(out, bar{Label: label(k), Value: strconv.Itoa(m[k]), Width: w})
	}
	return out
}

func WriteHTML(w io.Writer, r Report, laneNames map[string]string) error {
	cat := order.DefaultCatalog()
	rate := func(name string, v *float64, sample int) bar {
		if v == nil {
			return bar{Label: name, Value: "无数据（样本 0）"}
		}
		return bar{Label: name, Value: fmt.Sprintf("%.1f%%（样本 %d）", *v*100, sample), Width: *v * 100}
	}
	topMax := 1
	for _, m := range r.TopMembers {
		topMax = max(topMax, m.Points)
	}
	var top []bar
	for _, m := range r.TopMembers {
		stars := "—"
		if m.MeanStars != nil {
			stars = strconv.FormatFloat(*m.MeanStars, 'f', 1, 64)
		}
		top = append(top, bar{Label: m.Name, Value: fmt.Sprintf("%d 分（办结 %d，评价 %d，均星 %s）", m.Points, m.Completed, m.Ratings, stars),
			Width: max(0, 100*float64(m.Points)/float64(topMax))})
	}
	data := map[string]any{
		"R":     r,
		"Place": r.Place(),
		"Rates": []bar{
			rate("响应率", r.ResponseRate, r.ResponseSample),
			rate("解决率", r.ResolutionRate, r.RatingSample),
			rate("满意率", r.SatisfactionRate, r.RatingSample),
		},
		"Categories": bars(r.ByCategory, func(k string) string {
			if c, ok := cat.Lookup(k); ok {
				return c.Name
			}
			return k
		}),
		"Lanes": bars(r.ByLane, func(k string) string {
			if n, ok := laneNames[k]; ok {
				return n
			}
			return k
		}),
		"Dimensions": bars(r.FeedByDimension, func(k string) string {
			if l := feed.Label(k); l != "" {
				return l
			}
			return k
		}),
		"Top": top,
	}
	return reportPage.Execute(w, data)
}

var reportPage = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Place}} {{.R.Period}} 月度报告</title>
<style>
body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:1.5rem;color:#222;max-width:52rem}
h1{color:#b71c1c;font-size:1.5rem} h2{font-size:1.1rem;border-bottom:2px solid #b71c1c;padding-bottom:.2rem;margin-top:1.8rem}
.row{display:grid;grid-template-columns:8rem 1fr;gap:.5rem;align-items:center;margin:.35rem 0}
.track{background:#f3e5e5;border-radius:3px;position:relative;height:1.4rem}
.fill{background:#c62828;height:100%;border-radius:3px}
.val{position:absolute;left:.4rem;top:.1rem;font-size:.85rem;color:#111}
.summary{font-size:1.05rem}
</style></head><body>
<h1>{{.Place}} · {{.R.Period}} 月度服务报告</h1>
<p class="summary">本月受理诉求 <strong>{{.R.Orders}}</strong> 件。</p>
<h2>三率</h2>
{{range .Rates}}<div class="row"><span>{{.Label}}</span><div class="track"><div class="fill" style="width:{{printf "%.1f" .Width}}%"></div><span class="val">{{.Value}}</span></div></div>
{{end}}
<h2>按类别</h2>
{{range .Categories}}<div class="row"><span>{{.Label}}</span><div class="track"><div class="fill" style="width:{{printf "%.1f" .Width}}%"></div><span class="val">{{.Value}} 件</span></div></div>
{{else}}<p>本月无诉求。</p>{{end}}
<h2>按街巷</h2>
{{range .Lanes}}<div class="row"><span>{{.Label}}</span><div class="track"><div class="fill" style="width:{{printf "%.1f" .Width}}%"></div><span class="val">{{.Value}} 件</span></div></div>
{{else}}<p>本月无诉求。</p>{{end}}
<h2>联动信息（按维度）</h2>
{{range .Dimensions}}<div class="row"><span>{{.Label}}</span><div class="track"><div class="fill" style="width:{{printf "%.1f" .Width}}%"></div><span class="val">{{.Value}} 条</span></div></div>
{{else}}<p>本月无联动信息。</p>{{end}}
<h2>服务之星（积分前五）</h2>
{{range .Top}}<div class="row"><span>{{.Label}}</span><div class="track"><div class="fill" style="width:{{printf "%.1f" .Width}}%"></div><span class="val">{{.Value}}</span></div></div>
{{else}}<p>本月暂无积分。</p>{{end}}
<p style="color:#666;font-size:.85rem">响应率：按时接单的诉求占比；解决率：评价为“已解决”的占比；满意率：四至五星评价的占比。排名均注明样本量。</p>
</body></html>
`))
