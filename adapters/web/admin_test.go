package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/redlane/redlane/adapters/httpapi"
	"github.com/redlane/redlane/adapters/web"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/member"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/domain/street"
	"github.com/redlane/redlane/internal/testworld"
	"github.com/redlane/redlane/service"
)

// newVaultHarness is newHarness with the privacy vault on NATS, as serve runs: members'
// phones are sealed in the log.
func newVaultHarness(tb testing.TB) *harness {
	tb.Helper()
	w := testworld.Start(tb, testworld.Options{Views: true, Vault: true})
	api := httpapi.New(httpapi.Config{Service: w.Svc, Views: w.Views, Index: w.Index, Sessions: w.Sessions})
	pages := web.New(web.Config{Service: w.Svc, Views: w.Views, Index: w.Index, Sessions: w.Sessions})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			api.ServeHTTP(rw, r)
			return
		}
		pages.ServeHTTP(rw, r)
	}))
	tb.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return &harness{t: tb, url: srv.URL, srv: srv, world: w, store: w.Store, svc: w.Svc, views: w.Views, index: w.Index}
}

// admin signs a browser in as the admin and returns it with its CSRF token.
func (h *harness) admin() (*browser, string) {
	h.t.Helper()
	b := h.browser()
	return b, b.signIn(adminToken)
}

