package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/redlane/redlane/domain/order"
)

// TestIntakeAsksTheCategorysQuestions: the intake form shows each category's questions
// in Chinese, takes the chosen category's answers only, refuses a wrong one naming it,
// and the member the order goes to sees each answer beside its question.
func TestIntakeAsksTheCategorysQuestions(t *testing.T) {
	h := newHarness(t)
	w := h.seed()
	b := h.browser()

	form := must(t, b.get("/intake?lane=rouqiao-houxiang"), http.StatusOK,
		`data-category="repair"`, "在几楼？", "是否需要入户？", `name="answer.repair.home_visit"`, "需要入户",
		`data-category="medical"`, "是否行动不便？").body
	key := between(form, `name="key" value="`, `"`)
	fields := url.Values{"lane": {"rouqiao-houxiang"}, "category": {"repair"}, "title": {"卫生间漏水"},
		"name": {"张阿姨"}, "phone": {"13812345678"}, "priority": {"normal"}, "key": {key},
		"answer.repair.floor": {"三楼"}, "answer.repair.home_visit": {"yes"}, "answer.medical.mobility": {"yes"}}

	before := h.count()
	p := must(t, b.post("/intake", fields), http.StatusBadRequest, "填写有误", "补充问题（floor）")
	if !strings.Contains(p.body, `value="三楼"`) {
		t.Error("the refused form lost the answer given")
	}
	if h.count() != before {
		t.Fatal("a refused submission wrote events")
	}

	fields.Set("answer.repair.floor", "3")
	p = b.post("/intake", fields)
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/receipt/") {
		t.Fatalf("submit: status %d to %q: %.800s", p.status, p.location(), p.body)
	}
	u, _ := url.Parse(p.location())
	id := strings.TrimPrefix(u.Path, "/receipt/")
	snap, err := h.svc.Order(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if a := snap.State.Answers; len(a) != 2 || a[0].Shown() != "3" || a[1].Shown() != "需要入户" {
		t.Fatalf("the order holds answers %+v (another category's answer must not be among them)", a)
	}

	h.act(w.steward, id, order.Dispatch{Member: order.MemberRef{ID: "m-001"}})
	h.settle()
	m := h.browser()
	m.signIn(w.member)
	tasks := must(t, m.get("/tasks"), http.StatusOK, "卫生间漏水").body
	if !strings.Contains(tasks, "<dt>在几楼？</dt><dd>3</dd>") || !strings.Contains(tasks, "<dt>是否需要入户？</dt><dd>需要入户</dd>") {
		t.Errorf("the task page does not show the answers beside their questions:\n%s", tasks)
	}
}
