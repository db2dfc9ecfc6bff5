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

func TestNormalPhone(t *testing.T) {
	for in, want := range map[string]string{
		"13812345678":        "13812345678",
		" 138 1234 5678 ":    "13812345678",
		"+86 138 1234 5678":  "13812345678",
		"+86-13812345678":    "13812345678",
		"0086 138-1234-5678": "13812345678",
		"8613812345678":      "13812345678",
		"199.1234.5678":      "19912345678",
		"0576-8888 1234":     "0576-88881234",
		"057688881234":       "0576-88881234",
		"(010) 8888 1234":    "010-88881234",
		"021-6888-1234":      "021-68881234",
		"0571-8765432":       "0571-8765432",
		"+86 576 8888 1234":  "0576-88881234",
		"+86 10 8888 1234":   "010-88881234",
	} {
		if got, ok := order.NormalPhone(in); !ok || got != want {
			t.Errorf("NormalPhone(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "12345", "96345", "110", "4008123123", "12812345678", "1381234567", "138123456789",
		"0576-0888123", "0576-888812345", "abc", "138-1234-567x", "13812345678+", "+86+13812345678", "00576-88881234"} {
		if got, ok := order.NormalPhone(bad); ok {
			t.Errorf("NormalPhone(%q) = %q, took it", bad, got)
		}
	}
}
