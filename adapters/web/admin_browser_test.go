package web_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/service"
)

// startTab starts a browser of its own for one user (own profile, own cookies) and
// returns its first tab at the desktop size.
func startTab(t *testing.T, name, dir string) tab {
	t.Helper()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium for %s: %v", name, err)
	}
	b := tab{t: t, ctx: ctx, name: name, dir: dir}
	b.resize(1280, 800, false)
	return b
}

// signInWithPassword signs a tab in at the sign-in page and waits for landing.
func (b tab) signInWithPassword(url, username, password, landing string) {
	b.t.Helper()
	b.do("sign in as "+username,
		chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS(landing)))
}

// fill types into the text fields of a form and picks the choices of its selects, by
// field id, then submits it and waits for what should follow.
func (b tab) fill(what, url, formID string, typed, picked map[string]string, checked []string, after string) {
	b.t.Helper()
	actions := []chromedp.Action[chromedp.Void]{chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#" + formID))}
	for id, v := range typed {
		actions = append(actions, chromedp.SendKeys(chromedp.CSS("#"+id), v))
	}
	for id, v := range picked {
		actions = append(actions, chromedp.SetValue(chromedp.CSS("#"+id), v))
	}
	// As a person's pick does, tell the page each choice changed (the role picker shows
	// the fields its role needs).
	for id := range picked {
		actions = append(actions, chromedp.Evaluate[chromedp.Void](`document.getElementById("`+id+`").dispatchEvent(new Event("change", {bubbles: true}))`))
	}
	for _, sel := range checked {
		actions = append(actions, chromedp.Click(chromedp.CSS(sel)))
	}
	actions = append(actions, chromedp.Click(chromedp.CSS("#"+formID+"-submit")), chromedp.WaitVisible(chromedp.CSS(after)))
	b.do(what, actions...)
}

// TestBrowserDistrictFirstDay drives a district's first day in Debian's Chromium, every
// step through the pages: the admin signs in with a password and onboards the district
// (a street, 塔苑社区, a lane, a member with a phone, a steward's, a member's and the
// community office's accounts, a terminal's token); a resident places a request at the
// intake page; the steward signs in with the password given, sees the lane in 塔苑社区
// (never its id) and dispatches; the member signs in on a 375-pixel phone, sees the
// address and the resident's whole phone while the order is theirs, accepts and
// completes; the resident, link lost, finds the order again by number and phone and
// rates it; the steward escalates another order, and the community office sees it on its
// own board. Every admin page is captured at a desktop and a phone size, with the
// district at a real district's size (fillDistrict), and is no wider than either.
func TestBrowserDistrictFirstDay(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium not installed at /usr/bin/chromium: .ci/run installs it (apt-get install -y chromium fonts-noto-cjk)")
	}
	start := time.Now()
	h := newVaultHarness(t)
	dir := artefacts(t)
	if _, err := h.svc.CreateAccount(context.Background(), h.svc.Meta(service.Admin, ""), service.NewAccount{
		Username: "zhaoadmin", Password: "东城街道 管理 2026",
		Issue: access.Issue{Role: domain.RoleAdmin, Name: "赵管理（东城街道办事处党群服务中心网格化管理系统管理员）"}}); err != nil {
		t.Fatal(err)
	}

	admin := startTab(t, "admin", dir)
	admin.signInWithPassword(h.url, "zhaoadmin", "东城街道 管理 2026", ".admin-sections")

	admin.fill("register a street", h.url+"/admin/streets", "street-form",
		map[string]string{"f-id": "dongcheng", "f-name": "东城街道"}, nil, nil, ".flash")
	admin.fill("register 塔苑社区", h.url+"/admin/communities", "community-form",
		map[string]string{"f-id": "taoyuan", "f-name": "塔苑社区"}, map[string]string{"f-street": "dongcheng"}, nil, ".flash")
	admin.fill("register a lane", h.url+"/admin/lanes", "lane-form",
		map[string]string{"f-id": "rouqiao-houxiang", "f-name": "柔桥后巷", "f-station": "柔桥后巷驿站", "f-address": "柔桥后巷 12 号"},
		map[string]string{"f-community": "taoyuan", "f-street": "dongcheng"}, nil, ".flash")
	if got := admin.text(".admin-list"); !strings.Contains(got, "塔苑社区 · 东城街道") {
		t.Errorf("the lane list reads %q", got)
	}

	// A phone that is no number is refused beside the field, with what was typed kept.
	admin.fill("register a member with a bad phone", h.url+"/admin/members", "member-form",
		map[string]string{"f-id": "m-001", "f-name": "李明", "f-phone": "一三八", "f-teams": "红色方舟"},
		map[string]string{"f-community": "taoyuan"}, []string{`input[name=skills][value=repair]`}, ".field-error")
	if got := admin.text(".field.invalid"); !strings.Contains(got, "请填写手机号") {
		t.Errorf("the phone's fault reads %q", got)
	}
	for _, size := range sizes {
		admin.resize(size.width, size.height, size.mobile)
		admin.shot("admin-member-refused", size.name)
	}
	admin.resize(1280, 800, false)
	if v := evalIn[string](admin, `document.querySelector("#f-name").value + "|" + document.querySelector("#f-teams").value + "|" + document.querySelector("input[name=skills][value=repair]").checked`); v != "李明|红色方舟|true" {
		t.Errorf("what was typed is not kept: %q", v)
	}
	evalIn[bool](admin, `(document.querySelector("#f-phone").value = "", true)`)
	admin.do("correct the phone",
		chromedp.SendKeys(chromedp.CSS("#f-phone"), "138 0000 1111"),
		chromedp.Click(chromedp.CSS("#member-form-submit")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	if got := admin.text(".admin-list"); !strings.Contains(got, "13800001111") || !strings.Contains(got, "维修") {
		t.Errorf("the member list reads %q", got)
	}

	admin.fill("open the steward's account", h.url+"/admin/accounts", "account-form",
		map[string]string{"f-username": "wangfang", "f-name": "王芳", "f-password": "柔桥后巷 2026"},
		map[string]string{"f-role": "steward", "f-lanes": "rouqiao-houxiang"}, nil, ".flash")
	admin.fill("open the member's account", h.url+"/admin/accounts", "account-form",
		map[string]string{"f-username": "liming", "f-name": "李明", "f-password": "李明的密码 2026"},
		map[string]string{"f-role": "member", "f-member": "m-001"}, nil, ".flash")
	// The account form shows only what the picked role is bound by.
	admin.do("pick the community role", chromedp.Navigate(h.url+"/admin/accounts"), chromedp.WaitVisible(chromedp.CSS("#account-form")),
		chromedp.SetValue(chromedp.CSS("#f-role"), "community"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("f-role").dispatchEvent(new Event("change", {bubbles: true}))`))
	if shown := evalIn[[]string](admin, `Array.from(document.querySelectorAll("#account-form [data-for-role]")).filter(e => e.offsetParent !== null).map(e => e.dataset.forRole)`); len(shown) != 1 || shown[0] != "community" {
		t.Errorf("with the community role picked, the form shows the bindings %q", shown)
	}
	admin.fill("open the community office's account", h.url+"/admin/accounts", "account-form",
		map[string]string{"f-username": "tayuan", "f-name": "塔苑社区居委会", "f-password": "塔苑社区 2026"},
		map[string]string{"f-role": "community", "f-communities": "taoyuan"}, nil, ".flash")
	if got := admin.text(".admin-list"); !strings.Contains(got, "wangfang") || !strings.Contains(got, "liming") || !strings.Contains(got, "社区：塔苑社区") {
		t.Errorf("the account list reads %q", got)
	}

	// Every admin page, at both sizes, with the district at a real district's size; the
	// token's secret is shown once, after issuing.
	h.fillDistrict()
	h.settle()
	pages := []struct{ name, path, ready string }{
		{"admin-home", "/admin", ".admin-sections"},
		{"admin-streets", "/admin/streets", "#street-form"},
		{"admin-communities", "/admin/communities", "#community-form"},
		{"admin-lanes", "/admin/lanes", "#lane-form"},
		{"admin-members", "/admin/members", "#member-form"},
		{"admin-member-edit", "/admin/members/m-001", "#member-form"},
		{"admin-member-edit-long", "/admin/members/" + longMember, "#member-form"},
		{"admin-lanes-2", "/admin/lanes?page=2", "#lane-form"},
		{"admin-teams", "/admin/teams", ".admin-list"},
		{"admin-accounts", "/admin/accounts", "#account-form"},
		{"admin-tokens", "/admin/tokens", "#token-form"},
	}
	for _, size := range sizes {
		admin.resize(size.width, size.height, size.mobile)
		for _, p := range pages {
			admin.do(p.name, chromedp.Navigate(h.url+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
			admin.fits(p.name)
			if size.name == "phone" {
				if small := evalIn[[]string](admin, tapTargetsUnder44); len(small) > 0 {
					t.Errorf("%s at a phone: tap targets under 44 px: %q", p.name, small)
				}
			}
			admin.shot(p.name, size.name)
		}
		admin.fill("issue a terminal's token", h.url+"/admin/tokens", "token-form",
			map[string]string{"f-name": "柔桥后巷驿站终端 " + size.name}, map[string]string{"f-role": "operator"}, nil, "#token-secret")
		if secret := admin.text("#token-secret"); !strings.HasPrefix(secret, "rl_") {
			t.Errorf("the secret shown is %q", secret)
		}
		admin.shot("admin-token-issued", size.name)
	}

	// A resident places two requests at the intake page, on a phone: the stairwell light,
	// with the door to come to, and the night stall's noise.
	resident := startTab(t, "resident", dir)
	resident.resize(375, 812, true)
	submit := func(category, title, description string, door bool) (id, number string) {
		t.Helper()
		actions := []chromedp.Action[chromedp.Void]{chromedp.Navigate(h.url + "/intake"), chromedp.WaitVisible(chromedp.CSS("#intake")),
			chromedp.SetValue(chromedp.CSS(`#intake select[name=lane]`), "rouqiao-houxiang"),
			chromedp.SetValue(chromedp.CSS(`#intake select[name=category]`), category),
			chromedp.SendKeys(chromedp.CSS(`#intake [name=title]`), title),
			chromedp.SendKeys(chromedp.CSS(`#intake [name=description]`), description),
			chromedp.SendKeys(chromedp.CSS(`#intake [name=name]`), "张阿姨"),
			chromedp.SendKeys(chromedp.CSS(`#intake [name=phone]`), "138 1234 5678")}
		if door {
			actions = append(actions,
				chromedp.SendKeys(chromedp.CSS(`#intake [name=building]`), "3号楼"),
				chromedp.SendKeys(chromedp.CSS(`#intake [name=unit]`), "2单元"),
				chromedp.SendKeys(chromedp.CSS(`#intake [name=door]`), "201"))
		}
		actions = append(actions, chromedp.Click(chromedp.CSS("#submit-intake")), chromedp.WaitVisible(chromedp.CSS("#receipt-link")))
		resident.do("submit "+title, actions...)
		id = evalIn[string](resident, `location.pathname.split("/")[2]`)
		number = evalIn[string](resident, `(() => { const dt = Array.from(document.querySelectorAll(".facts dt")).find(e => e.innerText === "编号"); return dt ? dt.nextElementSibling.innerText.trim() : ""; })()`)
		if id == "" || number == "" {
			t.Fatalf("after submitting %s: id %q, number %q", title, id, number)
		}
		return id, number
	}
	light, lightNumber := submit("repair", "楼道灯不亮了", "三单元二楼的感应灯坏了，老人晚上下楼不方便", true)
	stall, _ := submit("city", "柔桥后巷流动摊点夜半扰民", "每晚十一点后摊点还在营业，噪音很大", false)
	h.settle()

	// The steward signs in with the password the admin gave and sees her lane, in 塔苑社区.
	steward := startTab(t, "steward", dir)
	lightItem := `li[data-order="` + light + `"]`
	steward.signInWithPassword(h.url, "wangfang", "柔桥后巷 2026", lightItem)
	if got := steward.text("main"); !strings.Contains(got, "柔桥后巷") || !strings.Contains(got, "塔苑社区") || strings.Contains(got, "taoyuan") {
		t.Errorf("the steward's board reads %q", got)
	}
	steward.shot("onboarded-board", "desktop")

	// She dispatches the light to 李明, whom the admin registered with the repair skill.
	steward.do("open the dispatch dialog",
		chromedp.Click(chromedp.CSS(lightItem+` a[data-action="dispatch"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#dialog #assign-form`)))
	if first := steward.text(`#dialog .candidates li:first-child .cand`); !strings.Contains(first, "李明") {
		t.Errorf("first proposal %q, want 李明", first)
	}
	steward.do("dispatch",
		chromedp.Click(chromedp.CSS(`#dialog .cand[data-member="m-001"] input`)),
		chromedp.Click(chromedp.CSS(`#submit-dispatch`)))
	steward.waitFor("the dispatched order", `document.querySelector('`+lightItem+`[data-status="dispatched"]') !== null`)

	// The community office signs in, on a phone, and keeps its board open.
	office := startTab(t, "office", dir)
	office.resize(375, 812, true)
	stallItem := `li[data-order="` + stall + `"]`
	office.signInWithPassword(h.url, "tayuan", "塔苑社区 2026", "#escalations")
	if got := office.text("#escalations"); !strings.Contains(got, "没有上报到本级的工单") {
		t.Errorf("the office's board before any escalation reads %q", got)
	}
	office.fits("the office's board")
	evalIn[chromedp.Void](office, `window.redlaneNoReload = true`) // a reload would lose this mark

	// She escalates the stall's noise, which no volunteer can stop, to the community.
	steward.do("escalate the night stall",
		chromedp.Navigate(h.url+"/board/orders/"+stall), chromedp.WaitReady(chromedp.CSS(`form[action$="/escalate"]`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('form[action$="/escalate"]').closest("details").open = true`),
		chromedp.SetValue(chromedp.CSS(`form[action$="/escalate"] select[name=level]`), "community"),
		chromedp.SendKeys(chromedp.CSS(`form[action$="/escalate"] input[name=reason]`), "夜间摊点需社区协调城管"),
		chromedp.Click(chromedp.CSS(`form[action$="/escalate"] button[type=submit]`)))
	steward.waitFor("the escalation", `location.search.includes("ok=escalate")`)

	// The member signs in on a phone.
	phone := startTab(t, "member", dir)
	phone.resize(375, 812, true)
	phone.signInWithPassword(h.url, "liming", "李明的密码 2026", "#tasks")
	if got := phone.text("header"); !strings.Contains(got, "李明") {
		t.Errorf("the member's page header reads %q", got)
	}
	if got := phone.text(".own-phone"); got != "13800001111" {
		t.Errorf("the member sees their phone on file as %q, want the one the admin gave", got)
	}
	phone.fits("the member's tasks")
	// The order is his: he sees the address and the resident's whole phone, to call.
	phone.do("see the dispatched order", chromedp.Navigate(h.url+"/tasks"), chromedp.WaitVisible(chromedp.CSS(lightItem+` button[data-action="accept"]`)))
	if got := phone.text(lightItem); !strings.Contains(got, "3号楼") || !strings.Contains(got, "201") || !strings.Contains(got, "13812345678") || !strings.Contains(got, "张阿姨") {
		t.Errorf("the member's task reads %q: want the address and the whole phone", got)
	}
	if tel := evalIn[string](phone, `(document.querySelector('`+lightItem+` a[href^="tel:"]') || {}).href || ""`); !strings.Contains(tel, "13812345678") {
		t.Errorf("no tel: link to the resident, got %q", tel)
	}
	phone.shot("onboarded-tasks", "phone")
	phone.do("accept", chromedp.Click(chromedp.CSS(lightItem+` button[data-action="accept"]`)))
	phone.waitFor("the accepted order", `document.querySelector('`+lightItem+`[data-status="accepted"]') !== null`)
	phone.do("complete",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('`+lightItem+` form[action$="/complete"]').closest("details").open = true`),
		chromedp.SendKeys(chromedp.CSS(lightItem+` form[action$="/complete"] textarea[name=note]`), "已更换感应灯"),
		chromedp.SendKeys(chromedp.CSS(lightItem+` form[action$="/complete"] input[name=minutes]`), "40"),
		chromedp.Click(chromedp.CSS(lightItem+` button[data-action="complete"]`)))
	phone.waitFor("the completed order", `location.search.includes("ok=complete")`)
	if got := evalIn[string](phone, `document.body.innerText`); strings.Contains(got, "13812345678") {
		t.Error("after completing, the member's page still shows the resident's whole phone")
	}
	phone.shot("member-completed", "phone")
	h.settle()

	// The resident has lost the link: she finds the order again by its number and her
	// phone, in a browser that knows nothing of her, and rates it.
	finder := startTab(t, "finder", dir)
	finder.resize(375, 812, true)
	finder.do("find the receipt",
		chromedp.Navigate(h.url+"/receipt"), chromedp.WaitVisible(chromedp.CSS("#find-number")),
		chromedp.SendKeys(chromedp.CSS("#find-number"), lightNumber),
		chromedp.SendKeys(chromedp.CSS("#find-phone"), "13812345678"),
		chromedp.Click(chromedp.CSS("#find")),
		chromedp.WaitVisible(chromedp.CSS("#rate")))
	finder.shot("receipt-found", "phone")
	finder.do("rate",
		chromedp.Click(chromedp.CSS(`#rate input[name=solved][value=yes]`)),
		chromedp.Click(chromedp.CSS(`#rate input[name=stars][value="5"]`)),
		chromedp.Click(chromedp.CSS(`#rate button[type=submit]`)))
	finder.waitFor("the rating", `document.body.innerText.includes("您的评价") && document.body.innerText.includes("5 星")`)
	finder.shot("receipt-rated", "phone")

	// The community office's board showed the stall when it came, with no reload.
	office.waitFor("the escalated order on the office's board", `document.querySelector('`+stallItem+`') !== null && window.redlaneNoReload === true`)
	if got := office.text(stallItem); !strings.Contains(got, "柔桥后巷流动摊点夜半扰民") || !strings.Contains(got, "塔苑社区") || !strings.Contains(got, "夜间摊点需社区协调城管") {
		t.Errorf("the office's board reads %q", got)
	}
	office.shot("office-board", "phone")
	t.Logf("the first day took %s", time.Since(start).Round(time.Millisecond))
}

// longMember is one of fillDistrict's members: an id carried over from an older system.
// Each of them is of a grid community of its own, so none competes with taoyuan's.
const longMember = "m-legacy-import-2019-taoyuan-grid-03-volunteer-0001"

// fillDistrict registers what a district holds besides what a test types in: thirty
// communities of one street, thirty lanes and thirty members with long names, long ids
// and long addresses, a steward bound to every lane and a kiosk with long names. The
// street dongcheng and the community taoyuan must be registered first.
func (h *harness) fillDistrict() {
	h.t.Helper()
	ctx := context.Background()
	m := h.svc.Meta(service.Admin, "")
	fail := func(err error) {
		if err != nil {
			h.t.Fatal(err)
		}
	}
	lanes := []string{}
	for i := 1; i <= 30; i++ {
		grid := fmt.Sprintf("dongcheng-grid-%02d-xingfuli-new-era-civilisation-practice", i)
		_, err := h.svc.RegisterCommunity(ctx, m, grid,
			community.Register{Name: fmt.Sprintf("东城街道第%02d网格幸福里新时代文明实践社区居民委员会", i), Street: "dongcheng"})
		fail(err)
		id := fmt.Sprintf("taoyuan-rouqiao-houxiang-old-town-historic-quarter-station-%02d", i)
		_, err = h.svc.RegisterLane(ctx, m, id, lane.Register{Name: fmt.Sprintf("柔桥后巷老城区历史文化街区第%02d党群服务驿站", i),
			Community: "taoyuan", Street: "dongcheng", Station: fmt.Sprintf("柔桥后巷老城区历史文化街区第%02d红色驿站", i),
			Address: fmt.Sprintf("浙江省台州市椒江区海门街道柔桥后巷老城区历史文化街区%02d号院东侧二楼党群服务中心接待室", i)})
		fail(err)
		lanes = append(lanes, id)
		_, err = h.svc.RegisterMember(ctx, m, fmt.Sprintf("m-legacy-import-2019-taoyuan-grid-03-volunteer-%04d", i), member.Register{
			Name: fmt.Sprintf("阿卜杜热合曼·买买提明·艾则孜%02d", i), Community: grid, Phone: fmt.Sprintf("+86 138 0000 %04d", i),
			Skills: []string{"repair", "electrical", "medical", "legal", "counselling"},
			Teams:  []string{"红色方舟志愿服务先锋队第一分队", "护航者夕阳红关爱独居老人志愿服务队", "红心特快"}})
		fail(err)
	}
	_, err := h.svc.CreateAccount(ctx, m, service.NewAccount{Username: "ouyang-taoyuan-all-lanes-steward", Password: "柔桥后巷 2026",
		Issue: access.Issue{Role: domain.RoleSteward, Lanes: lanes, Name: "欧阳娜娜（塔苑社区柔桥后巷老城区全体党群服务驿站总站长）"}})
	fail(err)
	_, _, err = h.svc.IssueToken(ctx, m, access.Issue{Role: domain.RoleOperator, Name: "柔桥后巷老城区历史文化街区第01党群服务驿站自助服务终端"})
	fail(err)
}
