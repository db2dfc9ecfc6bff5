package order_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
)

func TestDecideDispatch(t *testing.T) {
	runScenarios(t, []scenario{
		{
			name:  "open order yields Dispatched to the member",
			given: history(order.StatusOpen), cmd: order.Dispatch{Member: ref1}, by: laneSteward,
			want: yields(order.Dispatched{Member: "m-1"}),
			then: all(wantStatus(order.StatusDispatched), wantAssignee("m-1")),
		},
		{
			name:  "steward of several lanes yields Dispatched",
			given: history(order.StatusOpen), cmd: order.Dispatch{Member: ref2}, by: coSteward,
			want: yields(order.Dispatched{Member: "m-2"}),
		},
		{
			name:  "member of another community yields Dispatched",
			given: history(order.StatusOpen), cmd: order.Dispatch{Member: refForeign}, by: laneSteward,
			want: yields(order.Dispatched{Member: "m-x"}),
		},
		{
			name:  "order open again after a decline yields Dispatched",
			given: append(history(order.StatusDispatched), declined1), cmd: order.Dispatch{Member: ref2}, by: laneSteward,
			want: yields(order.Dispatched{Member: "m-2"}),
			then: all(wantStatus(order.StatusDispatched), wantAssignee("m-2"), wantDeclines(1)),
		},
		{
			name:  "escalated order yields Dispatched",
			given: append(history(order.StatusOpen), order.Escalated{Level: order.LevelStreet, Reason: "x"}),
			cmd:   order.Dispatch{Member: ref1}, by: laneSteward,
			want: yields(order.Dispatched{Member: "m-1"}),
			then: all(wantStatus(order.StatusDispatched), wantEscalation(order.LevelStreet)),
		},
		{
			name:  "already dispatched order is refused conflict: a second steward loses the race",
			given: history(order.StatusDispatched), cmd: order.Dispatch{Member: ref2}, by: coSteward,
			want: refused(domain.KindConflict),
		},
		{
			name:  "dispatching again to the same member is refused conflict",
			given: history(order.StatusDispatched), cmd: order.Dispatch{Member: ref1}, by: laneSteward,
			want: refused(domain.KindConflict),
		},
		{
			name:  "claimed order is refused conflict",
			given: append(history(order.StatusOpen), order.Claimed{Member: "m-2"}), cmd: order.Dispatch{Member: ref1}, by: laneSteward,
			want: refused(domain.KindConflict),
		},
		{
			name:  "member without an id is invalid member",
			given: history(order.StatusOpen), cmd: order.Dispatch{}, by: laneSteward, want: invalid("member"),
		},
		{
			name:  "retired member is invalid member",
			given: history(order.StatusOpen), cmd: order.Dispatch{Member: refRetired}, by: laneSteward, want: invalid("member"),
		},
		{
			name:  "steward of another lane is refused forbidden",
			given: history(order.StatusOpen), cmd: order.Dispatch{Member: ref1}, by: otherSteward, want: refused(domain.KindForbidden),
		},
		{
			name: "order that was never submitted is refused not found",
			cmd:  order.Dispatch{Member: ref1}, by: laneSteward, want: refused(domain.KindNotFound),
		},
	})
}