// form is url.Values from pairs, with the CSRF token.
func form(csrf string, kv ...string) url.Values {
	v := url.Values{"csrf": {csrf}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// fieldError is the fault a page shows beside the field with element id, "" for none.
func fieldError(body, id string) string {
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		return ""
	}
	rest := body[i:]
	if end := strings.Index(rest, "</label>"); end >= 0 {
		rest = rest[:end]
	}
	return between(rest, `<span class="field-error" role="alert">`, "</span>")
}

// refusedWith checks that a form's answer is a refusal with the Chinese fault beside
// each field, and that what was typed is kept.
func refusedWith(t *testing.T, p page, status int, faults map[string]string, kept ...string) {
	t.Helper()
	must(t, p, status, kept...)
	for id, want := range faults {
		if got := fieldError(p.body, id); !strings.Contains(got, want) {
			t.Errorf("beside %s: %q, want %q", id, got, want)
		}
	}
}

func TestAdminPagesAreTheAdminsOnly(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	pages := []string{"/admin", "/admin/streets", "/admin/communities", "/admin/lanes", "/admin/members", "/admin/members/m-001",
		"/admin/teams", "/admin/accounts", "/admin/tokens"}

	t.Run("signed out, each page leads to the sign-in", func(t *testing.T) {
		b := h.browser()
		for _, path := range pages {
			p := b.get(path)
			if p.status != http.StatusSeeOther || p.location() != "/?next="+url.QueryEscape(path) {
				t.Errorf("%s: status %d to %q", path, p.status, p.location())
			}
		}
	})
	t.Run("the admin lands on the admin home, and no longer is told to use the API", func(t *testing.T) {
		b := h.browser()
		p := b.post("/signin", url.Values{"token": {adminToken}})
		if p.status != http.StatusSeeOther || p.location() != "/admin" {
			t.Fatalf("status %d to %q, want 303 to /admin", p.status, p.location())
		}
		home := must(t, b.get("/admin"), http.StatusOK, "街道", "社区", "街巷", "党员", "服务队", "账号", "令牌")
		if strings.Contains(home.body, "/api/v1") {
			t.Error("the admin home still points to the API")
		}
		for _, path := range pages {
			must(t, b.get(path), http.StatusOK)
		}
	})
	for name, token := range map[string]string{"steward": w.steward, "member": w.member, "auditor": w.auditor, "operator": w.operator} {
		t.Run(name+" is refused every page and every form", func(t *testing.T) {
			b := h.browser()
			csrf := b.signIn(token)
			for _, path := range pages {
				must(t, b.get(path), http.StatusForbidden, "无权访问")
			}
			before := h.count()
			for path, f := range map[string]url.Values{
				"/admin/streets":                   form(csrf, "id", "s-x", "name", "某街道"),
				"/admin/members":                   form(csrf, "id", "m-x", "name", "某人", "community", "taoyuan"),
				"/admin/members/m-001":             form(csrf, "name", "改名", "community", "taoyuan"),
				"/admin/accounts":                  form(csrf, "username", "someone", "name", "某人", "password", "long enough 1", "role", "admin"),
				"/admin/tokens":                    form(csrf, "name", "x", "role", "admin"),
				"/admin/tokens/x/revoke":           form(csrf),
				"/admin/accounts/x/revoke":         form(csrf),
				"/admin/accounts/x/password":       form(csrf, "password", "long enough 1"),
				"/admin/members/m-001/erase-phone": form(csrf),
			} {
				must(t, b.post(path, f), http.StatusForbidden)
			}
			if h.count() != before {
				t.Error("a refused form wrote events")
			}
		})
	}
	t.Run("a form without the CSRF token is refused and writes nothing", func(t *testing.T) {
		b, _ := h.admin()
		before := h.count()
		must(t, b.post("/admin/streets", url.Values{"id": {"s-csrf"}, "name": {"某街道"}}), http.StatusForbidden, "CSRF")
		must(t, b.post("/admin/streets", form("0123456789abcdef0123456789abcdef", "id", "s-csrf", "name", "某街道")), http.StatusForbidden)
		if h.count() != before {
			t.Error("a form without its CSRF token wrote events")
		}
	})
}

func TestAdminPlacesForms(t *testing.T) {
	h := newHarness(t)
	b, csrf := h.admin()

	t.Run("streets", func(t *testing.T) {
		before := h.count()
		refusedWith(t, b.post("/admin/streets", form(csrf, "id", "东城", "name", "东城街道")), http.StatusBadRequest,
			map[string]string{"f-id": "须为 1 到 64 位英文字母"}, `value="东城"`, `value="东城街道"`)
		refusedWith(t, b.post("/admin/streets", form(csrf, "id", "dongcheng", "name", " ")), http.StatusBadRequest,
			map[string]string{"f-name": "必填"}, `value="dongcheng"`)
		refusedWith(t, b.post("/admin/streets", form(csrf, "id", "dongcheng", "name", strings.Repeat("街", 51))), http.StatusBadRequest,
			map[string]string{"f-name": "太长了"}, `value="dongcheng"`)
		if h.count() != before {
			t.Fatal("a refused street was written")
		}
		p := b.post("/admin/streets", form(csrf, "id", "dongcheng", "name", " 东城街道 "))
		if p.status != http.StatusSeeOther || p.location() != "/admin/streets?ok=street" {
			t.Fatalf("status %d to %q: %.500s", p.status, p.location(), p.body)
		}
		if st, ok := h.svc.Dir.Street("dongcheng"); !ok || st.Name != "东城街道" {
			t.Fatalf("the street is %+v", st)
		}
		must(t, b.get(p.location()), http.StatusOK, "街道已登记", "东城街道")
		refusedWith(t, b.post("/admin/streets", form(csrf, "id", "dongcheng", "name", "又一个")), http.StatusConflict,
			map[string]string{"f-id": "已存在"}, `value="又一个"`)
	})

	t.Run("communities", func(t *testing.T) {
		page := must(t, b.get("/admin/communities"), http.StatusOK, `<option value="dongcheng">东城街道</option>`)
		_ = page
		before := h.count()
		refusedWith(t, b.post("/admin/communities", form(csrf, "id", "taoyuan", "name", "塔苑社区", "street", "")), http.StatusBadRequest,
			map[string]string{"f-street": "须为 1 到 64 位"}, `value="塔苑社区"`)
		refusedWith(t, b.post("/admin/communities", form(csrf, "id", "taoyuan", "name", "塔苑社区", "street", "nowhere")), http.StatusBadRequest,
			map[string]string{"f-street": "没有这个街道"})
		if h.count() != before {
			t.Fatal("a refused community was written")
		}
		p := b.post("/admin/communities", form(csrf, "id", "taoyuan", "name", "塔苑社区", "street", "dongcheng"))
		if p.status != http.StatusSeeOther {
			t.Fatalf("status %d: %.500s", p.status, p.body)
		}
		if c, ok := h.svc.Dir.Community("taoyuan"); !ok || c.Name != "塔苑社区" || c.Street != "dongcheng" {
			t.Fatalf("the community is %+v", c)
		}
		must(t, b.get("/admin/communities"), http.StatusOK, "塔苑社区", "东城街道")
	})

	t.Run("lanes", func(t *testing.T) {
		if _, err := h.svc.RegisterStreet(context.Background(), h.svc.Meta(service.Admin, ""), "xicheng", street.Register{Name: "西城街道"}); err != nil {
			t.Fatal(err)
		}
		must(t, b.get("/admin/lanes"), http.StatusOK, `<option value="taoyuan">塔苑社区（东城街道）</option>`)
		before := h.count()
		refusedWith(t, b.post("/admin/lanes", form(csrf, "id", "rouqiao", "name", "柔桥后巷", "community", "taoyuan", "street", "xicheng", "address", "柔桥后巷 12 号")),
			http.StatusBadRequest, map[string]string{"f-street": "须与所属社区的街道一致"}, `value="柔桥后巷 12 号"`, `<option value="taoyuan" selected>`)
		refusedWith(t, b.post("/admin/lanes", form(csrf, "id", "rouqiao", "name", "", "community", "taoyuan", "street", "dongcheng")),
			http.StatusBadRequest, map[string]string{"f-name": "必填"})
		if h.count() != before {
			t.Fatal("a refused lane was written")
		}
		p := b.post("/admin/lanes", form(csrf, "id", "rouqiao", "name", "柔桥后巷", "community", "taoyuan", "street", "dongcheng",
			"station", "柔桥后巷驿站", "address", "柔桥后巷 12 号"))
		if p.status != http.StatusSeeOther {
			t.Fatalf("status %d: %.500s", p.status, p.body)
		}
		l, ok := h.svc.Dir.Lane("rouqiao")
		if !ok || l.Name != "柔桥后巷" || l.Community != "taoyuan" || l.Street != "dongcheng" || l.Address != "柔桥后巷 12 号" || l.Station != "柔桥后巷驿站" {
			t.Fatalf("the lane is %+v", l)
		}
		must(t, b.get("/admin/lanes"), http.StatusOK, "柔桥后巷", "塔苑社区 · 东城街道", "柔桥后巷 12 号")
	})

	t.Run("lists page", func(t *testing.T) {
		for i := range 25 {
			if _, err := h.svc.RegisterStreet(context.Background(), h.svc.Meta(service.Admin, ""), fmt.Sprintf("s-%02d", i), street.Register{Name: fmt.Sprintf("第%d街道", i)}); err != nil {
				t.Fatal(err)
			}
		}
		first := must(t, b.get("/admin/streets"), http.StatusOK, "共 27 条", `rel="next"`)
		if n := strings.Count(first.body, `<li class="item" data-id=`); n != 20 {
			t.Errorf("the first page lists %d streets, want 20", n)
		}
		second := must(t, b.get("/admin/streets?page=2"), http.StatusOK, "第 21–27 条", `rel="prev"`)
		if n := strings.Count(second.body, `<li class="item" data-id=`); n != 7 {
			t.Errorf("the second page lists %d streets, want 7", n)
		}
	})
}

func TestAdminMembersForm(t *testing.T) {
	h := newVaultHarness(t)
	h.registerPlaces()
	w := h.seed()
	b, csrf := h.admin()
	ctx := context.Background()

	page := must(t, b.get("/admin/members"), http.StatusOK, `name="skills" value="medical"`, "医疗", `name="phone"`, "红色方舟", "13800001111")
	if !strings.Contains(page.body, `<option value="taoyuan">塔苑社区（东城街道）</option>`) {
		t.Error("the community picker does not name the communities")
	}

	before := h.count()
	bad := form(csrf, "id", "m-010", "name", "赵敏", "community", "taoyuan", "phone", "打电话", "skills", "repair", "skills", "legal", "teams", "红色方舟、护航者")
	p := b.post("/admin/members", bad)
	refusedWith(t, p, http.StatusBadRequest, map[string]string{"f-phone": "请填写手机号"}, `value="打电话"`, `value="红色方舟、护航者"`, `value="赵敏"`,
		`name="skills" value="repair" checked`, `name="skills" value="legal" checked`)
	refusedWith(t, b.post("/admin/members", form(csrf, "id", "m-010", "name", "", "community", "", "phone", "13800001111")), http.StatusBadRequest,
		map[string]string{"f-name": "必填", "f-community": "须为 1 到 64 位"}, `value="13800001111"`)
	refusedWith(t, b.post("/admin/members", form(csrf, "id", "m-001", "name", "重名", "community", "taoyuan")), http.StatusConflict,
		map[string]string{"f-id": "已存在"})
	if h.count() != before {
		t.Fatal("a refused member was written")
	}

	good := form(csrf, "id", "m-010", "name", "赵敏", "community", "taoyuan", "phone", "+86 138 0000 5566", "skills", "repair", "skills", "legal", "teams", "红色方舟、护航者")
	if p := b.post("/admin/members", good); p.status != http.StatusSeeOther || p.location() != "/admin/members?ok=member" {
		t.Fatalf("status %d to %q: %.800s", p.status, p.location(), p.body)
	}
	m, ok := h.svc.Dir.Member("m-010")
	if !ok || m.Name != "赵敏" || !slices.Equal(m.Skills, []string{"repair", "legal"}) || !slices.Equal(m.Teams, []string{"红色方舟", "护航者"}) {
		t.Fatalf("the member is %+v", m)
	}
	if m.Phone != "" || m.PhoneSealed == nil {
		t.Errorf("the phone is not sealed: %+v", m.Profile)
	}
	// Seen through the API, as the admin, a steward of the community and nobody else.
	phoneVia := func(token string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", h.url+"/api/v1/members", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var list struct{ Items []struct{ ID, Phone string } }
		decodeJSON(t, resp, &list)
		for _, it := range list.Items {
			if it.ID == "m-010" {
				return it.Phone
			}
		}
		t.Fatal("m-010 is not listed")
		return ""
	}
	if got := phoneVia(adminToken); got != "13800005566" {
		t.Errorf("the admin sees %q", got)
	}
	if got := phoneVia(w.steward); got != "13800005566" {
		t.Errorf("the community's steward sees %q", got)
	}
	if got := phoneVia(w.otherSteward); got != "" {
		t.Errorf("another lane's steward sees %q", got)
	}
	list := must(t, b.get("/admin/members?ok=member"), http.StatusOK, "党员已登记", "赵敏", "13800005566", "维修、法律", "红色方舟、护航者")
	_ = list

	t.Run("a change goes through the same form, kept on a refusal", func(t *testing.T) {
		edit := must(t, b.get("/admin/members/m-010"), http.StatusOK, `value="13800005566"`, `value="红色方舟、护航者"`, `name="skills" value="repair" checked`, "readonly")
		_ = edit
		before := h.count()
		refusedWith(t, b.post("/admin/members/m-010", form(csrf, "name", "赵敏", "community", "taoyuan", "phone", "123")), http.StatusBadRequest,
			map[string]string{"f-phone": "请填写手机号"}, `value="123"`)
		if h.count() != before {
			t.Fatal("a refused change was written")
		}
		p := b.post("/admin/members/m-010", form(csrf, "name", "赵敏", "community", "taoyuan", "phone", "139-0000-7788", "skills", "medical", "teams", "红心特快"))
		if p.status != http.StatusSeeOther {
			t.Fatalf("status %d: %.800s", p.status, p.body)
		}
		m, _ := h.svc.Dir.Member("m-010")
		phone, _, err := h.svc.MemberPhone(ctx, service.Admin, m)
		if err != nil || phone != "13900007788" || !slices.Equal(m.Skills, []string{"medical"}) || !slices.Equal(m.Teams, []string{"红心特快"}) {
			t.Fatalf("after the change: %+v, phone %q, %v", m.Profile, phone, err)
		}
		must(t, b.get("/admin/members/nobody"), http.StatusNotFound)

		must(t, b.get("/admin/members/m-010"), http.StatusOK, "销毁手机号")
		if p := b.post("/admin/members/m-010/erase-phone", form(csrf)); p.status != http.StatusSeeOther || p.location() != "/admin/members?ok=erased" {
			t.Fatalf("erase: status %d to %q: %.500s", p.status, p.location(), p.body)
		}
		m, _ = h.svc.Dir.Member("m-010")
		if phone, _, err := h.svc.MemberPhone(ctx, service.Admin, m); err != nil || phone != "" {
			t.Errorf("after erasure the phone reads %q, %v", phone, err)
		}
	})

	t.Run("teams list their members", func(t *testing.T) {
		p := must(t, b.get("/admin/teams"), http.StatusOK, "红心特快", "赵敏", "红色方舟", "李明", "姐妹帮帮团", "陈静")
		if !strings.Contains(p.body, "/admin/members?team=") {
			t.Error("a team does not lead to its members")
		}
		must(t, b.get("/admin/members?team="+url.QueryEscape("红心特快")), http.StatusOK, "红心特快的党员", "赵敏")
	})
}

// TestStewardSeesMembersPhones: the steward's order page shows the phone of the member
// it is dispatched to, and the dispatch dialog the candidates' of the steward's
// community; the receipt a resident sees shows neither.
func TestStewardSeesMembersPhones(t *testing.T) {
	h := newVaultHarness(t)
	h.registerPlaces()
	w := h.seed()
	ctx := context.Background()
	admin := h.svc.Meta(service.Admin, "")
	if _, err := h.svc.UpdateMember(ctx, admin, "m-001", member.Update{Name: "李明", Community: "taoyuan", Phone: "13800001111",
		Skills: []string{"repair", "electrical"}, Teams: []string{"红色方舟"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.UpdateMember(ctx, admin, "m-009", member.Update{Name: "王律师", Community: "yingchun", Phone: "13800009999", Skills: []string{"legal"}}); err != nil {
		t.Fatal(err)
	}
	id, receipt := h.submit("楼道灯不亮了", "repair")
	h.settle()
	steward := h.browser()
	steward.signIn(w.steward)
	dialog := must(t, steward.get("/board/orders/"+id), http.StatusOK, "手机 13800001111")
	if strings.Contains(dialog.body, "13800009999") {
		t.Error("the steward sees the phone of a member of another community")
	}
	h.act(w.steward, id, order.Dispatch{Member: order.MemberRef{ID: "m-001"}})
	must(t, steward.get("/board/orders/"+id), http.StatusOK, `id="assignee-phone" href="tel:13800001111"`)
	pub := must(t, h.browser().get("/receipt/"+id+"?r="+receipt), http.StatusOK)
	if strings.Contains(pub.body, "13800001111") {
		t.Error("the receipt shows the member's phone")
	}
}

func TestAdminAccountsAndTokens(t *testing.T) {
	h := newHarness(t)
	h.registerPlaces()
	h.seed()
	b, csrf := h.admin()

	must(t, b.get("/admin/accounts"), http.StatusOK, `<option value="steward" selected>驿站管家</option>`, "柔桥后巷（塔苑社区）", "李明（塔苑社区）m-001")

	t.Run("accounts", func(t *testing.T) {
		before := h.count()
		refusedWith(t, b.post("/admin/accounts", form(csrf, "username", "wangfang", "name", "王芳", "password", "short", "role", "steward")),
			http.StatusBadRequest, map[string]string{"f-password": "至少 8 个字符"}, `value="wangfang"`, `value="王芳"`)
		refusedWith(t, b.post("/admin/accounts", form(csrf, "username", "wangfang", "name", "王芳", "password", "柔桥后巷 2026", "role", "steward")),
			http.StatusBadRequest, map[string]string{"f-lanes": "至少要负责一条街巷"})
		refusedWith(t, b.post("/admin/accounts", form(csrf, "username", "liming", "name", "李明", "password", "李明的密码 2026", "role", "member")),
			http.StatusBadRequest, map[string]string{"f-member": "须选择对应的党员"})
		refusedWith(t, b.post("/admin/accounts", form(csrf, "username", "Wang Fang", "name", "王芳", "password", "柔桥后巷 2026", "role", "steward", "lanes", "rouqiao-houxiang")),
			http.StatusBadRequest, map[string]string{"f-username": "须为 3 到 32 位小写字母"}, `value="Wang Fang"`, `<option value="rouqiao-houxiang" selected>`)
		if strings.Contains(b.post("/admin/accounts", form(csrf, "username", "x", "password", "柔桥后巷 2026")).body, "柔桥后巷 2026") {
			t.Error("a refused form echoes the password")
		}
		if h.count() != before {
			t.Fatal("a refused account was written")
		}
		p := b.post("/admin/accounts", form(csrf, "username", "wangfang", "name", "王芳", "password", "柔桥后巷 2026", "role", "steward", "lanes", "rouqiao-houxiang"))
		if p.status != http.StatusSeeOther {
			t.Fatalf("status %d: %.800s", p.status, p.body)
		}
		if p := b.post("/admin/accounts", form(csrf, "username", "liming", "name", "李明", "password", "李明的密码 2026", "role", "member", "member", "m-001")); p.status != http.StatusSeeOther {
			t.Fatalf("status %d: %.800s", p.status, p.body)
		}
		refusedWith(t, b.post("/admin/accounts", form(csrf, "username", "wangfang", "name", "王芳", "password", "柔桥后巷 2026", "role", "auditor")),
			http.StatusConflict, map[string]string{"f-username": "已被使用"})
		// The offices: a community account is bound to communities, a street account to
		// streets, each picked by its Chinese name.
		refusedWith(t, b.post("/admin/accounts", form(csrf, "username", "tayuan", "name", "塔苑社区", "password", "塔苑社区 2026", "role", "community")),
			http.StatusBadRequest, map[string]string{"f-communities": "社区账号至少要负责一个社区"})
		refusedWith(t, b.post("/admin/accounts", form(csrf, "username", "tayuan", "name", "塔苑社区", "password", "塔苑社区 2026", "role", "community", "communities", "taoyuan", "streets", "dongcheng")),
			http.StatusBadRequest, map[string]string{"f-streets": "只有街道账号负责街道"}, `<option value="taoyuan" selected>`)
		if p := b.post("/admin/accounts", form(csrf, "username", "tayuan", "name", "塔苑社区", "password", "塔苑社区 2026", "role", "community", "communities", "taoyuan")); p.status != http.StatusSeeOther {
			t.Fatalf("status %d: %.800s", p.status, p.body)
		}
		if p := b.post("/admin/accounts", form(csrf, "username", "dongcheng", "name", "东城街道", "password", "东城街道 2026", "role", "street", "streets", "dongcheng")); p.status != http.StatusSeeOther {
			t.Fatalf("status %d: %.800s", p.status, p.body)
		}
		office := h.browser()
		if p := office.post("/signin", url.Values{"username": {"tayuan"}, "password": {"塔苑社区 2026"}}); p.location() != "/escalations" {
			t.Errorf("the community account lands on %q, want /escalations", p.location())
		}
		must(t, b.get("/admin/accounts"), http.StatusOK, "王芳", "wangfang", "驿站管家", "柔桥后巷", "李明（m-001）", "社区：塔苑社区", "街道：东城街道")

		steward := h.browser()
		if p := steward.post("/signin", url.Values{"username": {"wangfang"}, "password": {"柔桥后巷 2026"}}); p.location() != "/board" {
			t.Fatalf("the new steward signs in to %q (%d)", p.location(), p.status)
		}

		refusedWith(t, b.post("/admin/accounts/wangfang/password", form(csrf, "password", "short")), http.StatusBadRequest,
			map[string]string{"password-wangfang": "至少 8 个字符"})
		if p := b.post("/admin/accounts/wangfang/password", form(csrf, "password", "新的密码 2027")); p.status != http.StatusSeeOther {
			t.Fatalf("status %d: %.800s", p.status, p.body)
		}
		if p := h.browser().post("/signin", url.Values{"username": {"wangfang"}, "password": {"新的密码 2027"}}); p.location() != "/board" {
			t.Fatalf("the new password signs in to %q (%d)", p.location(), p.status)
		}
		must(t, b.post("/admin/accounts/nobody/revoke", form(csrf)), http.StatusNotFound)
		if p := b.post("/admin/accounts/wangfang/revoke", form(csrf)); p.status != http.StatusSeeOther {
			t.Fatalf("status %d: %.800s", p.status, p.body)
		}
		if p := steward.get("/board"); p.status != http.StatusSeeOther {
			t.Errorf("the revoked steward's session still opens the board: %d", p.status)
		}
		must(t, b.get("/admin/accounts"), http.StatusOK, "已停用")
	})

	t.Run("tokens", func(t *testing.T) {
		before := h.count()
		refusedWith(t, b.post("/admin/tokens", form(csrf, "name", "柔桥后巷终端", "role", "operator", "lanes", "rouqiao-houxiang")),
			http.StatusBadRequest, map[string]string{"f-lanes": "只有驿站管家负责街巷"}, `value="柔桥后巷终端"`)
		refusedWith(t, b.post("/admin/tokens", form(csrf, "name", "x", "role", "")), http.StatusBadRequest, map[string]string{"f-role": "请选择角色"})
		if h.count() != before {
			t.Fatal("a refused token was written")
		}
		p := must(t, b.post("/admin/tokens", form(csrf, "name", "96345 热线", "role", "operator")), http.StatusCreated, "只显示这一次", "96345 热线")
		secret := between(p.body, `<code class="code" id="token-secret">`, "</code>")
		a, err := h.svc.Authenticate(secret)
		if err != nil || a.Role != domain.RoleOperator || a.Name != "96345 热线" {
			t.Fatalf("the secret shown authenticates as %+v, %v", a, err)
		}
		list := must(t, b.get("/admin/tokens"), http.StatusOK, "96345 热线", "接线员")
		if strings.Contains(list.body, secret) {
			t.Error("the token's secret is shown again")
		}
		if p := b.post("/admin/tokens/"+a.ID+"/revoke", form(csrf)); p.status != http.StatusSeeOther {
			t.Fatalf("status %d: %.800s", p.status, p.body)
		}
		if _, err := h.svc.Authenticate(secret); err == nil {
			t.Error("a revoked token still works")
		}
		// The form carries the token's id: sent again (a reload after issuing), it
		// makes no second token, and says the secret was shown once.
		key := between(must(t, b.get("/admin/tokens"), http.StatusOK).body, `name="key" value="`, `"`)
		if key == "" {
			t.Fatal("the token form carries no key")
		}
		must(t, b.post("/admin/tokens", form(csrf, "key", key, "name", "柔桥后巷驿站终端", "role", "operator")), http.StatusCreated, "只显示这一次")
		tokens := len(h.svc.Dir.Tokens())
		again := b.post("/admin/tokens", form(csrf, "key", key, "name", "柔桥后巷驿站终端", "role", "operator"))
		if again.status != http.StatusConflict || !strings.Contains(again.body, "密钥只显示一次") || strings.Contains(again.body, `id="token-secret"`) {
			t.Errorf("the form sent again answered %d: %.600s", again.status, again.body)
		}
		if n := len(h.svc.Dir.Tokens()); n != tokens {
			t.Errorf("the form sent again made a token: %d tokens, was %d", n, tokens)
		}
		// Accounts are not tokens: the token list does not show them.
		if strings.Contains(must(t, b.get("/admin/tokens"), http.StatusOK, "已停用").body, "wangfang") {
			t.Error("the token list shows an account")
		}
	})
}
