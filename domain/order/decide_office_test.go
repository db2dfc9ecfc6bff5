package order_test

import (
	"testing"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
)

// Escalations of the standard histories.
var (
	toCommunity = order.Escalated{Level: order.LevelCommunity, Reason: "需要社区协调"}
	toStreet    = order.Escalated{Level: order.LevelStreet, Reason: "跨社区的问题"}
)

// at appends escalations to the standard history of st.
func at(st order.Status, escalations ...domain.Event) []domain.Event {
	return append(history(st), escalations...)
}

// TestOfficeTakesEscalatedOrders pins rules 9 and 10: the office an order is escalated to
// dispatches, reassigns, sends up, sends back and closes it; nobody else of its kind does.
func TestOfficeTakesEscalatedOrders(t *testing.T) {
	refC2 := order.MemberRef{ID: "m-x", Community: "comm-2", Active: true}
	runScenarios(t, []scenario{
		// Dispatch.
		{name: "community staff dispatch an order at community level to a member of its community",
			given: at(order.StatusOpen, toCommunity), cmd: order.Dispatch{Member: ref2}, by: community1,
			want: yields(order.Dispatched{Member: "m-2"}), then: all(wantStatus(order.StatusDispatched), wantAssignee("m-2"), wantEscalation(order.LevelCommunity))},
		{name: "street staff dispatch an order at street level to a member of its community",
			given: at(order.StatusOpen, toCommunity, toStreet), cmd: order.Dispatch{Member: ref1}, by: street1,
			want: yields(order.Dispatched{Member: "m-1"})},
		{name: "community staff dispatching to a member of another community is invalid member",
			given: at(order.StatusOpen, toCommunity), cmd: order.Dispatch{Member: refC2}, by: community1, want: invalid("member")},
		{name: "street staff dispatching to a member of another community is invalid member",
			given: at(order.StatusOpen, toStreet), cmd: order.Dispatch{Member: refC2}, by: street1, want: invalid("member")},
		{name: "community staff dispatching to a retired member is invalid member",
			given: at(order.StatusOpen, toCommunity), cmd: order.Dispatch{Member: refRetired}, by: community1, want: invalid("member")},
		{name: "community staff dispatching an order still at lane level is refused forbidden",
			given: at(order.StatusOpen), cmd: order.Dispatch{Member: ref2}, by: community1, want: refused(domain.KindForbidden)},
		{name: "community staff dispatching an order gone up to the street is refused forbidden",
			given: at(order.StatusOpen, toCommunity, toStreet), cmd: order.Dispatch{Member: ref2}, by: community1, want: refused(domain.KindForbidden)},
		{name: "street staff dispatching an order at community level is refused forbidden",
			given: at(order.StatusOpen, toCommunity), cmd: order.Dispatch{Member: ref2}, by: street1, want: refused(domain.KindForbidden)},
		{name: "staff of another community dispatching is refused forbidden",
			given: at(order.StatusOpen, toCommunity), cmd: order.Dispatch{Member: ref2}, by: community2, want: refused(domain.KindForbidden)},
		{name: "staff of another street dispatching is refused forbidden",
			given: at(order.StatusOpen, toStreet), cmd: order.Dispatch{Member: ref2}, by: street2, want: refused(domain.KindForbidden)},
		{name: "community staff dispatching a dispatched order is refused conflict",
			given: at(order.StatusDispatched, toCommunity), cmd: order.Dispatch{Member: ref2}, by: community1, want: refused(domain.KindConflict)},
		{name: "the lane's steward still dispatches an escalated order",
			given: at(order.StatusOpen, toCommunity), cmd: order.Dispatch{Member: refForeign}, by: laneSteward, want: yields(order.Dispatched{Member: "m-x"})},

		// Reassign.
		{name: "community staff reassign an accepted order within the community",
			given: at(order.StatusAccepted, toCommunity), cmd: order.Reassign{Member: ref2, Reason: "换人"}, by: community1,
			want: yields(order.Reassigned{From: "m-1", Member: "m-2", Reason: "换人"}), then: all(wantStatus(order.StatusDispatched), wantAssignee("m-2"))},
		{name: "street staff reassign a dispatched order within the community",
			given: at(order.StatusDispatched, toStreet), cmd: order.Reassign{Member: ref2, Reason: "换人"}, by: street1,
			want: yields(order.Reassigned{From: "m-1", Member: "m-2", Reason: "换人"})},
		{name: "community staff reassigning to a member of another community is invalid member",
			given: at(order.StatusDispatched, toCommunity), cmd: order.Reassign{Member: refC2, Reason: "换人"}, by: community1, want: invalid("member")},
		{name: "community staff reassigning without a reason is invalid reason",
			given: at(order.StatusDispatched, toCommunity), cmd: order.Reassign{Member: ref2}, by: community1, want: invalid("reason")},
		{name: "community staff reassigning an order at lane level is refused forbidden",
			given: at(order.StatusDispatched), cmd: order.Reassign{Member: ref2, Reason: "换人"}, by: community1, want: refused(domain.KindForbidden)},

		// Escalate.
		{name: "community staff send an order on up to the street",
			given: at(order.StatusOpen, toCommunity), cmd: order.Escalate{Level: order.LevelStreet, Reason: "跨社区"}, by: community1,
			want: yields(order.Escalated{Level: order.LevelStreet, Reason: "跨社区"}), then: wantEscalation(order.LevelStreet)},
		{name: "community staff escalating to the community again is refused conflict",
			given: at(order.StatusOpen, toCommunity), cmd: order.Escalate{Level: order.LevelCommunity, Reason: "再报"}, by: community1, want: refused(domain.KindConflict)},
		{name: "street staff escalating further is refused conflict",
			given: at(order.StatusOpen, toStreet), cmd: order.Escalate{Level: order.LevelStreet, Reason: "再报"}, by: street1, want: refused(domain.KindConflict)},
		{name: "community staff escalating an order at lane level is refused forbidden",
			given: at(order.StatusOpen), cmd: order.Escalate{Level: order.LevelStreet, Reason: "跨社区"}, by: community1, want: refused(domain.KindForbidden)},
		{name: "staff of another community escalating is refused forbidden",
			given: at(order.StatusOpen, toCommunity), cmd: order.Escalate{Level: order.LevelStreet, Reason: "跨社区"}, by: community2, want: refused(domain.KindForbidden)},
		{name: "community staff escalating a completed order is refused conflict",
			given: at(order.StatusCompleted, toCommunity), cmd: order.Escalate{Level: order.LevelStreet, Reason: "跨社区"}, by: community1, want: refused(domain.KindConflict)},

		// Return.
		{name: "community staff send an order back to the lane",
			given: at(order.StatusDispatched, toCommunity), cmd: order.Return{Reason: " 街巷可以处理 "}, by: community1,
			want: yields(order.Returned{From: order.LevelCommunity, Level: order.LevelLane, Reason: "街巷可以处理"}),
			then: all(wantEscalation(order.LevelLane), wantStatus(order.StatusDispatched), wantAssignee("m-1"), func(tb testing.TB, s order.State) {
				tb.Helper()
				if s.Reached != order.LevelCommunity {
					tb.Errorf("reached = %q, want community", s.Reached)
				}
			})},
		{name: "street staff send an order back to the community",
			given: at(order.StatusOpen, toCommunity, toStreet), cmd: order.Return{Reason: "社区先协调"}, by: street1,
			want: yields(order.Returned{From: order.LevelStreet, Level: order.LevelCommunity, Reason: "社区先协调"}), then: wantEscalation(order.LevelCommunity)},
		{name: "a return resets the lane's declines",
			given: at(order.StatusOpen, declined1, dispatched1, declined1, toCommunity), cmd: order.Return{Reason: "再试一次"}, by: community1,
			want: yields(order.Returned{From: order.LevelCommunity, Level: order.LevelLane, Reason: "再试一次"}), then: all(wantDeclines(0), wantEscalation(order.LevelLane))},
		{name: "community staff returning without a reason is invalid reason",
			given: at(order.StatusOpen, toCommunity), cmd: order.Return{Reason: "  "}, by: community1, want: invalid("reason")},
		{name: "community staff returning an order at lane level is refused forbidden",
			given: at(order.StatusOpen), cmd: order.Return{Reason: "退回"}, by: community1, want: refused(domain.KindForbidden)},
		{name: "community staff returning an order at street level is refused forbidden",
			given: at(order.StatusOpen, toStreet), cmd: order.Return{Reason: "退回"}, by: community1, want: refused(domain.KindForbidden)},
		{name: "the lane's steward returning an escalated order is refused forbidden",
			given: at(order.StatusOpen, toCommunity), cmd: order.Return{Reason: "退回"}, by: laneSteward, want: refused(domain.KindForbidden)},
		{name: "staff of another street returning is refused forbidden",
			given: at(order.StatusOpen, toStreet), cmd: order.Return{Reason: "退回"}, by: street2, want: refused(domain.KindForbidden)},
		{name: "community staff returning a completed order is refused conflict",
			given: at(order.StatusCompleted, toCommunity), cmd: order.Return{Reason: "退回"}, by: community1, want: refused(domain.KindConflict)},
		{name: "an order sent back down goes up again",
			given: at(order.StatusOpen, toCommunity, order.Returned{From: order.LevelCommunity, Level: order.LevelLane, Reason: "退回"}),
			cmd:   order.Escalate{Level: order.LevelCommunity, Reason: "街巷仍无法处理"}, by: laneSteward,
			want: yields(order.Escalated{Level: order.LevelCommunity, Reason: "街巷仍无法处理"})},
		{name: "community staff no longer act on an order they sent back",
			given: at(order.StatusOpen, toCommunity, order.Returned{From: order.LevelCommunity, Level: order.LevelLane, Reason: "退回"}),
			cmd:   order.Dispatch{Member: ref2}, by: community1, want: refused(domain.KindForbidden)},

		// Close.
		{name: "community staff close an order, which ends cancelled",
			given: at(order.StatusAccepted, toCommunity), cmd: order.Close{Reason: "已转交城管部门"}, by: community1,
			want: yields(order.Cancelled{Reason: "已转交城管部门"}), then: wantStatus(order.StatusCancelled)},
		{name: "street staff close an open order",
			given: at(order.StatusOpen, toStreet), cmd: order.Close{Reason: "重复诉求"}, by: street1,
			want: yields(order.Cancelled{Reason: "重复诉求"}), then: wantStatus(order.StatusCancelled)},
		{name: "community staff closing without a reason is invalid reason",
			given: at(order.StatusOpen, toCommunity), cmd: order.Close{}, by: community1, want: invalid("reason")},
		{name: "community staff closing a completed order is refused conflict",
			given: at(order.StatusCompleted, toCommunity), cmd: order.Close{Reason: "结束"}, by: community1, want: refused(domain.KindConflict)},
		{name: "community staff closing an order at street level is refused forbidden",
			given: at(order.StatusOpen, toStreet), cmd: order.Close{Reason: "结束"}, by: community1, want: refused(domain.KindForbidden)},
		{name: "the lane's steward closing is refused forbidden (a steward cancels)",
			given: at(order.StatusOpen, toCommunity), cmd: order.Close{Reason: "结束"}, by: laneSteward, want: refused(domain.KindForbidden)},
		{name: "community staff cancelling is refused forbidden (an office closes)",
			given: at(order.StatusOpen, toCommunity), cmd: order.Cancel{Reason: "结束"}, by: community1, want: refused(domain.KindForbidden)},

		// What stays the lane's and the member's.
		{name: "community staff rating is refused forbidden",
			given: at(order.StatusCompleted, toCommunity), cmd: order.Rate{Solved: ptr(true), Stars: 5}, by: community1, want: refused(domain.KindForbidden)},
		{name: "community staff reopening is refused forbidden",
			given: at(order.StatusClosed, toCommunity), cmd: order.Reopen{Reason: "又坏了"}, by: community1, want: refused(domain.KindForbidden)},
		{name: "community staff claiming is refused forbidden",
			given: at(order.StatusOpen, toCommunity), cmd: order.Claim{Member: ref2}, by: community1, want: refused(domain.KindForbidden)},
	})
}