func TestDecideReassign(t *testing.T) {
	runScenarios(t, []scenario{
		{
			name:  "dispatched order yields Reassigned to the new member",
			given: history(order.StatusDispatched), cmd: order.Reassign{Member: ref2, Reason: "刘党员生病"}, by: laneSteward,
			want: yields(order.Reassigned{From: "m-1", Member: "m-2", Reason: "刘党员生病"}),
			then: all(wantStatus(order.StatusDispatched), wantAssignee("m-2")),
		},
		{
			name:  "accepted order yields Reassigned and is dispatched again",
			given: history(order.StatusAccepted), cmd: order.Reassign{Member: ref2, Reason: "需要电工"}, by: coSteward,
			want: yields(order.Reassigned{From: "m-1", Member: "m-2", Reason: "需要电工"}),
			then: all(wantStatus(order.StatusDispatched), wantAssignee("m-2")),
		},
		{
			name:  "claimed order yields Reassigned from the claimer",
			given: append(history(order.StatusOpen), order.Claimed{Member: "m-2"}), cmd: order.Reassign{Member: ref1, Reason: "专业对口"}, by: laneSteward,
			want: yields(order.Reassigned{From: "m-2", Member: "m-1", Reason: "专业对口"}),
			then: all(wantStatus(order.StatusDispatched), wantAssignee("m-1")),
		},
		{
			name:  "reassigning to the same member is invalid member",
			given: history(order.StatusDispatched), cmd: order.Reassign{Member: ref1, Reason: "再派一次"}, by: laneSteward,
			want: invalid("member"),
		},
		{
			name:  "reassigning an accepted order to its member is invalid member",
			given: history(order.StatusAccepted), cmd: order.Reassign{Member: ref1, Reason: "再派一次"}, by: laneSteward,
			want: invalid("member"),
		},
		{
			name:  "blank reason is invalid reason",
			given: history(order.StatusDispatched), cmd: order.Reassign{Member: ref2, Reason: "  "}, by: laneSteward,
			want: invalid("reason"),
		},
		{
			name:  "reason of 501 characters is invalid reason",
			given: history(order.StatusDispatched), cmd: order.Reassign{Member: ref2, Reason: strings.Repeat("因", 501)}, by: laneSteward,
			want: invalid("reason"),
		},
		{
			name:  "retired member is invalid member",
			given: history(order.StatusDispatched), cmd: order.Reassign{Member: refRetired, Reason: "x"}, by: laneSteward,
			want: invalid("member"),
		},
		{
			name:  "missing member and reason is invalid member and reason",
			given: history(order.StatusDispatched), cmd: order.Reassign{}, by: laneSteward,
			want: invalid("member", "reason"),
		},
		{
			name:  "open order is refused conflict: dispatch it instead",
			given: history(order.StatusOpen), cmd: order.Reassign{Member: ref2, Reason: "x"}, by: laneSteward,
			want: refused(domain.KindConflict),
		},
		{
			name:  "completed order is refused conflict",
			given: history(order.StatusCompleted), cmd: order.Reassign{Member: ref2, Reason: "x"}, by: laneSteward,
			want: refused(domain.KindConflict),
		},
		{
			name:  "assigned member handing it on is refused forbidden",
			given: history(order.StatusDispatched), cmd: order.Reassign{Member: ref2, Reason: "x"}, by: member1,
			want: refused(domain.KindForbidden),
		},
	})
}

func TestDecideClaim(t *testing.T) {
	runScenarios(t, []scenario{
		{
			name:  "member of the community yields Claimed and the order is accepted",
			given: history(order.StatusOpen), cmd: order.Claim{Member: ref2}, by: member2,
			want: yields(order.Claimed{Member: "m-2", OnTime: true}),
			then: func(tb testing.TB, s order.State) {
				tb.Helper()
				all(wantStatus(order.StatusAccepted), wantAssignee("m-2"))(tb, s)
				if !s.AcceptedAt.Equal(defaultNow) {
					tb.Errorf("accepted at %v, want %v", s.AcceptedAt, defaultNow)
				}
			},
		},
		{
			name:  "member who declined it yields Claimed once it is open again",
			given: append(history(order.StatusDispatched), declined1), cmd: order.Claim{Member: ref1}, by: member1,
			want: yields(order.Claimed{Member: "m-1", OnTime: true}),
		},
		{
			name:  "member of another community is refused forbidden",
			given: history(order.StatusOpen), cmd: order.Claim{Member: refForeign}, by: foreignMember,
			want: refused(domain.KindForbidden),
		},
		{
			name:  "retired member is refused forbidden",
			given: history(order.StatusOpen), cmd: order.Claim{Member: refRetired}, by: domain.Actor{ID: "tok-m3", Role: domain.RoleMember, Member: "m-3"},
			want: refused(domain.KindForbidden),
		},
		{
			name:  "claiming for another member is refused forbidden",
			given: history(order.StatusOpen), cmd: order.Claim{Member: ref1}, by: member2,
			want: refused(domain.KindForbidden),
		},
		{
			name:  "member token bound to no member is refused forbidden",
			given: history(order.StatusOpen), cmd: order.Claim{Member: order.MemberRef{Community: "comm-1", Active: true}}, by: unboundMember,
			want: refused(domain.KindForbidden),
		},
		{
			name:  "steward claiming for a member is refused forbidden",
			given: history(order.StatusOpen), cmd: order.Claim{Member: ref2}, by: laneSteward,
			want: refused(domain.KindForbidden),
		},
		{
			name:  "dispatched order is refused conflict",
			given: history(order.StatusDispatched), cmd: order.Claim{Member: ref2}, by: member2,
			want: refused(domain.KindConflict),
		},
		{
			name:  "claimed order is refused conflict",
			given: append(history(order.StatusOpen), order.Claimed{Member: "m-1"}), cmd: order.Claim{Member: ref2}, by: member2,
			want: refused(domain.KindConflict),
		},
	})
}

