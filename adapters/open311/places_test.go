package open311_test

import (
	"testing"

	"github.com/redlane/redlane/adapters/open311"
	"github.com/redlane/redlane/service"
)

// TestAgencyResponsibleIsTheCommunitysName: with the hook redlane serve wires, a
// request's agency_responsible is its community's registered name, not "taoyuan社区".
func TestAgencyResponsibleIsTheCommunitysName(t *testing.T) {
	var svc *service.Service
	h := newHarness(t, open311.Config{CommunityName: func(id string) string {
		if name, ok := svc.Dir.CommunityName(id); ok {
			return name
		}
		return id + "社区"
	}})
	svc = h.svc
	h.must(201, h.api("POST", "/api/v1/streets", adminToken, map[string]any{"id": "dongcheng", "name": "东城街道"}))
	h.must(201, h.api("POST", "/api/v1/communities", adminToken, map[string]any{"id": "taoyuan", "name": "塔苑社区", "street": "dongcheng"}))
	w := h.seed()

	var created []map[string]any
	parseJSON(t, h.must(201, h.post("/open311/v2/requests.json", form(w.operator))), &created)
	id, _ := created[0]["service_request_id"].(string)
	h.settle()
	var got []map[string]any
	parseJSON(t, h.must(200, h.get("/open311/v2/requests/"+id+".json")), &got)
	if len(got) != 1 || got[0]["agency_responsible"] != "塔苑社区" {
		t.Errorf("the request is the responsibility of %v, want 塔苑社区", got)
	}
}
