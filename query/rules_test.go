package query_test

import (
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
	"github.com/redlane/redlane/projections/backlog"
	"github.com/redlane/redlane/query"
)

func TestWhoSeesWhat(t *testing.T) {
	place := query.Place{Lane: "rouqiao-houxiang", Community: "taoyuan", Assignee: "m-1"}
	steward := domain.Actor{Role: domain.RoleSteward, Lanes: []string{"rouqiao-houxiang"}}
	otherSteward := domain.Actor{Role: domain.RoleSteward, Lanes: []string{"wudongqiao"}}
	assigned := domain.Actor{Role: domain.RoleMember, Member: "m-1"}
	neighbour := domain.Actor{Role: domain.RoleMember, Member: "m-2"}
	outsider := domain.Actor{Role: domain.RoleMember, Member: "m-9"}
	cases := []struct {
		name       string
		actor      domain.Actor
		community  string // the member's
		status     order.Status
		read, full bool
	}{
		{"the lane's steward", steward, "", order.StatusOpen, true, true},
		{"another lane's steward", otherSteward, "", order.StatusOpen, false, false},
		{"the assigned member, dispatched", assigned, "taoyuan", order.StatusDispatched, true, true},
		{"the assigned member, accepted", assigned, "taoyuan", order.StatusAccepted, true, true},
		{"the assigned member, after completing", assigned, "taoyuan", order.StatusCompleted, true, false},
		{"the assigned member, once closed", assigned, "taoyuan", order.StatusClosed, true, false},
		{"a member of the community", neighbour, "taoyuan", order.StatusDispatched, true, false},
		{"a member of another community", outsider, "yingchun", order.StatusDispatched, false, false},
		{"an auditor", domain.Actor{Role: domain.RoleAuditor}, "", order.StatusAccepted, true, false},
		{"a hotline operator", domain.Actor{Role: domain.RoleOperator}, "", order.StatusAccepted, true, false},
		{"an admin", domain.Actor{Role: domain.RoleAdmin}, "", order.StatusAccepted, true, false},
		{"a member token with no member", domain.Actor{Role: domain.RoleMember}, "", order.StatusDispatched, false, false},
	}
	// The offices read what reached them, the phone masked.
	taoyuan := domain.Actor{Role: domain.RoleCommunity, Communities: []string{"taoyuan"}}
	yingchun := domain.Actor{Role: domain.RoleCommunity, Communities: []string{"yingchun"}}
	dongcheng := domain.Actor{Role: domain.RoleStreet, Streets: []string{"dongcheng"}}
	offices := []struct {
		name    string
		actor   domain.Actor
		reached order.Level
		read    bool
	}{
		{"community staff, an order never escalated", taoyuan, "", false},
		{"community staff, an order at lane level", taoyuan, order.LevelLane, false},
		{"community staff, an order that reached the community", taoyuan, order.LevelCommunity, true},
		{"community staff, an order that reached the street", taoyuan, order.LevelStreet, true},
		{"staff of another community", yingchun, order.LevelCommunity, false},
		{"street staff, an order that reached only the community", dongcheng, order.LevelCommunity, false},
		{"street staff, an order that reached the street", dongcheng, order.LevelStreet, true},
		{"staff of another street", domain.Actor{Role: domain.RoleStreet, Streets: []string{"xicheng"}}, order.LevelStreet, false},
	}
	for _, tc := range offices {
		p := query.Place{Lane: "rouqiao-houxiang", Community: "taoyuan", Street: "dongcheng", Assignee: "m-1", Reached: tc.reached}
		if got := query.MayRead(tc.actor, p, ""); got != tc.read {
			t.Errorf("%s: MayRead %v, want %v", tc.name, got, tc.read)
		}
		if query.SeesPhone(tc.actor, p, order.StatusDispatched) {
			t.Errorf("%s: sees the whole phone", tc.name)
		}
	}
	for _, tc := range cases {
		if got := query.MayRead(tc.actor, place, tc.community); got != tc.read {
			t.Errorf("%s: MayRead %v, want %v", tc.name, got, tc.read)
		}
		if got := query.SeesPhone(tc.actor, place, tc.status); got != tc.full {
			t.Errorf("%s: SeesPhone %v, want %v", tc.name, got, tc.full)
		}
	}
	if !query.MaySearch(steward) || query.MaySearch(assigned) || query.MaySearch(domain.Actor{Role: domain.RoleResident}) {
		t.Error("MaySearch: stewards search; members and residents do not")
	}
}

func TestOverdueAsOfNow(t *testing.T) {
	sub := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	it := backlog.Item{SubmittedAt: sub, AcceptBy: sub.Add(time.Hour), CompleteBy: sub.Add(3 * time.Hour)}
	cases := []struct {
		status order.Status
		at     time.Duration
		due    []order.DeadlineKind
	}{
		{order.StatusOpen, 30 * time.Minute, nil},
		{order.StatusOpen, 2 * time.Hour, []order.DeadlineKind{order.DeadlineAccept}},
		{order.StatusDispatched, 4 * time.Hour, []order.DeadlineKind{order.DeadlineAccept, order.DeadlineComplete}},
		{order.StatusAccepted, 2 * time.Hour, nil},
		{order.StatusAccepted, 4 * time.Hour, []order.DeadlineKind{order.DeadlineComplete}},
		{order.StatusCompleted, 9 * time.Hour, nil},
		{order.StatusClosed, 9 * time.Hour, nil},
	}
	for _, tc := range cases {
		it.Status = tc.status
		got := query.DueDeadlines(it, sub.Add(tc.at))
		if len(got) != len(tc.due) || (len(got) > 0 && got[0] != tc.due[0]) {
			t.Errorf("%s at +%s: due %v, want %v", tc.status, tc.at, got, tc.due)
		}
		if query.PastDue(it, sub.Add(tc.at)) != (len(tc.due) > 0) {
			t.Errorf("%s at +%s: PastDue disagrees", tc.status, tc.at)
		}
	}
	it.Status, it.Overdue = order.StatusCompleted, true
	if !query.Overdue(it, sub) {
		t.Error("an order marked overdue is overdue")
	}
	at := sub.Add(time.Hour)
	it.CompletedAt = &at
	if query.AwaitingCallback(it, sub.Add(2*time.Hour), 3*time.Hour) || !query.AwaitingCallback(it, sub.Add(4*time.Hour), 3*time.Hour) {
		t.Error("the call-back list takes completed orders after the wait, not before")
	}
}