func TestDecideAccept(t *testing.T) {
	urgent := []domain.Event{submitted(func(s *order.Submitted) {
		s.Priority, s.AcceptBy, s.CompleteBy = order.PriorityUrgent, t0.Add(30*time.Minute), t0.Add(4*time.Hour)
	}), dispatched1}
	runScenarios(t, []scenario{
		{
			name:  "dispatched member before the deadline yields Accepted on time",
			given: history(order.StatusDispatched), cmd: order.Accept{}, by: member1,
			want: yields(order.Accepted{Member: "m-1", OnTime: true}),
			then: func(tb testing.TB, s order.State) {
				tb.Helper()
				all(wantStatus(order.StatusAccepted), wantAssignee("m-1"))(tb, s)
				if !s.AcceptedAt.Equal(defaultNow) {
					tb.Errorf("accepted at %v, want %v", s.AcceptedAt, defaultNow)
				}
			},
		},
		{
			name:  "dispatched member at the deadline yields Accepted on time",
			given: history(order.StatusDispatched), cmd: order.Accept{}, by: member1, now: t0.Add(24 * time.Hour),
			want: yields(order.Accepted{Member: "m-1", OnTime: true}),
		},
		{
			name:  "dispatched member after the deadline yields Accepted late",
			given: history(order.StatusDispatched), cmd: order.Accept{}, by: member1, now: t0.Add(24*time.Hour + time.Second),
			want: yields(order.Accepted{Member: "m-1", OnTime: false}),
			then: wantStatus(order.StatusAccepted),
		},
		{
			name:  "urgent order accepted after 31 minutes yields Accepted late",
			given: urgent, cmd: order.Accept{}, by: member1, now: t0.Add(31 * time.Minute),
			want: yields(order.Accepted{Member: "m-1", OnTime: false}),
		},
		{
			name:  "urgent order accepted after 29 minutes yields Accepted on time",
			given: urgent, cmd: order.Accept{}, by: member1, now: t0.Add(29 * time.Minute),
			want: yields(order.Accepted{Member: "m-1", OnTime: true}),
		},
		{
			name: "reopened order judged by its new deadline yields Accepted on time",
			given: append(history(order.StatusClosed),
				order.Reopened{Reason: "x", AcceptBy: t0.Add(100 * time.Hour), CompleteBy: t0.Add(200 * time.Hour)}, dispatched1),
			cmd: order.Accept{}, by: member1, now: t0.Add(99 * time.Hour),
			want: yields(order.Accepted{Member: "m-1", OnTime: true}),
		},
		{
			name:  "new member after a reassignment yields Accepted",
			given: append(history(order.StatusDispatched), order.Reassigned{From: "m-1", Member: "m-2", Reason: "x"}),
			cmd:   order.Accept{}, by: member2,
			want: yields(order.Accepted{Member: "m-2", OnTime: true}),
		},
		{
			name:  "previous member after a reassignment is refused forbidden",
			given: append(history(order.StatusDispatched), order.Reassigned{From: "m-1", Member: "m-2", Reason: "x"}),
			cmd:   order.Accept{}, by: member1,
			want: refused(domain.KindForbidden),
		},
		{
			name:  "another member is refused forbidden",
			given: history(order.StatusDispatched), cmd: order.Accept{}, by: member2, want: refused(domain.KindForbidden),
		},
		{
			name:  "steward accepting for the member is refused forbidden",
			given: history(order.StatusDispatched), cmd: order.Accept{}, by: laneSteward, want: refused(domain.KindForbidden),
		},
		{
			name:  "accepting twice is refused conflict",
			given: history(order.StatusAccepted), cmd: order.Accept{}, by: member1, want: refused(domain.KindConflict),
		},
	})
}

