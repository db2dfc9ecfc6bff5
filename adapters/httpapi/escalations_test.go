package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
)

// board lists an office's board and returns its items' ids, first page only.
func (h *harness) board(token, query string) ([]string, reply) {
	h.t.Helper()
	h.settle()
	r := h.must(200, h.do("GET", "/api/v1/orders?"+query, token, nil))
	items, _ := r.body["items"].([]any)
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i], _ = it.(map[string]any)["id"].(string)
	}
	return ids, r
}

// TestAnOrderGoesUpAndComesBackDown: the lane escalates an order to 塔苑社区, whose
// staff find it on their board with its names and reason, read it with the phone masked,
// dispatch it within the community (If-Match), send it on to 东城街道; the street sends it
// back to the community, the community back to the lane, and the boards empty.
func TestAnOrderGoesUpAndComesBackDown(t *testing.T) {
	h := newHarness(t)
	w := h.seedOffices()
	id := h.submit().str("id")
	path := "/api/v1/orders/" + id
	if ids, _ := h.board(w.taoyuan, "escalation=community"); len(ids) != 0 {
		t.Fatalf("an order at lane level is on the community's board: %v", ids)
	}
	h.must(403, h.do("GET", path, w.taoyuan, nil)) // not escalated: not the community's
	h.must(200, h.do("POST", path+"/escalate", w.steward, map[string]any{"level": "community", "reason": "楼道灯属物业，需社区协调"}))

	ids, r := h.board(w.taoyuan, "escalation=community")
	if len(ids) != 1 || ids[0] != id {
		t.Fatalf("taoyuan's board: %s", r.raw)
	}
	for _, want := range []string{`"lane_name":"柔桥后巷"`, `"community_name":"塔苑社区"`, `"escalation_reason":"楼道灯属物业，需社区协调"`, `"escalated_at":"`, `"total":1`} {
		if !strings.Contains(string(r.raw), want) {
			t.Errorf("the board lacks %s: %s", want, r.raw)
		}
	}
	if ids, _ := h.board(w.yingchun, "escalation=community"); len(ids) != 0 {
		t.Errorf("yingchun's board shows taoyuan's order: %v", ids)
	}
	if ids, _ := h.board(w.dongcheng, "escalation=street"); len(ids) != 0 {
		t.Errorf("the street's board shows an order at community level: %v", ids)
	}
	h.must(403, h.do("GET", "/api/v1/orders?escalation=community&community=yingchun", w.taoyuan, nil))
	h.must(400, h.do("GET", "/api/v1/orders?escalation=lane", w.taoyuan, nil))

	got := h.must(200, h.do("GET", path, w.taoyuan, nil))
	if phone := got.body["requester"].(map[string]any)["phone"]; phone != "138****5678" {
		t.Errorf("community staff see the phone as %v", phone)
	}
	version := fmt.Sprint(got.body["version"])

	// Dispatch within the community only; a stale version is refused.
	before := h.count()
	out := h.do("POST", path+"/dispatch", w.taoyuan, map[string]any{"member": "m-9"}, "If-Match", `"`+version+`"`)
	if out.status != 400 || out.str("code") != "order.member-outside-community" || len(out.problemFields()) != 1 || out.problemFields()[0] != "member" {
		t.Fatalf("dispatch to yingchun's member: %d %s", out.status, out.raw)
	}
	h.must(403, h.do("POST", path+"/dispatch", w.yingchun, map[string]any{"member": "m-2"}))
	h.must(403, h.do("POST", path+"/return", w.steward, map[string]any{"reason": "自己处理"}))
	if h.count() != before {
		t.Fatal("refused actions wrote events")
	}
	d := h.must(200, h.do("POST", path+"/dispatch", w.taoyuan, map[string]any{"member": "m-2"}, "If-Match", `"`+version+`"`))
	if d.str("status") != "dispatched" || d.str("assignee") != "m-2" {
		t.Fatalf("dispatched: %s", d.raw)
	}
	h.must(409, h.do("POST", path+"/escalate", w.taoyuan, map[string]any{"level": "street", "reason": "跨社区"}, "If-Match", `"`+version+`"`))

	// On to the street, back to the community, back to the lane.
	h.must(200, h.do("POST", path+"/escalate", w.taoyuan, map[string]any{"level": "street", "reason": "涉及两个社区"}))
	if ids, _ := h.board(w.dongcheng, "escalation=street"); len(ids) != 1 || ids[0] != id {
		t.Fatalf("dongcheng's board: %v", ids)
	}
	if ids, _ := h.board(w.taoyuan, "escalation=community"); len(ids) != 0 {
		t.Fatalf("the community's board still shows an order gone up to the street: %v", ids)
	}
	h.must(200, h.do("GET", path, w.taoyuan, nil)) // it reached the community: still theirs to read
	h.must(403, h.do("POST", path+"/return", w.taoyuan, map[string]any{"reason": "退回"}))
	back := h.must(200, h.do("POST", path+"/return", w.dongcheng, map[string]any{"reason": "请社区先协调物业"}))
	if back.str("escalation") != "community" {
		t.Fatalf("returned from the street: %s", back.raw)
	}
	if _, r := h.board(w.taoyuan, "escalation=community"); !strings.Contains(string(r.raw), `"sent_back":true`) || !strings.Contains(string(r.raw), "请社区先协调物业") {
		t.Errorf("the order sent back shows on the community's board as %s", r.raw)
	}
	down := h.must(200, h.do("POST", path+"/return", w.taoyuan, map[string]any{"reason": "驿站可以处理"}))
	if down.str("escalation") != "lane" || down.str("status") != "dispatched" {
		t.Fatalf("returned to the lane: %s", down.raw)
	}
	if ids, _ := h.board(w.taoyuan, "escalation=community"); len(ids) != 0 {
		t.Errorf("the community's board after sending it back: %v", ids)
	}
	h.settle()
	backlog := h.must(200, h.do("GET", "/api/v1/lanes/rouqiao-houxiang/backlog", w.steward, nil))
	if !strings.Contains(string(backlog.raw), `"escalation":"lane"`) {
		t.Errorf("the lane's backlog after the send-back: %s", backlog.raw)
	}
	h.must(403, h.do("POST", path+"/close", w.taoyuan, map[string]any{"reason": "结案"})) // no longer theirs
	events := h.must(200, h.do("GET", path+"/events", w.steward, nil))
	if n := strings.Count(string(events.raw), "redlane.order.returned.v1"); n != 2 {
		t.Errorf("%d returned events, want 2", n)
	}
}

