package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/access"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/service"
)

// offices issues tokens to 塔苑社区's and 东城街道's staff.
func (h *harness) offices() (community, street string) {
	h.t.Helper()
	ctx, m := context.Background(), h.svc.Meta(service.Admin, "")
	tok := func(i access.Issue) string {
		_, secret, err := h.svc.IssueToken(ctx, m, i)
		if err != nil {
			h.t.Fatal(err)
		}
		return secret
	}
	return tok(access.Issue{Role: domain.RoleCommunity, Communities: []string{"taoyuan"}, Name: "塔苑社区"}),
		tok(access.Issue{Role: domain.RoleStreet, Streets: []string{"dongcheng"}, Name: "东城街道"})
}

// TestOfficePages: community staff sign in onto their own board, which shows the order
// the lane escalated with its lane's and community's names, since when and why; on its
// page they dispatch it to a member of the community (one of another is refused) and
// send it back down. Street staff close what reaches the street.
func TestOfficePages(t *testing.T) {
	h := newHarness(t)
	h.registerPlaces()
	w := h.seed()
	communityTok, streetTok := h.offices()
	id, _ := h.submit("楼道灯不亮了", "repair")
	h.act(w.steward, id, order.Escalate{Level: order.LevelCommunity, Reason: "楼道照明属物业，需社区协调"})
	h.settle()

	b := h.browser()
	p := b.post("/signin", url.Values{"token": {communityTok}})
	if p.status != http.StatusSeeOther || p.location() != "/escalations" {
		t.Fatalf("a community account lands on %q (%d)", p.location(), p.status)
	}
	board := must(t, b.get("/escalations"), http.StatusOK, "社区兜底工作台", "塔苑社区", "柔桥后巷 · 塔苑社区", "楼道灯不亮了", "原因：楼道照明属物业，需社区协调", "上报于", `href="/escalations/orders/`+id+`"`)
	if strings.Contains(board.body, "taoyuan") || strings.Contains(board.body, "rouqiao-houxiang") {
		t.Errorf("the board shows ids: %.2000s", board.body)
	}
	csrf := csrfOf(t, board.body)
	// The board redraws itself live: its list alone, and its changes as events.
	if !strings.Contains(board.body, `data-live="/escalations/events?after=`) {
		t.Errorf("the board is not live: %.1500s", board.body)
	}
	if list := must(t, b.get("/escalations/list"), http.StatusOK, "楼道灯不亮了", `href="/escalations/orders/`+id+`"`); strings.Contains(list.body, "<html") {
		t.Error("the board's list comes with the whole page")
	}
	op := must(t, b.get("/escalations/orders/"+id), http.StatusOK, "派单给本社区党员", `data-member="m-001"`, "138****5678", "退回下级", "上报街道", "结案")
	if strings.Contains(op.body, `data-member="m-009"`) || strings.Contains(op.body, "13812345678") {
		t.Errorf("the office's order page offers another community's member or shows the phone: %.3000s", op.body)
	}
	before := h.count()
	must(t, b.post("/escalations/orders/"+id+"/dispatch", url.Values{"csrf": {csrf}, "member": {"m-009"}}), http.StatusBadRequest, "只能派给本社区的党员")
	if h.count() != before {
		t.Fatal("a refused dispatch wrote events")
	}
	done := b.post("/escalations/orders/"+id+"/dispatch", url.Values{"csrf": {csrf}, "member": {"m-001"}})
	if done.status != http.StatusSeeOther || !strings.HasPrefix(done.location(), "/escalations?") {
		t.Fatalf("dispatch answered %d %q: %.1000s", done.status, done.location(), done.body)
	}
	if st := h.status(id); st != order.StatusDispatched {
		t.Fatalf("status %s after the community dispatched", st)
	}
	back := b.post("/escalations/orders/"+id+"/return", url.Values{"csrf": {csrf}, "reason": {"驿站可以跟进"}})
	if back.status != http.StatusSeeOther {
		t.Fatalf("return answered %d: %.1000s", back.status, back.body)
	}
	h.settle()
	must(t, b.get("/escalations"), http.StatusOK, "没有上报到本级的工单")
	must(t, b.get("/escalations/orders/"+id), http.StatusOK, "只能查看") // it reached them: still theirs to read
	must(t, b.get("/board"), http.StatusForbidden)
	sb := h.browser()
	sb.signIn(w.steward)
	must(t, sb.get("/board"), http.StatusOK, "上级已退回，由驿站办理")

	// The street closes what reaches it; a steward has no board of escalations.
	h.act(w.steward, id, order.Escalate{Level: order.LevelCommunity, Reason: "涉及两个社区"})
	h.act(communityTok, id, order.Escalate{Level: order.LevelStreet, Reason: "涉及两个社区"})
	h.settle()
	s := h.browser()
	scsrf := s.signIn(streetTok)
	must(t, s.get("/escalations"), http.StatusOK, "街道兜底工作台", "东城街道", "涉及两个社区")
	sp := must(t, s.get("/escalations/orders/"+id), http.StatusOK, "退回下级", "结案")
	if strings.Contains(sp.body, "上报街道") {
		t.Error("the street is offered to escalate to itself")
	}
	if c := s.post("/escalations/orders/"+id+"/close", url.Values{"csrf": {scsrf}, "reason": {"已转交城管部门"}}); c.status != http.StatusSeeOther {
		t.Fatalf("close answered %d: %.1000s", c.status, c.body)
	}
	if st := h.status(id); st != order.StatusCancelled {
		t.Fatalf("status %s after the street closed it", st)
	}
	st := h.browser()
	st.signIn(w.steward)
	must(t, st.get("/escalations"), http.StatusForbidden)
}
