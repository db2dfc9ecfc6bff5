package backlog_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/redlane/redlane/domain/community"
	"github.com/redlane/redlane/domain/lane"
	"github.com/redlane/redlane/domain/street"
	"github.com/redlane/redlane/projections/backlog"
)

// TestLaneDocumentNamesItsPlaces: a lane's document carries its community's and street's
// names beside their ids once they are registered, follows a rename, and keeps them
// through a restore; a lane of an unregistered community has no names.
func TestLaneDocumentNamesItsPlaces(t *testing.T) {
	h := newHistory(t)
	h.Add(t0, street.AggregateType, "dongcheng", street.Registered{Name: "东城街道"})
	h.Add(t0, community.AggregateType, "taoyuan", community.Registered{Name: "塔苑社区", Street: "dongcheng"})
	h.Lane(t0, laneA, registered)
	h.Lane(t0, "kongyuan", lane.Registered{Name: "孔园", Community: "yingchun", Street: "xicheng"})
	v := backlog.New()
	apply(t, v, h.Recs)
	doc := laneDoc(t, v, laneA)
	if doc.CommunityName != "塔苑社区" || doc.StreetName != "东城街道" || doc.Community != "taoyuan" {
		t.Errorf("lane document = %+v, want taoyuan named 塔苑社区 in 东城街道", doc)
	}
	if doc := laneDoc(t, v, "kongyuan"); doc.CommunityName != "" || doc.StreetName != "" {
		t.Errorf("a lane of unregistered places is named: %+v", doc)
	}

	rename := h.Add(t0.Add(time.Minute), community.AggregateType, "taoyuan", community.Renamed{Name: "塔苑新社区"})
	keys := v.Apply(rename, decode(t, rename))
	if want := []string{"community.taoyuan", backlog.LaneKey(laneA)}; !slices.Equal(keys, want) {
		t.Errorf("a rename changed %v, want %v", keys, want)
	}
	if doc := laneDoc(t, v, laneA); doc.CommunityName != "塔苑新社区" || doc.Seq != rename.Seq {
		t.Errorf("after the rename the lane document is %+v", doc)
	}
	if got := string(v.Doc("community.taoyuan")); got != `{"name":"塔苑新社区","street":"dongcheng","seq":`+itoa(rename.Seq)+`}` {
		t.Errorf("community document = %s", got)
	}

	r := backlog.New()
	for _, k := range []string{"street.dongcheng", "community.taoyuan", backlog.LaneKey(laneA)} {
		if err := r.Restore(k, v.Doc(k)); err != nil {
			t.Fatal(err)
		}
	}
	if doc := laneDoc(t, r, laneA); doc.CommunityName != "塔苑新社区" || doc.StreetName != "东城街道" {
		t.Errorf("restored lane document = %+v", doc)
	}
}

func laneDoc(tb testing.TB, v *backlog.View, id string) backlog.Lane {
	tb.Helper()
	var d backlog.Lane
	if err := json.Unmarshal(v.Doc(backlog.LaneKey(id)), &d); err != nil {
		tb.Fatal(err)
	}
	return d
}

func itoa(n uint64) string { b, _ := json.Marshal(n); return string(b) }
