package web_test

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redlane/redlane/adapters/web"
	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/service"
)

func TestSignIn(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	b := h.browser()

	p := must(t, b.get("/"), http.StatusOK, "登录", `name="username"`, `name="password"`, `name="token"`, "我要点单")
	for k, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "same-origin",
	} {
		if got := p.header.Get(k); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}

	t.Run("a person signs in with a username and password", func(t *testing.T) {
		if _, err := h.svc.CreateAccount(context.Background(), h.svc.Meta(service.Admin, ""), service.NewAccount{
			Username: "liming", Password: "李明的密码 2026", Issue: access.Issue{Role: domain.RoleMember, Member: "m-001", Name: "李明"}}); err != nil {
			t.Fatal(err)
		}
		wrong := must(t, h.browser().post("/signin", url.Values{"username": {"liming"}, "password": {"李明的密码 2025"}}), http.StatusUnauthorized, "登录失败", `value="liming"`)
		if strings.Contains(wrong.body, "李明的密码") {
			t.Error("the page echoes the password")
		}
		must(t, h.browser().post("/signin", url.Values{"username": {"nobody"}, "password": {"李明的密码 2026"}}), http.StatusUnauthorized, "登录失败")
		mb := h.browser()
		p := mb.post("/signin", url.Values{"username": {" LiMing "}, "password": {"李明的密码 2026"}})
		if p.status != http.StatusSeeOther || p.location() != "/tasks" {
			t.Fatalf("status %d to %q, want 303 to /tasks", p.status, p.location())
		}
		must(t, mb.get("/tasks"), http.StatusOK, "李明")
	})

	t.Run("a bad token is refused", func(t *testing.T) {
		must(t, b.post("/signin", url.Values{"token": {"rl_nope"}}), http.StatusUnauthorized, "登录失败")
	})

	t.Run("a steward lands on the board with an HttpOnly strict cookie", func(t *testing.T) {
		p := b.post("/signin", url.Values{"token": {w.steward}})
		if p.status != http.StatusSeeOther || p.location() != "/board" {
			t.Fatalf("status %d to %q, want 303 to /board", p.status, p.location())
		}
		c := p.header.Get("Set-Cookie")
		for _, want := range []string{"redlane_session=", "HttpOnly", "SameSite=Strict", "Path=/"} {
			if !strings.Contains(c, want) {
				t.Errorf("Set-Cookie %q lacks %q", c, want)
			}
		}
		must(t, b.get("/board"), http.StatusOK, "驿站工作台", "柔桥后巷", "响应率", "解决率", "满意率", "王芳（驿站管家）")
		p = b.get("/")
		if p.status != http.StatusSeeOther || p.location() != "/board" {
			t.Fatalf("home: status %d to %q, want 303 to /board", p.status, p.location())
		}
	})

	t.Run("sign-in returns to the page asked for", func(t *testing.T) {
		b := h.browser()
		p := b.get("/tasks")
		if p.status != http.StatusSeeOther || p.location() != "/?next=%2Ftasks" {
			t.Fatalf("status %d to %q, want 303 to the sign-in", p.status, p.location())
		}
		p = b.post("/signin", url.Values{"token": {w.member}, "next": {"/tasks"}})
		if p.location() != "/tasks" {
			t.Fatalf("to %q, want /tasks", p.location())
		}
		must(t, b.get("/tasks"), http.StatusOK, "我的任务", "李明")
		p = b.post("/signin", url.Values{"token": {w.member}, "next": {"//evil.example/"}})
		if p.location() != "/tasks" {
			t.Fatalf("an off-site next went to %q", p.location())
		}
	})

	t.Run("sign-out needs the CSRF token and ends the session", func(t *testing.T) {
		b := h.browser()
		csrf := b.signIn(w.auditor)
		must(t, b.post("/signout", url.Values{}), http.StatusForbidden, "CSRF")
		cookie := b.cookie(t)
		p := b.post("/signout", url.Values{"csrf": {csrf}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("sign-out: status %d", p.status)
		}
		must(t, b.get("/"), http.StatusOK, `name="token"`)
		// The old cookie, kept and sent again, no longer signs anyone in.
		replay := h.browser()
		must(t, replay.get("/", "Cookie", web.SessionCookie+"="+cookie), http.StatusOK, `name="token"`)
	})

	t.Run("the cookie holds a session id, never the token, and dies with the token", func(t *testing.T) {
		ctx, admin := context.Background(), h.svc.Meta(service.Admin, "")
		id, secret, err := h.svc.IssueToken(ctx, admin, access.Issue{Role: domain.RoleAuditor, Name: "临时审计"})
		if err != nil {
			t.Fatal(err)
		}
		h.settle()
		b := h.browser()
		b.signIn(secret)
		cookie := b.cookie(t)
		if cookie == secret || strings.Contains(cookie, secret) || len(cookie) < 40 {
			t.Fatalf("the session cookie %q is, or holds, the API token", cookie)
		}
		// The cookie is no bearer token for the API.
		if p := h.browser().get("/api/v1/lanes", "Authorization", "Bearer "+cookie); p.status != http.StatusUnauthorized {
			t.Errorf("the session id used as a bearer token: %d", p.status)
		}
		must(t, b.get("/"), http.StatusOK, "临时审计")
		if err := h.svc.RevokeToken(ctx, admin, id); err != nil {
			t.Fatal(err)
		}
		h.settle()
		must(t, b.get("/"), http.StatusOK, `name="token"`) // signed out with the token
	})

	t.Run("a revoked token stops working at once", func(t *testing.T) {
		// Through the API, as an admin would.
		req, _ := http.NewRequest("POST", h.url+"/api/v1/tokens", strings.NewReader(`{"role":"auditor","name":"临时"}`))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var tok struct{ ID, Token string }
		decodeJSON(t, resp, &tok)
		b := h.browser()
		b.signIn(tok.Token)
		must(t, b.get("/audit/orders/nope"), http.StatusNotFound)
		req, _ = http.NewRequest("DELETE", h.url+"/api/v1/tokens/"+tok.ID, nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 204 {
			t.Fatalf("revoke: %v %v", resp, err)
		}
		if p := b.get("/audit/orders/nope"); p.status != http.StatusSeeOther {
			t.Fatalf("after revocation: status %d, want 303 to sign in", p.status)
		}
	})
}

func TestCSRF(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	id, _ := h.submit("楼道灯不亮了", "repair")
	b := h.browser()
	csrf := b.signIn(w.steward)
	before := h.count()

	t.Run("a POST without the token is refused and writes nothing", func(t *testing.T) {
		must(t, b.post("/board/orders/"+id+"/dispatch", url.Values{"member": {"m-001"}}), http.StatusForbidden, "页面已过期")
		must(t, b.post("/board/orders/"+id+"/dispatch", url.Values{"member": {"m-001"}, "csrf": {"0123456789abcdef0123456789abcdef"}}), http.StatusForbidden)
		if n := h.count(); n != before {
			t.Fatalf("%d events written by refused requests", n-before)
		}
	})
	t.Run("a cross-site POST is refused even with the token", func(t *testing.T) {
		must(t, b.post("/board/orders/"+id+"/dispatch", url.Values{"member": {"m-001"}, "csrf": {csrf}}, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden, "跨站")
		if h.status(id) != order.StatusOpen {
			t.Fatal("a cross-site request dispatched the order")
		}
	})
	t.Run("with the token, in a header or the form, it goes through", func(t *testing.T) {
		p := b.post("/board/orders/"+id+"/dispatch", url.Values{"member": {"m-001"}}, "X-CSRF-Token", csrf)
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/board?") {
			t.Fatalf("status %d to %q: %.500s", p.status, p.location(), p.body)
		}
		if h.status(id) != order.StatusDispatched {
			t.Fatal("the order was not dispatched")
		}
		// The board drawn after the redirect shows the change: it waits for the views.
		must(t, b.get(p.location()), http.StatusOK, "已派单，等待党员接单。", "承办：<b class=\"assignee\">李明</b>")
	})
	t.Run("another session's token does not do", func(t *testing.T) {
		other := h.browser()
		otherCSRF := other.signIn(w.member)
		if otherCSRF == csrf {
			t.Fatal("two sessions share a CSRF token")
		}
		must(t, b.post("/board/orders/"+id+"/note", url.Values{"text": {"x"}, "csrf": {otherCSRF}}), http.StatusForbidden)
	})
}

func TestBearer(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	id, _ := h.submit("楼道灯不亮了", "repair")
	h.settle()
	b := h.browser()
	auth := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

	must(t, b.get("/board", auth(w.steward)...), http.StatusOK, "楼道灯不亮了", `data-status="open"`)
	must(t, b.get("/board", auth("rl_bad")...), http.StatusUnauthorized, "请先登录")
	must(t, b.get("/board", "Authorization", "Basic abc"), http.StatusUnauthorized)
	// No CSRF token with a bearer token: it is not a cookie a browser sends by itself.
	p := b.post("/board/orders/"+id+"/dispatch", url.Values{"member": {"m-001"}}, auth(w.steward)...)
	if p.status != http.StatusSeeOther {
		t.Fatalf("dispatch with a bearer token: status %d: %.500s", p.status, p.body)
	}
	p = b.post("/tasks/orders/"+id+"/accept", url.Values{}, auth(w.member)...)
	if p.status != http.StatusSeeOther {
		t.Fatalf("accept with a bearer token: status %d: %.500s", p.status, p.body)
	}
	must(t, b.get(p.location(), auth(w.member)...), http.StatusOK, "已接单。", `data-status="accepted"`, "确认办结")
	if h.status(id) != order.StatusAccepted {
		t.Fatalf("status %s, want accepted", h.status(id))
	}
}

func TestIntakeReceiptRate(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	b := h.browser()

	form := must(t, b.get("/intake?lane=rouqiao-houxiang"), http.StatusOK, "我要点单", "柔桥后巷（柔桥后巷驿站）", "日常维修", "医疗服务").body
	key := between(form, `name="key" value="`, `"`)
	fields := url.Values{"lane": {"rouqiao-houxiang"}, "category": {"repair"}, "title": {"楼道灯不亮了"},
		"description": {"三单元二楼"}, "name": {"张阿姨"}, "phone": {"13812345678"}, "priority": {"normal"}, "key": {key}}

	t.Run("bad input is shown in Chinese and writes nothing", func(t *testing.T) {
		before := h.count()
		bad := url.Values{"lane": {"rouqiao-houxiang"}, "category": {"repair"}, "title": {" "}, "name": {"张阿姨"}, "phone": {"abc"}}
		must(t, b.post("/intake", bad), http.StatusBadRequest, "填写有误", "标题：必填，不能为空", "联系电话：请填写手机号（如 13812345678）或带区号的固定电话（如 0576-88881234）")
		if h.count() != before {
			t.Fatal("a refused submission wrote events")
		}
	})

	p := b.post("/intake", fields)
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/receipt/") {
		t.Fatalf("submit: status %d to %q: %.800s", p.status, p.location(), p.body)
	}
	receiptURL := p.location()
	u, _ := url.Parse(receiptURL)
	id := strings.TrimPrefix(u.Path, "/receipt/")
	receipt := u.Query().Get("r")
	if receipt != h.svc.Receipt(id) {
		t.Fatalf("receipt %q, want the order's", receipt)
	}

	t.Run("a resubmitted form makes no second order", func(t *testing.T) {
		again := b.post("/intake", fields)
		if again.location() != receiptURL {
			t.Fatalf("the same form again went to %q, want %q", again.location(), receiptURL)
		}
	})

	must(t, b.get(receiptURL), http.StatusOK, "提交成功", "/receipt/"+id+"?r="+receipt, "待派单", "楼道灯不亮了", "138****5678", "取消诉求")
	must(t, b.get("/receipt/"+id+"?r=wrong"), http.StatusNotFound)
	must(t, b.get("/receipt/"+id), http.StatusNotFound)

	h.act(w.steward, id, order.Dispatch{Member: order.MemberRef{ID: "m-001"}})
	t.Run("the resident may not cancel once it is dispatched", func(t *testing.T) {
		must(t, b.post("/receipt/"+id+"/cancel", url.Values{"r": {receipt}, "reason": {"不需要了"}}), http.StatusConflict,
			"工单当前为「已派单」，不能取消。")
	})
	h.act(w.member, id, order.Accept{})
	h.act(w.member, id, order.Complete{Note: "换了感应灯", Minutes: 40})

	must(t, b.get("/receipt/"+id+"?r="+receipt), http.StatusOK, "已办结待评价", "评价这次服务", "派给党员 李明", "用时 40 分钟")

	t.Run("a rating with a wrong receipt is refused", func(t *testing.T) {
		must(t, b.post("/receipt/"+id+"/rate", url.Values{"r": {"nope"}, "solved": {"yes"}, "stars": {"5"}}), http.StatusNotFound)
	})
	t.Run("a rating without stars is shown what is missing", func(t *testing.T) {
		must(t, b.post("/receipt/"+id+"/rate", url.Values{"r": {receipt}, "solved": {"yes"}}), http.StatusBadRequest, "星级：请选择 1 到 5 星")
	})
	p = b.post("/receipt/"+id+"/rate", url.Values{"r": {receipt}, "solved": {"yes"}, "stars": {"5"}, "comment": {"很及时"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("rate: status %d: %.800s", p.status, p.body)
	}
	must(t, b.get(p.location()), http.StatusOK, "评价已记录", "已办结", "5 星 · 已解决")
	if h.status(id) != order.StatusClosed {
		t.Fatalf("status %s, want closed", h.status(id))
	}

	t.Run("an operator takes a request by phone", func(t *testing.T) {
		op := h.browser()
		csrf := op.signIn(w.operator)
		form := must(t, op.get("/intake"), http.StatusOK, "96345 接线员（接线员）代居民", "96345 热线").body
		f := url.Values{"lane": {"wudongqiao"}, "category": {"policy"}, "title": {"咨询医保政策"}, "name": {"刘大爷"},
			"phone": {"13900001111"}, "priority": {"normal"}, "channel": {"hotline"}, "csrf": {csrf},
			"key": {between(form, `name="key" value="`, `"`)}}
		p := op.post("/intake", f)
		if p.status != http.StatusSeeOther {
			t.Fatalf("status %d: %.800s", p.status, p.body)
		}
		u, _ := url.Parse(p.location())
		snap, err := h.svc.Order(context.Background(), strings.TrimPrefix(u.Path, "/receipt/"))
		if err != nil || snap.State.Channel != order.ChannelHotline {
			t.Fatalf("order %+v, %v: want the hotline channel", snap.State, err)
		}
	})
}

func TestMemberTasks(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	mine, _ := h.submitWith(order.Submit{Category: "repair", Title: "楼道灯不亮了", Description: "三单元二楼的感应灯坏了",
		Requester: order.Requester{Name: "张阿姨", Phone: "13812345678", Address: order.Address{Building: "3号楼", Unit: "2单元", Door: "201"}},
		Channel:   order.ChannelWeb})
	open, _ := h.submit("帮忙代缴水费", "errand")
	h.act(w.steward, mine, order.Dispatch{Member: order.MemberRef{ID: "m-001"}})
	// Another member's orders are not counted as this member's.
	for _, title := range []string{"邻里调解", "心理疏导"} {
		theirs, _ := h.submit(title, "errand")
		h.act(w.steward, theirs, order.Dispatch{Member: order.MemberRef{ID: "m-002"}})
	}
	h.settle()

	b := h.browser()
	csrf := b.signIn(w.member)
	p := must(t, b.get("/tasks"), http.StatusOK, "派给我的", "楼道灯不亮了", "本社区可领办", "帮忙代缴水费", "领办",
		`派给我的 · 我在办的 <span class="muted small">共 1 单</span>`)
	if !strings.Contains(p.body, `action="/tasks/orders/`+mine+`/accept"`) || !strings.Contains(p.body, `action="/tasks/orders/`+open+`/claim"`) {
		t.Fatal("the task list lacks the accept or claim form")
	}
	// The member the order is dispatched to sees what was asked and whom to call; an
	// order still open to claim shows no phone.
	if !strings.Contains(p.body, "三单元二楼的感应灯坏了") || !strings.Contains(p.body, "联系居民：张阿姨") ||
		strings.Count(p.body, `href="tel:13812345678"`) != 1 || strings.Count(p.body, "上门地址：3号楼 2单元 201") != 1 {
		t.Errorf("the dispatched task lacks its description or the resident's phone and address, or another order shows them:\n%s", p.body)
	}
	t.Run("decline needs a reason", func(t *testing.T) {
		must(t, b.post("/tasks/orders/"+mine+"/decline", url.Values{"csrf": {csrf}}), http.StatusBadRequest, "原因：必填，不能为空")
	})
	t.Run("a member of another community may not claim", func(t *testing.T) {
		o := h.browser()
		oc := o.signIn(w.outsider)
		must(t, o.get("/tasks"), http.StatusOK, "本社区暂无待领办的工单")
		must(t, o.post("/tasks/orders/"+open+"/claim", url.Values{"csrf": {oc}}), http.StatusForbidden, "只有本社区的在册党员可以领办")
	})
	p = b.post("/tasks/orders/"+open+"/claim", url.Values{"csrf": {csrf}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("claim: status %d", p.status)
	}
	must(t, b.get(p.location()), http.StatusOK, "已领办")
	p = b.post("/tasks/orders/"+open+"/complete", url.Values{"csrf": {csrf}, "note": {"已代缴"}, "minutes": {"30"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("complete: status %d: %.500s", p.status, p.body)
	}
	if h.status(open) != order.StatusCompleted {
		t.Fatalf("status %s, want completed", h.status(open))
	}
	h.settle()
	// Done: the completed order no longer shows the resident's phone.
	if p := must(t, b.get("/tasks"), http.StatusOK, "帮忙代缴水费"); strings.Count(p.body, `href="tel:`) != 1 {
		t.Errorf("after completing, the phone shows on %d tasks, want 1 (the dispatched one)", strings.Count(p.body, `href="tel:`))
	}
	t.Run("a second claim is a conflict, in Chinese", func(t *testing.T) {
		b2 := h.browser()
		c2 := b2.signIn(w.member2)
		must(t, b2.post("/tasks/orders/"+open+"/claim", url.Values{"csrf": {c2}}), http.StatusConflict, "工单当前为「已办结待评价」，不能领办。")
	})
}

func TestStewardActions(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	id, _ := h.submit("楼道灯不亮了", "repair")
	h.settle()
	b := h.browser()
	csrf := b.signIn(w.steward)

	// The dispatch dialog ranks the repairman of the community first, with its reasons.
	p := must(t, b.get("/board/orders/"+id+"?fragment=1"), http.StatusOK, "推荐党员", "技能匹配：维修、电工 · 当前无在办 · 本社区", "13812345678")
	if strings.Contains(p.body, "<html") {
		t.Error("the dialog fragment is a whole page")
	}
	if i, j := strings.Index(p.body, "李明"), strings.Index(p.body, "陈静"); i < 0 || j < 0 || i > j {
		t.Error("李明 (repair) is not proposed before 陈静")
	}
	post := func(action string, f url.Values) page {
		f.Set("csrf", csrf)
		return b.post("/board/orders/"+id+"/"+action, f)
	}
	seeOther := func(p page) {
		t.Helper()
		if p.status != http.StatusSeeOther {
			t.Fatalf("status %d: %.800s", p.status, p.body)
		}
	}
	seeOther(post("dispatch", url.Values{"member": {"m-001"}}))
	must(t, post("dispatch", url.Values{"member": {"m-002"}}), http.StatusConflict, "工单当前为「已派单」，不能派单。")
	seeOther(post("reassign", url.Values{"member": {"m-002"}, "reason": {"李明出差"}}))
	seeOther(post("escalate", url.Values{"level": {"community"}, "reason": {"需要社区协调"}}))
	must(t, post("escalate", url.Values{"level": {"community"}, "reason": {"再报"}}), http.StatusConflict, "只能继续向上级上报")
	seeOther(post("note", url.Values{"text": {"已电话联系居民"}, "internal": {"1"}}))
	h.act(w.member2, id, order.Accept{})
	h.act(w.member2, id, order.Complete{Note: "修好了", Minutes: 20})
	// A call-back (回访): the steward rates on the resident's behalf; unsolved reopens.
	seeOther(post("rate", url.Values{"solved": {"no"}, "stars": {"2"}, "comment": {"灯还是不亮"}}))
	if h.status(id) != order.StatusOpen {
		t.Fatalf("status %s, want open again after an unsolved rating", h.status(id))
	}
	seeOther(post("cancel", url.Values{"reason": {"居民已自行修好"}}))
	if h.status(id) != order.StatusCancelled {
		t.Fatalf("status %s, want cancelled", h.status(id))
	}
	must(t, post("bogus", url.Values{}), http.StatusNotFound)
	must(t, post("accept", url.Values{}), http.StatusNotFound) // a member's action, not on this page

	t.Run("the audit page shows every event, the phone in full to the lane's steward", func(t *testing.T) {
		p := must(t, b.get("/audit/orders/"+id), http.StatusOK, "工单历史", "居民点单", "组织派单", "改派", "上报", "备注", "评价", "取消",
			"王芳（驿站管家）", "13812345678", "redlane.order.dispatched.v1",
			// A timeline in words: what happened, and each fact named in Chinese.
			`<p class="summary">`, "<dt>原因</dt><dd>需要社区协调</dd>", "<dt>备注</dt><dd>已电话联系居民</dd>",
			"<dt>居民评价</dt><dd>灯还是不亮</dd>", "<dt>问题已解决</dt><dd>否</dd>", "<dt>办结说明</dt><dd>修好了</dd>")
		// The raw JSON is there, behind a toggle, not in the timeline itself.
		if open, raw := strings.Index(p.body, "<summary>原始数据</summary>"), strings.Index(p.body, `<pre class="data">`); open < 0 || raw < open {
			t.Error("the raw data is not behind the 原始数据 toggle")
		}
	})
}

func TestAccessRefusals(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	id, _ := h.submit("楼道灯不亮了", "repair")
	h.settle()
	auth := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	b := h.browser()

	cases := []struct {
		name, path, token string
		status            int
		contains          string
	}{
		{"nobody signed in goes to sign in", "/board", "", http.StatusSeeOther, ""},
		{"a member has no board", "/board", w.member, http.StatusForbidden, "无权访问"},
		{"a steward has no task list", "/tasks", w.steward, http.StatusForbidden, "无权访问"},
		{"an auditor has no board", "/board", w.auditor, http.StatusForbidden, ""},
		{"another lane's steward may not open the order", "/board/orders/" + id, w.otherSteward, http.StatusForbidden, ""},
		{"another lane's steward may not read its history", "/audit/orders/" + id, w.otherSteward, http.StatusForbidden, ""},
		{"a member may not read a history", "/audit/orders/" + id, w.member, http.StatusForbidden, ""},
		{"an auditor reads it, the phone masked", "/audit/orders/" + id, w.auditor, http.StatusOK, "138****5678"},
		{"an unknown order", "/audit/orders/0193a5c2-0000-7000-8000-000000000000", w.auditor, http.StatusNotFound, "找不到"},
		{"an unknown lane's screen", "/screen/nowhere", "", http.StatusNotFound, "没有这条街巷"},
		{"an unknown page", "/nothing-here", "", http.StatusNotFound, "找不到这个页面"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var hd []string
			if c.token != "" {
				hd = auth(c.token)
			}
			p := must(t, b.get(c.path, hd...), c.status, c.contains)
			if c.status == http.StatusOK && strings.Contains(p.body, "13812345678") {
				t.Error("the full phone is shown to an auditor")
			}
		})
	}
	t.Run("another lane's steward may not act", func(t *testing.T) {
		before := h.count()
		must(t, b.post("/board/orders/"+id+"/dispatch", url.Values{"member": {"m-001"}}, auth(w.otherSteward)...), http.StatusForbidden)
		if h.count() != before {
			t.Fatal("a refused action wrote events")
		}
	})
}

func TestScreenAndLiveStreams(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	id, _ := h.submit("楼道灯不亮了", "repair")
	h.settle()
	b := h.browser()
	p := must(t, b.get("/screen/rouqiao-houxiang"), http.StatusOK, "柔桥后巷驿站", "联动信息", "提出诉求「楼道灯不亮了」", "看全社区")
	if strings.Contains(p.body, "张阿姨") || strings.Contains(p.body, "13812345678") {
		t.Fatal("the public screen shows the resident")
	}
	must(t, b.get("/screen/rouqiao-houxiang?scope=community"), http.StatusOK, "taoyuan社区", "只看本街巷")

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	stream := func(path string, headers ...string) *bufio.Reader {
		req, _ := http.NewRequestWithContext(ctx, "GET", h.url+path, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("%s: status %d, %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		return bufio.NewReader(resp.Body)
	}
	seq, err := h.views.Checkpoint(ctx, "backlog")
	if err != nil {
		t.Fatal(err)
	}
	screen := stream("/screen/rouqiao-houxiang/events?after=" + itoa(seq))
	board := stream("/board/events?after="+itoa(seq), "Authorization", "Bearer "+w.steward)
	h.act(w.steward, id, order.Dispatch{Member: order.MemberRef{ID: "m-001"}})

	if got := readEvent(t, screen, "entry"); !strings.Contains(got, "王芳将「楼道灯不亮了」派给党员李明") || !strings.Contains(got, "<li") {
		t.Fatalf("screen entry %q", got)
	}
	readEvent(t, board, "changed")
	// "changed" is sent once the backlog has the change: the fragment shows it.
	must(t, b.get("/board/backlog", "Authorization", "Bearer "+w.steward), http.StatusOK, `data-status="dispatched"`)
}

// readEvent reads a stream until an event of the type and returns its data.
func readEvent(tb testing.TB, r *bufio.Reader, event string) string {
	tb.Helper()
	var typ string
	var data []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			tb.Fatalf("stream ended before a %q event: %v", event, err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			typ = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		case line == "":
			if typ == event {
				return strings.Join(data, "\n")
			}
			typ, data = "", nil
		}
	}
}

func TestStatic(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	p := must(t, b.get("/static/app.js"), http.StatusOK, "EventSource")
	if ct := p.header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("app.js served as %q", ct)
	}
	must(t, b.get("/static/app.css"), http.StatusOK, "@media")
	must(t, b.get("/static/"), http.StatusNotFound)
}

// The order's number, which residents and the hotline quote and the auditor's lookup
// takes, opens its page as its id does.
func TestOrderPagesTakeTheNumber(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	id, _ := h.submit("楼道灯不亮了", "repair")
	h.settle()
	snap, err := h.svc.Order(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	number := snap.State.Number
	a := h.browser()
	a.signIn(w.auditor)
	must(t, a.get("/audit/orders/"+number), http.StatusOK, "工单历史", number)
	must(t, a.get("/audit/orders/"+strings.ToLower(number)), http.StatusOK, "工单历史", number)
	s := h.browser()
	s.signIn(w.steward)
	must(t, s.get("/board/orders/"+number), http.StatusOK, "楼道灯不亮了", `action="/board/orders/`+id+`/dispatch"`)
	must(t, a.get("/audit/orders/20991231-ZZZZZZ"), http.StatusNotFound)
}