func TestDecideDecline(t *testing.T) {
	runScenarios(t, []scenario{
		{
			name:  "dispatched member yields Declined and the order is open again",
			given: history(order.StatusDispatched), cmd: order.Decline{Reason: "不在本地"}, by: member1,
			want: yields(order.Declined{Member: "m-1", Reason: "不在本地"}),
			then: all(wantStatus(order.StatusOpen), wantAssignee(""), wantDeclines(1)),
		},
		{
			name:  "second decline yields Declined and counts two",
			given: append(history(order.StatusDispatched), declined1, order.Dispatched{Member: "m-2"}),
			cmd:   order.Decline{Reason: "没有工具"}, by: member2,
			want: yields(order.Declined{Member: "m-2", Reason: "没有工具"}),
			then: all(wantStatus(order.StatusOpen), wantAssignee(""), wantDeclines(2)),
		},
		{
			name:  "blank reason is invalid reason",
			given: history(order.StatusDispatched), cmd: order.Decline{Reason: "\n"}, by: member1, want: invalid("reason"),
		},
		{
			name:  "accepted order is refused conflict",
			given: history(order.StatusAccepted), cmd: order.Decline{Reason: "x"}, by: member1, want: refused(domain.KindConflict),
		},
		{
			name:  "another member is refused forbidden",
			given: history(order.StatusDispatched), cmd: order.Decline{Reason: "x"}, by: member2, want: refused(domain.KindForbidden),
		},
		{
			name:  "member token bound to no member is refused forbidden on an open order",
			given: history(order.StatusOpen), cmd: order.Decline{Reason: "x"}, by: unboundMember, want: refused(domain.KindForbidden),
		},
	})
}

func TestDecideComplete(t *testing.T) {
	runScenarios(t, []scenario{
		{
			name:  "assigned member before the deadline yields Completed on time",
			given: history(order.StatusAccepted), cmd: order.Complete{Note: "换了阀门", Minutes: 45}, by: member1,
			want: yields(order.Completed{Member: "m-1", Note: "换了阀门", Minutes: 45, OnTime: true}),
			then: all(wantStatus(order.StatusCompleted), wantAssignee("m-1")),
		},
		{
			name:  "assigned member at the deadline yields Completed on time",
			given: history(order.StatusAccepted), cmd: order.Complete{Note: "ok", Minutes: 1}, by: member1, now: t0.Add(72 * time.Hour),
			want: yields(order.Completed{Member: "m-1", Note: "ok", Minutes: 1, OnTime: true}),
		},
		{
			name:  "assigned member after the deadline yields Completed late",
			given: history(order.StatusAccepted), cmd: order.Complete{Note: "ok", Minutes: 10080}, by: member1, now: t0.Add(73 * time.Hour),
			want: yields(order.Completed{Member: "m-1", Note: "ok", Minutes: 10080, OnTime: false}),
		},
		{
			name:  "member who claimed it yields Completed",
			given: append(history(order.StatusOpen), order.Claimed{Member: "m-2"}), cmd: order.Complete{Note: "ok", Minutes: 5}, by: member2,
			want: yields(order.Completed{Member: "m-2", Note: "ok", Minutes: 5, OnTime: true}),
		},
		{
			name:  "blank note is invalid note",
			given: history(order.StatusAccepted), cmd: order.Complete{Note: " ", Minutes: 5}, by: member1, want: invalid("note"),
		},
		{
			name:  "zero minutes is invalid minutes",
			given: history(order.StatusAccepted), cmd: order.Complete{Note: "ok"}, by: member1, want: invalid("minutes"),
		},
		{
			name:  "negative minutes is invalid minutes",
			given: history(order.StatusAccepted), cmd: order.Complete{Note: "ok", Minutes: -5}, by: member1, want: invalid("minutes"),
		},
		{
			name:  "more than a week of minutes is invalid minutes",
			given: history(order.StatusAccepted), cmd: order.Complete{Note: "ok", Minutes: 10081}, by: member1, want: invalid("minutes"),
		},
		{
			name:  "missing note and minutes is invalid note and minutes",
			given: history(order.StatusAccepted), cmd: order.Complete{}, by: member1, want: invalid("note", "minutes"),
		},
		{
			name:  "dispatched order not yet accepted is refused conflict",
			given: history(order.StatusDispatched), cmd: order.Complete{Note: "ok", Minutes: 5}, by: member1, want: refused(domain.KindConflict),
		},
		{
			name:  "completing twice is refused conflict",
			given: history(order.StatusCompleted), cmd: order.Complete{Note: "ok", Minutes: 5}, by: member1, want: refused(domain.KindConflict),
		},
		{
			name:  "another member is refused forbidden",
			given: history(order.StatusAccepted), cmd: order.Complete{Note: "ok", Minutes: 5}, by: member2, want: refused(domain.KindForbidden),
		},
	})
}
