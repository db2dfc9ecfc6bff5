package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/street"
	"github.com/redlane/redlane/service"
)

// TestPlacesNamedAndChecked: streets and communities are registered with their names, a
// new process's directory knows them, and a lane in a registered community must be in
// its street, while a lane in a community never registered is taken as before.
func TestPlacesNamedAndChecked(t *testing.T) {
	clock := &fakeClock{}
	clock.Set(time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC))
	d := newDesk(t, clock)
	ctx := context.Background()
	m := d.svc.Meta(service.Admin, "")

	if _, err := d.svc.RegisterCommunity(ctx, m, "taoyuan", community.Register{Name: "塔苑社区", Street: "dongcheng"}); domain.KindOf(err) != domain.KindInvalid {
		t.Fatalf("a community in an unregistered street: %v, want invalid", err)
	}
	if _, err := d.svc.RegisterStreet(ctx, m, "dongcheng", street.Register{Name: "东城街道"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.RegisterStreet(ctx, m, "xicheng", street.Register{Name: "西城街道"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.RegisterCommunity(ctx, m, "taoyuan", community.Register{Name: " 塔苑社区 ", Street: "dongcheng"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.RegisterLane(ctx, m, "kongyuan", lane.Register{Name: "孔园", Community: "taoyuan", Street: "xicheng"}); domain.KindOf(err) != domain.KindInvalid {
		t.Errorf("a lane in another street than its community's: %v, want invalid", err)
	}
	if _, err := d.svc.RegisterLane(ctx, m, "rouqiao", lane.Register{Name: "柔桥后巷", Community: "taoyuan", Street: "dongcheng"}); err != nil {
		t.Errorf("a lane in its community's street: %v", err)
	}
	if _, err := d.svc.RegisterLane(ctx, m, "wudong", lane.Register{Name: "五洞桥", Community: "unnamed", Street: "anywhere"}); err != nil {
		t.Errorf("a lane in a community never registered: %v", err)
	}
	if _, err := d.svc.RenameCommunity(ctx, m, "taoyuan", community.Rename{Name: "塔苑新社区"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.RenameStreet(ctx, m, "nowhere", street.Rename{Name: "x"}); domain.KindOf(err) != domain.KindNotFound {
		t.Errorf("renaming a missing street: %v, want not found", err)
	}

	d.open() // a new process, whose directory is loaded from the log
	if name, ok := d.svc.Dir.CommunityName("taoyuan"); !ok || name != "塔苑新社区" {
		t.Errorf("community name = %q, %v; want 塔苑新社区", name, ok)
	}
	if name, ok := d.svc.Dir.StreetName("dongcheng"); !ok || name != "东城街道" {
		t.Errorf("street name = %q, %v; want 东城街道", name, ok)
	}
	if _, ok := d.svc.Dir.CommunityName("unnamed"); ok {
		t.Error("a community never registered has a name")
	}
	if got := len(d.svc.Dir.Streets()); got != 2 {
		t.Errorf("%d streets listed, want 2", got)
	}
	if cs := d.svc.Dir.Communities(); len(cs) != 1 || cs[0].Street != "dongcheng" {
		t.Errorf("communities = %+v, want taoyuan in dongcheng", cs)
	}
}
