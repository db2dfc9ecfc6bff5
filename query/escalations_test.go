package query_test

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/query"
)

// escalated makes an order document escalated to level in community and street.
func escalated(id, community, street string, level order.Level, st order.Status, ago time.Duration) backlog.Order {
	d := doc("lane-"+community, id, ago, st)
	d.Community, d.Street, d.Escalation, d.Reached = community, street, level, level
	at := now.Add(-ago / 2)
	d.EscalatedAt, d.EscalationReason = &at, "需要协调"
	return d
}

// TestEscalationBoards: a board lists the unfinished orders escalated to its level in its
// places, page by page, and nothing else.
func TestEscalationBoards(t *testing.T) {
	x := newIndex()
	for i := range 7 {
		x.Put(escalated("c"+string(rune('0'+i)), "taoyuan", "dongcheng", order.LevelCommunity, order.StatusOpen, time.Duration(i+1)*time.Hour))
	}
	x.Put(escalated("s1", "taoyuan", "dongcheng", order.LevelStreet, order.StatusDispatched, time.Hour))
	x.Put(escalated("y1", "yingchun", "xicheng", order.LevelCommunity, order.StatusAccepted, time.Hour))
	x.Put(escalated("done", "taoyuan", "dongcheng", order.LevelCommunity, order.StatusCompleted, time.Hour))
	x.Put(escalated("gone", "taoyuan", "dongcheng", order.LevelCommunity, order.StatusCancelled, time.Hour))
	x.Put(doc("lane-taoyuan", "lane1", time.Hour, order.StatusOpen))

	all := func(q query.EscalationQuery) ([]string, int) {
		t.Helper()
		var ids []string
		total := -1
		for range 100 {
			p, err := x.Escalations(q)
			if err != nil {
				t.Fatal(err)
			}
			if total < 0 {
				total = p.Total
			}
			for _, it := range p.Items {
				ids = append(ids, it.ID)
			}
			if p.Next == "" {
				return ids, total
			}
			q.Cursor = p.Next
		}
		t.Fatal("paging does not end")
		return nil, 0
	}
	ids, total := all(query.EscalationQuery{Level: order.LevelCommunity, Communities: []string{"taoyuan"}, Sort: query.SortAge, Limit: 3, Now: now})
	if want := []string{"c6", "c5", "c4", "c3", "c2", "c1", "c0"}; !slices.Equal(ids, want) || total != 7 {
		t.Errorf("taoyuan's board: %v (total %d), want %v", ids, total, want)
	}
	if ids, _ := all(query.EscalationQuery{Level: order.LevelStreet, Streets: []string{"dongcheng"}, Now: now}); !slices.Equal(ids, []string{"s1"}) {
		t.Errorf("dongcheng's board: %v, want [s1]", ids)
	}
	if ids, _ := all(query.EscalationQuery{Level: order.LevelCommunity, Communities: []string{"yingchun"}, Now: now}); !slices.Equal(ids, []string{"y1"}) {
		t.Errorf("yingchun's board: %v, want [y1]", ids)
	}
	if ids, _ := all(query.EscalationQuery{Level: order.LevelCommunity, Communities: []string{}, Now: now}); len(ids) != 0 {
		t.Errorf("a board of no communities: %v, want none", ids)
	}
	// Sent back to the lane, an order leaves the board.
	back := escalated("c0", "taoyuan", "dongcheng", order.LevelLane, order.StatusOpen, time.Hour)
	x.Put(back)
	if ids, _ := all(query.EscalationQuery{Level: order.LevelCommunity, Communities: []string{"taoyuan"}, Now: now}); slices.Contains(ids, "c0") || len(ids) != 6 {
		t.Errorf("after c0 went back to its lane: %v", ids)
	}
	for field, v := range map[string]url.Values{
		"escalation": {"escalation": {"lane"}},
		"status":     {"escalation": {"community"}, "status": {"closed"}},
		"sort":       {"escalation": {"street"}, "sort": {"name"}},
		"limit":      {"escalation": {"street"}, "limit": {"501"}},
	} {
		_, err := query.ParseEscalationQuery(v, now)
		if de, ok := err.(*domain.Error); !ok || len(de.Fields) != 1 || de.Fields[0].Field != field {
			t.Errorf("a bad %s: %v", field, err)
		}
	}
}

// TestWhoListsEscalations: the offices list their own level in their own places.
func TestWhoListsEscalations(t *testing.T) {
	c := domain.Actor{Role: domain.RoleCommunity, Communities: []string{"taoyuan"}}
	s := domain.Actor{Role: domain.RoleStreet, Streets: []string{"dongcheng"}}
	cases := []struct {
		name         string
		actor        domain.Actor
		level        order.Level
		ok           bool
		comms, strts []string
	}{
		{"community staff, community level", c, order.LevelCommunity, true, []string{"taoyuan"}, nil},
		{"community staff, street level", c, order.LevelStreet, false, nil, nil},
		{"street staff, street level", s, order.LevelStreet, true, nil, []string{"dongcheng"}},
		{"street staff, community level", s, order.LevelCommunity, false, nil, nil},
		{"an auditor", domain.Actor{Role: domain.RoleAuditor}, order.LevelStreet, true, nil, nil},
		{"a steward", domain.Actor{Role: domain.RoleSteward, Lanes: []string{"l"}}, order.LevelCommunity, false, nil, nil},
		{"a member", domain.Actor{Role: domain.RoleMember, Member: "m-1"}, order.LevelCommunity, false, nil, nil},
	}
	if ok, comms, _ := query.MayListEscalations(domain.Actor{Role: domain.RoleCommunity}, order.LevelCommunity); !ok || comms == nil {
		t.Error("community staff bound to nothing would list every community")
	}
	for _, tc := range cases {
		ok, comms, strts := query.MayListEscalations(tc.actor, tc.level)
		if ok != tc.ok || (ok && (!slices.Equal(comms, tc.comms) || !slices.Equal(strts, tc.strts))) {
			t.Errorf("%s: %v %v %v, want %v %v %v", tc.name, ok, comms, strts, tc.ok, tc.comms, tc.strts)
		}
	}
}
