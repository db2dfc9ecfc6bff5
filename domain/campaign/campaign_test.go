package campaign_test

import (
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/campaign"
	"github.com/redlane/redlane/domain/order"
)

var shanghai = time.FixedZone("CST", 8*3600)

func TestDecideAndCovers(t *testing.T) {
	admin := domain.Actor{Role: domain.RoleAdmin}
	launch := campaign.Launch{Theme: "安全用电月", Community: "taoyuan", From: "2026-11-01", Until: "2026-11-30", Categories: []string{"日常维修"}}
	if _, err := campaign.Decide(campaign.State{}, launch, campaign.Env{Actor: domain.Actor{Role: domain.RoleSteward, Lanes: []string{"x"}}, Catalog: order.DefaultCatalog()}); domain.KindOf(err) != domain.KindForbidden {
		t.Fatalf("a steward launched a campaign: %v", err)
	}
	bad := launch
	bad.Until = "2026-10-01"
	bad.Categories = nil
	if _, err := campaign.Decide(campaign.State{}, bad, campaign.Env{Actor: admin, Catalog: order.DefaultCatalog()}); domain.KindOf(err) != domain.KindInvalid {
		t.Fatalf("until before from: %v", err)
	}
	evs, err := campaign.Decide(campaign.State{}, launch, campaign.Env{Actor: admin, Catalog: order.DefaultCatalog()})
	if err != nil || len(evs) != 1 {
		t.Fatalf("launch: %v %v", evs, err)
	}
	s := campaign.Evolve(campaign.State{}, evs[0], domain.Envelope{AggregateID: "c-1"})
	if _, err := campaign.Decide(s, launch, campaign.Env{Actor: admin, Exists: true, Catalog: order.DefaultCatalog()}); domain.KindOf(err) != domain.KindConflict {
		t.Fatalf("launched twice: %v", err)
	}
	for _, c := range []struct {
		name                string
		community, category string
		at                  time.Time
		want                bool
	}{
		{"in range and category", "taoyuan", "repair", time.Date(2026, 11, 15, 2, 0, 0, 0, time.UTC), true},
		{"last local day", "taoyuan", "repair", time.Date(2026, 11, 30, 15, 59, 0, 0, time.UTC), true},
		{"first day after, in Shanghai", "taoyuan", "repair", time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC), false},
		{"other category", "taoyuan", "medical", time.Date(2026, 11, 15, 2, 0, 0, 0, time.UTC), false},
		{"other community", "yingchun", "repair", time.Date(2026, 11, 15, 2, 0, 0, 0, time.UTC), false},
	} {
		if got := s.Covers(c.community, c.category, c.at, shanghai); got != c.want {
			t.Errorf("%s: covers = %v, want %v", c.name, got, c.want)
		}
	}
	evs, err = campaign.Decide(s, campaign.End{Reason: "提前结束"}, campaign.Env{Actor: admin, Exists: true, Catalog: order.DefaultCatalog()})
	if err != nil || len(evs) != 1 {
		t.Fatalf("end: %v %v", evs, err)
	}
	s = campaign.Evolve(s, evs[0], domain.Envelope{AggregateID: "c-1"})
	if s.Covers("taoyuan", "repair", time.Date(2026, 11, 15, 2, 0, 0, 0, time.UTC), shanghai) {
		t.Error("an ended campaign still tags orders")
	}
}
