package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/service"
)

// chromiumPath is Debian's Chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// artefacts is where screenshots go: $REDLANE_ARTIFACTS, or the test's temp directory.
func artefacts(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("REDLANE_ARTIFACTS")
	if dir == "" {
		return tb.TempDir()
	}
	dir = filepath.Join(dir, "web")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// tab drives one browser tab in a test, failing the test on any error.
type tab struct {
	t    *testing.T
	ctx  context.Context
	name string
	dir  string
}

// do runs actions with a time limit.
func (b tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
}

// eval evaluates a JavaScript expression.
func evalIn[T any](b tab, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: evaluate %s: %v", b.name, expr, err)
	}
	return v
}

// waitFor evaluates a JavaScript predicate until it holds. It survives navigations
// (a page reloaded under it is evaluated again), unlike chromedp.Poll.
func (b tab) waitFor(what, predicate string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](predicate))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	b.t.Fatalf("%s: waiting for %s: timed out (last error: %v)\npage text:\n%s", b.name, what, last, body)
}

// text returns the visible text of the first element matching a CSS selector.
func (b tab) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("%s: text of %s: %v", b.name, sel, err)
	}
	return s
}

// shot writes a full-page screenshot as NAME-SIZE.png and logs its path.
func (b tab) shot(page, size string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("%s: screenshot %s: %v", b.name, page, err)
	}
	path := filepath.Join(b.dir, page+"-"+size+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
}

// tapTargetsUnder44 lists the visible buttons, button-like links and chips shorter than
// 44 CSS pixels, by their text.
const tapTargetsUnder44 = `Array.from(document.querySelectorAll('button, .button, .chip, input[type=submit]'))
	.filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 43.5)
	.map(e => (e.innerText || e.value || e.className).trim() + ' ' + Math.round(e.getBoundingClientRect().height) + 'px')`

// sideways measures the page against the width it is laid out at and names the
// elements reaching past that width (outermost first, none inside a box that scrolls
// or clips). The width is documentElement.clientWidth, not window.innerWidth: on an
// emulated phone innerWidth grows with content too wide for the screen, so a page's
// scrollWidth never exceeds it however far the page scrolls sideways.
const sideways = `(() => {
	const width = document.documentElement.clientWidth;
	const past = [];
	for (const e of document.querySelectorAll("body *")) {
		const r = e.getBoundingClientRect();
		if (r.width === 0 || r.right <= width + 1) continue;
		let clipped = false;
		for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
			if (getComputedStyle(p).overflowX !== "visible") { clipped = true; break; }
		}
		if (clipped) continue;
		const cls = typeof e.className === "string" && e.className.trim() ? "." + e.className.trim().split(/\s+/).join(".") : "";
		past.push(e.tagName.toLowerCase() + cls + " to " + Math.round(r.right) + " px");
	}
	return {scroll: document.documentElement.scrollWidth, width: width, past: past.slice(0, 6)};
})()`

// fits fails the test when the tab's page scrolls sideways at the tab's size, naming
// what sticks out.
func (b tab) fits(page string) {
	b.t.Helper()
	got := evalIn[struct {
		Scroll int      `json:"scroll"`
		Width  int      `json:"width"`
		Past   []string `json:"past"`
	}](b, sideways)
	if got.Scroll > got.Width+1 {
		b.t.Errorf("%s is %d px wide at a %d px screen: it scrolls sideways (past the edge: %s)", page, got.Scroll, got.Width, strings.Join(got.Past, ", "))
	}
}

// The sizes pages are checked at: a desktop, and a 375-pixel-wide phone.
var sizes = []struct {
	name          string
	width, height int64
	mobile        bool
}{
	{"desktop", 1280, 800, false},
	{"phone", 375, 812, true},
}

func (b tab) resize(width, height int64, mobile bool) {
	b.t.Helper()
	opts := []chromedp.EmulateViewportOption{}
	if mobile {
		opts = append(opts, chromedp.EmulateScale(2), chromedp.EmulateMobile)
	}
	b.do("resize", chromedp.EmulateViewport(width, height, opts...))
}

