package httpapi_test

import (
	"slices"
	"strings"
	"testing"
)

// TestPlacesWithNames: an admin registers a street and a community, both are listed, a
// lane in the community is accepted only in its street, and the lane's listing, backlog
// and feed call the community 塔苑社区, never taoyuan社区, as do the lanes registered in
// it before it had a name.
func TestPlacesWithNames(t *testing.T) {
	h := newHarness(t)
	w := h.seed() // lanes of communities never registered, as in logs from before places

	h.must(201, h.do("POST", "/api/v1/streets", adminToken, map[string]any{"id": "dongcheng", "name": " 东城街道 "}))
	h.must(409, h.do("POST", "/api/v1/streets", adminToken, map[string]any{"id": "dongcheng", "name": "东城街道"}))
	if got := h.must(400, h.do("POST", "/api/v1/streets", adminToken, map[string]any{"id": "x", "name": strings.Repeat("街", 51)})).problemFields(); !slices.Equal(got, []string{"name"}) {
		t.Errorf("a long name faults %v", got)
	}
	h.must(403, h.do("POST", "/api/v1/streets", w.steward, map[string]any{"id": "s", "name": "某街道"}))
	if got := h.must(400, h.do("POST", "/api/v1/communities", adminToken, map[string]any{"id": "taoyuan", "name": "塔苑社区", "street": "nowhere"})).problemFields(); !slices.Equal(got, []string{"street"}) {
		t.Errorf("an unregistered street faults %v", got)
	}
	c := h.must(201, h.do("POST", "/api/v1/communities", adminToken, map[string]any{"id": "taoyuan", "name": "塔苑社区", "street": "dongcheng"}))
	if c.str("name") != "塔苑社区" || c.str("street") != "dongcheng" || c.str("id") != "taoyuan" {
		t.Errorf("created %s", c.raw)
	}

	streets := h.must(200, h.do("GET", "/api/v1/streets", w.member, nil))
	communities := h.must(200, h.do("GET", "/api/v1/communities", w.steward, nil))
	if !strings.Contains(string(streets.raw), `{"id":"dongcheng","name":"东城街道"}`) {
		t.Errorf("streets: %s", streets.raw)
	}
	if !strings.Contains(string(communities.raw), `{"id":"taoyuan","name":"塔苑社区","street":"dongcheng"}`) {
		t.Errorf("communities: %s", communities.raw)
	}

	lane := map[string]any{"id": "tayuan-lane", "name": "塔苑巷", "community": "taoyuan", "street": "xicheng", "station": "塔苑巷驿站"}
	if got := h.must(400, h.do("POST", "/api/v1/lanes", adminToken, lane)).problemFields(); !slices.Equal(got, []string{"street"}) {
		t.Errorf("a lane outside its community's street faults %v", got)
	}
	lane["street"] = "dongcheng"
	h.must(201, h.do("POST", "/api/v1/lanes", adminToken, lane))
	lanes := h.must(200, h.do("GET", "/api/v1/lanes", adminToken, nil))
	if !strings.Contains(string(lanes.raw), `"community_name":"塔苑社区","street_name":"东城街道"`) {
		t.Errorf("the lane listing does not name the places: %s", lanes.raw)
	}
	h.settle()

	backlog := h.must(200, h.do("GET", "/api/v1/lanes/tayuan-lane/backlog", adminToken, nil))
	if backlog.str("community_name") != "塔苑社区" || backlog.str("street_name") != "东城街道" || backlog.str("community") != "taoyuan" {
		t.Errorf("backlog: %s", backlog.raw)
	}
	feed := h.must(200, h.do("GET", "/api/v1/feed?lane=tayuan-lane", adminToken, nil))
	if !strings.Contains(string(feed.raw), "在塔苑社区启用") || strings.Contains(string(feed.raw), "taoyuan社区") {
		t.Errorf("feed: %s", feed.raw)
	}
	// A lane registered before its community was is named from then on.
	if old := h.must(200, h.do("GET", "/api/v1/lanes/rouqiao-houxiang/backlog", adminToken, nil)); old.str("community_name") != "塔苑社区" {
		t.Errorf("the older lane's backlog: %s", old.raw)
	}
	// The view's own lane document, as the nats CLI reads it, names the places too.
	doc, err := h.views.Get(t.Context(), "backlog", "lane.tayuan-lane")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), `"community_name":"塔苑社区"`) {
		t.Errorf("the backlog's lane document: %s", doc)
	}
}