// TestOfficeRefusalCodes pins the codes an office's refusals carry.
func TestOfficeRefusalCodes(t *testing.T) {
	cases := []struct {
		name  string
		given []domain.Event
		cmd   order.Command
		by    domain.Actor
		code  domain.Code
	}{
		{"a member of another community", at(order.StatusOpen, toCommunity), order.Dispatch{Member: order.MemberRef{ID: "m-x", Community: "comm-2", Active: true}}, community1, domain.CodeOutsideCommunity},
		{"an office the order is not with", at(order.StatusOpen), order.Return{Reason: "退回"}, community1, domain.CodeOfficeOnly},
		{"a steward sending back", at(order.StatusOpen, toCommunity), order.Close{Reason: "结束"}, laneSteward, domain.CodeOfficeOnly},
		{"a steward of another lane dispatching", at(order.StatusOpen, toCommunity), order.Dispatch{Member: ref2}, otherSteward, domain.CodeLaneStewardOnly},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is "+string(tc.code), func(t *testing.T) {
			_, err := order.Decide(given(t, tc.given...), tc.cmd, order.Env{Actor: tc.by, Now: defaultNow, Catalog: catalog})
			if got := domain.CodeOf(err); got != tc.code {
				t.Fatalf("code %s (%v), want %s", got, err, tc.code)
			}
		})
	}
}