// TestAnOfficeClosesAnOrder: the office an order is with closes it, which ends it
// cancelled, with a reason; without one it is 400 naming reason.
func TestAnOfficeClosesAnOrder(t *testing.T) {
	h := newHarness(t)
	w := h.seedOffices()
	id := h.submit().str("id")
	path := "/api/v1/orders/" + id
	// One step at a time: the lane's steward sends it to the community, which sends it on.
	h.must(403, h.do("POST", path+"/escalate", w.steward, map[string]any{"level": "street", "reason": "城市管理问题"}))
	h.must(200, h.do("POST", path+"/escalate", w.steward, map[string]any{"level": "community", "reason": "城市管理问题"}))
	h.must(200, h.do("POST", path+"/escalate", w.taoyuan, map[string]any{"level": "street", "reason": "需要街道协调城管"}))
	if got := h.must(400, h.do("POST", path+"/close", w.dongcheng, map[string]any{})).problemFields(); len(got) != 1 || got[0] != "reason" {
		t.Errorf("a close without a reason faults %v", got)
	}
	h.must(403, h.do("POST", path+"/close", w.xicheng, map[string]any{"reason": "已转交城管"}))
	c := h.must(200, h.do("POST", path+"/close", w.dongcheng, map[string]any{"reason": "已转交城管部门"}))
	if c.str("status") != "cancelled" {
		t.Fatalf("closed: %s", c.raw)
	}
	if ids, _ := h.board(w.dongcheng, "escalation=street"); len(ids) != 0 {
		t.Errorf("a closed order stays on the board: %v", ids)
	}
	h.must(409, h.do("POST", path+"/close", w.dongcheng, map[string]any{"reason": "再结一次"}))
}
