package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/street"
	"github.com/redlane/redlane/service"
)

// registerPlaces names the world's places, as an admin does before the lanes.
func (h *harness) registerPlaces() {
	h.t.Helper()
	ctx := context.Background()
	m := h.svc.Meta(service.Admin, "")
	for id, name := range map[string]string{"dongcheng": "东城街道", "xicheng": "西城街道"} {
		if _, err := h.svc.RegisterStreet(ctx, m, id, street.Register{Name: name}); err != nil {
			h.t.Fatal(err)
		}
	}
	for id, c := range map[string]community.Register{"taoyuan": {Name: "塔苑社区", Street: "dongcheng"}, "yingchun": {Name: "迎春社区", Street: "xicheng"}} {
		if _, err := h.svc.RegisterCommunity(ctx, m, id, c); err != nil {
			h.t.Fatal(err)
		}
	}
}

// TestPagesShowCommunityNames: the board, the order page, the member's tasks and the
// station screen call a registered community by its name, never "taoyuan社区".
func TestPagesShowCommunityNames(t *testing.T) {
	h := newHarness(t)
	h.registerPlaces()
	w := h.seed()
	id, _ := h.submit("楼道灯不亮了", "repair")
	h.settle()

	steward := h.browser()
	steward.signIn(w.steward)
	member := h.browser()
	member.signIn(w.member)
	public := h.browser()
	pages := map[string]page{
		"board":  must(t, steward.get("/board"), http.StatusOK, "塔苑社区"),
		"order":  must(t, steward.get("/board/orders/"+id), http.StatusOK, "塔苑社区"),
		"tasks":  must(t, member.get("/tasks"), http.StatusOK, "塔苑社区"),
		"screen": must(t, public.get("/screen/rouqiao-houxiang?scope=community"), http.StatusOK, "塔苑社区"),
	}
	for name, p := range pages {
		if strings.Contains(p.body, "taoyuan社区") || strings.Contains(p.body, "taoyuan 社区") {
			t.Errorf("the %s page shows the community's id: taoyuan社区", name)
		}
	}
}