// TestBrowser drives the pages in Debian's Chromium: a steward signs in, sees the
// backlog and dispatches from the dialog; a member accepts on a page of their own; the
// steward's board shows it with no reload. Long names, as admins type them, head the
// steward's and the office's pages, and a member's task carries a resident's link.
// Every page is captured at a desktop and a phone size, and none is wider than either.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium not installed at /usr/bin/chromium: .ci/run installs it (apt-get install -y chromium fonts-noto-cjk)")
	}
	start := time.Now()
	h := newHarness(t)
	h.registerPlaces() // the district as an admin sets it up: places named before lanes
	w := h.seed()
	id, receipt := h.submitWith(order.Submit{Category: "repair", Title: "楼道灯不亮了", Description: "三单元二楼的感应灯坏了，老人晚上下楼不方便",
		Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"}, Channel: order.ChannelStation})
	urgent, _ := h.submitWith(order.Submit{Category: "medical", Title: "独居老人血压偏高需上门测量", Priority: order.PriorityUrgent,
		Requester: order.Requester{Name: "王奶奶", Phone: "13900002222"}, Channel: order.ChannelHotline, Mode: order.ModeInstant})
	h.submitWith(order.Submit{Category: "city", Title: "柔桥后巷流动摊点夜半扰民", Mode: order.ModeThematic, Theme: "平安街巷",
		Requester: order.Requester{Name: "陈先生", Phone: "13700003333"}, Channel: order.ChannelTerminal})
	// One the lane could not solve, escalated to 塔苑社区 (兜底).
	escalated, _ := h.submitWith(order.Submit{Category: "city", Title: "楼道堆放杂物堵塞消防通道", Description: "三号楼一楼楼道堆满旧家具",
		Requester: order.Requester{Name: "刘师傅", Phone: "13600004444"}, Channel: order.ChannelStation})
	h.act(w.steward, escalated, order.Escalate{Level: order.LevelCommunity, Reason: "涉及物业，需社区协调清理"})
	// One whose resident gave a link to a photo, dispatched to 李明: on his task's card the
	// link, unbroken by any space, must wrap rather than widen the page.
	linked, _ := h.submitWith(order.Submit{Category: "repair", Title: "楼道窗户玻璃破损",
		Description: "照片：https://pan.example.cn/s/1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_photo-of-the-window?pwd=8d2k 窗框也松了",
		Requester:   order.Requester{Name: "欧阳秀英", Phone: "13500005555", Address: order.Address{Building: "柔桥后巷老城区东侧三号楼", Unit: "二单元", Door: "201"}},
		Channel:     order.ChannelStation})
	h.act(w.steward, linked, order.Dispatch{Member: order.MemberRef{ID: "m-001"}})
	h.advance(20 * time.Minute) // the urgent order's 15 minutes to be accepted have passed
	h.settle()
	dir := artefacts(t)

	// Each user has a browser of their own (own profile, own cookies). chromedp v0.23.0
	// loses track of a second tab of one browser after its first cross-document
	// navigation, so every browser here drives its first tab only.
	newTab := func(name string) tab {
		t.Helper()
		return startTab(t, name, dir)
	}
	signIn := func(b tab, token, landing string) {
		t.Helper()
		b.do("sign in with a token",
			chromedp.Navigate(h.url+"/"),
			chromedp.Click(chromedp.CSS(".token-signin summary")),
			chromedp.WaitVisible(chromedp.CSS("#token")),
			chromedp.SendKeys(chromedp.CSS("#token"), token),
			chromedp.Click(chromedp.CSS("#signin-token")),
			chromedp.WaitVisible(chromedp.CSS(landing)),
		)
	}
	item := fmt.Sprintf(`li[data-order=%q]`, id)

	// The steward signs in and sees the backlog: the urgent order marked overdue.
	steward := newTab("steward")
	// She signs in as people do: with the username and password the admin gave her.
	if _, err := h.svc.CreateAccount(context.Background(), h.svc.Meta(service.Admin, ""), service.NewAccount{
		Username: "wangfang", Password: "柔桥后巷 2026",
		// Her name as the admin typed it, long, is in every page's header.
		Issue: access.Issue{Role: domain.RoleSteward, Lanes: []string{"rouqiao-houxiang"}, Name: "王芳（柔桥后巷党群服务驿站站长、塔苑社区第三网格网格员）"}}); err != nil {
		t.Fatal(err)
	}
	steward.do("sign in with a password",
		chromedp.Navigate(h.url+"/"), chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "wangfang"),
		chromedp.SendKeys(chromedp.CSS("#password"), "柔桥后巷 2026"),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS(item)))
	if got := steward.text(fmt.Sprintf(`li[data-order=%q]`, urgent)); !strings.Contains(got, "超时") || !strings.Contains(got, "紧急") {
		t.Errorf("the urgent order is not marked overdue: %q", got)
	}
	if got := steward.text("main"); !strings.Contains(got, "塔苑社区") || strings.Contains(got, "taoyuan社区") {
		t.Errorf("the board does not call the community by its name: %q", got)
	}
	if got := steward.text(".counts-bar .c-overdue"); !strings.Contains(got, "1") {
		t.Errorf("overdue count %q, want 1", got)
	}
	if got := steward.text(".rates"); !strings.Contains(got, "响应率") || !strings.Contains(got, "满意率") {
		t.Errorf("the month's rates are missing: %q", got)
	}

	// The dispatch dialog ranks 李明 (repair, this community) first, with the reasons.
	steward.do("open the dispatch dialog",
		chromedp.Click(chromedp.CSS(item+` a[data-action="dispatch"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#dialog #assign-form`)),
	)
	first := steward.text(`#dialog .candidates li:first-child .cand`)
	if !strings.Contains(first, "李明") || !strings.Contains(first, "技能匹配：维修、电工") || !strings.Contains(first, "本社区") {
		t.Errorf("first proposal %q, want 李明 with a repair match", first)
	}
	steward.shot("dispatch-dialog", "desktop")
	steward.do("dispatch",
		chromedp.Click(chromedp.CSS(`#dialog .cand[data-member="m-001"] input`)),
		chromedp.Click(chromedp.CSS(`#submit-dispatch`)),
	)
	steward.waitFor("the dispatched order", `location.search.includes("ok=dispatch") && document.querySelector('`+item+`[data-status="dispatched"]') !== null`)
	if got := steward.text(item); !strings.Contains(got, "李明") || !strings.Contains(got, "已派单") {
		t.Errorf("after dispatch the item reads %q", got)
	}
	// From here on, a reload would lose this mark.
	evalIn[chromedp.Void](steward, `window.redlaneNoReload = true`)

	// A station's terminal shows the lane's linkage messages as they come.
	screen := newTab("visitor")
	screen.do("screen", chromedp.Navigate(h.url+"/screen/rouqiao-houxiang"), chromedp.WaitVisible(chromedp.CSS("#feed .entry")))

	t.Logf("dispatched after %s", time.Since(start).Round(time.Millisecond))
	// The member, in a browser of their own (own cookies), accepts.
	member := newTab("member")
	signIn(member, w.member, item+` button[data-action="accept"]`)
	member.do("accept",
		chromedp.Click(chromedp.CSS(item+` button[data-action="accept"]`)),
	)
	member.waitFor("the accepted order", `document.querySelector('`+item+`[data-status="accepted"]') !== null`)
	accepted := time.Now()

	// The steward's board shows it, live, with no reload.
	steward.waitFor("the board to show the acceptance", `(() => {
		const li = document.querySelector('`+item+`');
		return li !== null && li.dataset.status === "accepted" && window.redlaneNoReload === true;
	})()`)
	t.Logf("the steward's board showed the acceptance %s after the member's page did", time.Since(accepted).Round(time.Millisecond))
	if got := steward.text(item); !strings.Contains(got, "办理中") || !strings.Contains(got, "承办：李明") {
		t.Errorf("after acceptance the item reads %q", got)
	}
	screen.waitFor("the terminal to show the acceptance", `document.querySelector("#feed .entry").innerText.includes("李明接单「楼道灯不亮了」")`)
	t.Logf("the live flow took %s", time.Since(start).Round(time.Millisecond))

	// 塔苑社区's staff sign in onto their own board, find the escalated order with its
	// lane's and community's names and the reason, and dispatch it within the community.
	if _, err := h.svc.CreateAccount(context.Background(), h.svc.Meta(service.Admin, ""), service.NewAccount{
		Username: "tayuan", Password: "redlane-demo",
		Issue: access.Issue{Role: domain.RoleCommunity, Communities: []string{"taoyuan"}, Name: "塔苑社区居民委员会网格化服务管理中心兜底值班工作人员"}}); err != nil {
		t.Fatal(err)
	}
	escItem := fmt.Sprintf(`li[data-order=%q]`, escalated)
	office := newTab("community")
	office.do("sign in as the community",
		chromedp.Navigate(h.url+"/"), chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "tayuan"),
		chromedp.SendKeys(chromedp.CSS("#password"), "redlane-demo"),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS(escItem)))
	if got := office.text(escItem); !strings.Contains(got, "柔桥后巷 · 塔苑社区") || !strings.Contains(got, "涉及物业，需社区协调清理") || !strings.Contains(got, "上报于") {
		t.Errorf("the community's board shows the escalated order as %q", got)
	}
	office.do("open the escalated order",
		chromedp.Click(chromedp.CSS(escItem+` a.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`#assign-form`)))
	if got := office.text("#assign-form"); strings.Contains(got, "王律师") || !strings.Contains(got, "李明") {
		t.Errorf("the community's member picker reads %q, want only taoyuan's members", got)
	}
	office.do("dispatch within the community",
		chromedp.Click(chromedp.CSS(`.cand[data-member="m-002"] input`)),
		chromedp.Click(chromedp.CSS(`#submit-dispatch`)))
	office.waitFor("the dispatched order on the community's board", `location.pathname === "/escalations" && location.search.includes("ok=dispatch") && document.querySelector('`+escItem+`[data-status="dispatched"]') !== null`)
	if got := office.text(escItem); !strings.Contains(got, "陈静") {
		t.Errorf("after the community's dispatch the item reads %q", got)
	}

	// Every page, at both sizes. The public pages are seen by a visitor with no session.
	visitor := screen
	auditor := newTab("auditor")
	signIn(auditor, w.auditor, `input[name="order"]`)
	pages := []struct {
		name, path string
		b          tab
		ready      string
	}{
		{"signin", "/", visitor, "#username"},
		{"board", "/board", steward, item},
		{"order", "/board/orders/" + urgent, steward, "#assign-form"},
		{"tasks", "/tasks", member, item},
		{"intake", "/intake", visitor, "#intake"},
		{"receipt", "/receipt/" + id + "?r=" + receipt + "&new=1", visitor, "#receipt-link"},
		{"slip", "/receipt/" + id + "/slip?r=" + receipt, visitor, "#slip-code"},
		{"find-receipt", "/receipt", visitor, "#find-number"},
		{"screen", "/screen/rouqiao-houxiang", visitor, "#feed .entry"},
		{"audit", "/audit/orders/" + id, auditor, ".history .event"},
		{"auditor-home", "/", auditor, `input[name="order"]`},
		{"escalations", "/escalations", office, escItem},
		{"office-order", "/escalations/orders/" + escalated, office, "#assign-form"},
	}
	for _, size := range sizes {
		for _, p := range pages {
			p.b.resize(size.width, size.height, size.mobile)
			p.b.do(p.name, chromedp.Navigate(h.url+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
			p.b.fits(p.name)
			if size.name == "phone" {
				// Everything a thumb presses is at least 44 px tall (WCAG 2.5.5).
				if small := evalIn[[]string](p.b, tapTargetsUnder44); len(small) > 0 {
					t.Errorf("%s at a phone: tap targets under 44 px: %q", p.name, small)
				}
			}
			p.b.shot(p.name, size.name)
		}
		// The dispatch dialog of the urgent order, from the board.
		steward.do("dialog", chromedp.Navigate(h.url+"/board"),
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`li[data-order=%q] a[data-action="dispatch"]`, urgent))),
			chromedp.WaitVisible(chromedp.CSS(`#dialog #assign-form`)))
		if size.name == "phone" {
			steward.shot("dispatch-dialog", size.name)
		}
	}
	t.Logf("the browser test took %s", time.Since(start).Round(time.Millisecond))
}
