package web_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
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
	for _, sel := range checked {
		actions = append(actions, chromedp.Click(chromedp.CSS(sel)))
	}
	actions = append(actions, chromedp.Click(chromedp.CSS("#"+formID+"-submit")), chromedp.WaitVisible(chromedp.CSS(after)))
	b.do(what, actions...)
}

// TestBrowserOnboarding drives the admin's pages in Debian's Chromium: the admin signs
// in with a password and onboards a district (a street, 塔苑社区, a lane, a member with
// a phone, a steward's and a member's account, a terminal's token); the steward signs
// in with the password given and sees the lane in 塔苑社区; the member signs in on a
// 375-pixel phone. Every admin page is captured at a desktop and a phone size.
func TestBrowserOnboarding(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium not installed at /usr/bin/chromium: .ci/run installs it (apt-get install -y chromium fonts-noto-cjk)")
	}
	start := time.Now()
	h := newVaultHarness(t)
	dir := artefacts(t)
	if _, err := h.svc.CreateAccount(context.Background(), h.svc.Meta(service.Admin, ""), service.NewAccount{
		Username: "zhaoadmin", Password: "东城街道 管理 2026",
		Issue: access.Issue{Role: domain.RoleAdmin, Name: "赵管理"}}); err != nil {
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
	if got := admin.text(".admin-list"); !strings.Contains(got, "wangfang") || !strings.Contains(got, "liming") {
		t.Errorf("the account list reads %q", got)
	}

	// Every admin page, at both sizes; the token's secret is shown once, after issuing.
	pages := []struct{ name, path, ready string }{
		{"admin-home", "/admin", ".admin-sections"},
		{"admin-streets", "/admin/streets", "#street-form"},
		{"admin-communities", "/admin/communities", "#community-form"},
		{"admin-lanes", "/admin/lanes", "#lane-form"},
		{"admin-members", "/admin/members", "#member-form"},
		{"admin-member-edit", "/admin/members/m-001", "#member-form"},
		{"admin-teams", "/admin/teams", ".admin-list"},
		{"admin-accounts", "/admin/accounts", "#account-form"},
		{"admin-tokens", "/admin/tokens", "#token-form"},
	}
	for _, size := range sizes {
		admin.resize(size.width, size.height, size.mobile)
		for _, p := range pages {
			admin.do(p.name, chromedp.Navigate(h.url+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
			if size.name == "phone" {
				if wide := evalIn[bool](admin, `document.documentElement.scrollWidth > window.innerWidth + 1`); wide {
					t.Errorf("%s is %d px wide at a 375 px phone: it scrolls sideways", p.name, evalIn[int](admin, `document.documentElement.scrollWidth`))
				}
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

	// The steward signs in with the password the admin gave and sees her lane, in 塔苑社区.
	steward := startTab(t, "steward", dir)
	steward.signInWithPassword(h.url, "wangfang", "柔桥后巷 2026", ".lane-head")
	if got := steward.text("main"); !strings.Contains(got, "柔桥后巷") || !strings.Contains(got, "塔苑社区") || strings.Contains(got, "taoyuan") {
		t.Errorf("the steward's board reads %q", got)
	}
	steward.shot("onboarded-board", "desktop")

	// The member signs in on a phone.
	phone := startTab(t, "member", dir)
	phone.resize(375, 812, true)
	phone.signInWithPassword(h.url, "liming", "李明的密码 2026", "#tasks")
	if got := phone.text("header"); !strings.Contains(got, "李明") {
		t.Errorf("the member's page header reads %q", got)
	}
	if wide := evalIn[bool](phone, `document.documentElement.scrollWidth > window.innerWidth + 1`); wide {
		t.Error("the member's tasks scroll sideways at a 375 px phone")
	}
	phone.shot("onboarded-tasks", "phone")
	t.Logf("the onboarding took %s", time.Since(start).Round(time.Millisecond))
}
