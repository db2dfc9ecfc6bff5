package order_test

import (
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
)

// TestEscalationRules covers the configurable rules: what each yields, with the rules on
// and off, and that an order already escalated is not escalated again.
func TestEscalationRules(t *testing.T) {
	rules := order.DefaultRules
	declineOnce := append(history(order.StatusDispatched), declined1, order.Dispatched{Member: "m-1"})
	atCommunity := append(history(order.StatusDispatched), order.Escalated{Level: order.LevelCommunity, Reason: "x"})
	late := t0.Add(25 * time.Hour) // past the normal accept deadline
	cases := []struct {
		name  string
		given []domain.Event
		cmd   order.Command
		by    domain.Actor
		at    time.Time
		rules order.Rules
		want  []domain.Event
	}{
		{"first decline only declines", history(order.StatusDispatched), order.Decline{Reason: "没空"}, member1, defaultNow, rules,
			[]domain.Event{order.Declined{Member: "m-1", Reason: "没空"}}},
		{"second decline goes up to the community", declineOnce, order.Decline{Reason: "还是没空"}, member1, defaultNow, rules,
			[]domain.Event{order.Declined{Member: "m-1", Reason: "还是没空"}, order.Escalated{Level: order.LevelCommunity, Reason: "已被退回2次，自动上报社区"}}},
		{"second decline with the rule off only declines", declineOnce, order.Decline{Reason: "还是没空"}, member1, defaultNow, order.Rules{},
			[]domain.Event{order.Declined{Member: "m-1", Reason: "还是没空"}}},
		{"overdue goes up to the community", history(order.StatusDispatched), order.MarkOverdue{Deadline: order.DeadlineAccept}, system, late, rules,
			[]domain.Event{order.MarkedOverdue{Deadline: order.DeadlineAccept, Due: t0.Add(24 * time.Hour)}, order.Escalated{Level: order.LevelCommunity, Reason: "超时未接单，自动上报社区"}}},
		{"overdue already at the community is only marked", atCommunity, order.MarkOverdue{Deadline: order.DeadlineAccept}, system, late, rules,
			[]domain.Event{order.MarkedOverdue{Deadline: order.DeadlineAccept, Due: t0.Add(24 * time.Hour)}}},
		{"overdue with the rule off is only marked", history(order.StatusDispatched), order.MarkOverdue{Deadline: order.DeadlineAccept}, system, late, order.Rules{},
			[]domain.Event{order.MarkedOverdue{Deadline: order.DeadlineAccept, Due: t0.Add(24 * time.Hour)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := order.Decide(given(t, c.given...), c.cmd, order.Env{Actor: c.by, Now: c.at, Catalog: catalog, Rules: c.rules})
			checkOutcome(t, got, err, yields(c.want...))
		})
	}
}
