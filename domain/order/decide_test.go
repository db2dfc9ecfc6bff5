package order_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
)

// submitCmd is a valid request to lane-1, changed by changes.
func submitCmd(changes ...func(*order.Submit)) order.Submit {
	c := order.Submit{
		Number: "R-20250301-0001", Lane: lane1, Category: "repair", Title: "厨房水管漏水", Description: "楼下也在渗水",
		Requester: order.Requester{Name: "张阿姨", Phone: "13812345678"},
	}
	for _, ch := range changes {
		ch(&c)
	}
	return c
}

// submittedAt is what submitCmd yields when decided at now with deadlines d, changed by
// changes.
func submittedAt(now time.Time, d order.Deadlines, changes ...func(*order.Submitted)) order.Submitted {
	s := submitted(func(s *order.Submitted) {
		s.AcceptBy, s.CompleteBy = now.Add(d.Accept).UTC(), now.Add(d.Complete).UTC()
	})
	for _, ch := range changes {
		ch(&s)
	}
	return s
}

var (
	normalDeadlines = order.Deadlines{Accept: 24 * time.Hour, Complete: 72 * time.Hour}
	urgentDeadlines = order.Deadlines{Accept: 30 * time.Minute, Complete: 4 * time.Hour}
	urgentMedicalDL = order.Deadlines{Accept: 15 * time.Minute, Complete: 2 * time.Hour}
)

func TestDecideSubmit(t *testing.T) {
	hundred := strings.Repeat("修", 100)
	runScenarios(t, []scenario{
		{
			name: "resident's request yields Submitted with default mode channel and priority",
			cmd:  submitCmd(), by: resident,
			want: yields(submittedAt(defaultNow, normalDeadlines)),
			then: func(tb testing.TB, s order.State) {
				tb.Helper()
				wantStatus(order.StatusOpen)(tb, s)
				wantEscalation(order.LevelLane)(tb, s)
				wantDeadlines(defaultNow.Add(24*time.Hour), defaultNow.Add(72*time.Hour))(tb, s)
				if s.ID != "o-1" || s.Lane != "lane-1" || s.Community != "comm-1" || s.Street != "street-1" {
					tb.Errorf("order placed as %q in %q/%q/%q", s.ID, s.Lane, s.Community, s.Street)
				}
				if s.Mode != order.ModeInstant || s.Channel != order.ChannelWeb || s.Priority != order.PriorityNormal {
					tb.Errorf("mode, channel, priority = %q, %q, %q; want instant, web, normal", s.Mode, s.Channel, s.Priority)
				}
				if !s.SubmittedAt.Equal(defaultNow) || !s.CycleStart.Equal(defaultNow) || !s.UpdatedAt.Equal(defaultNow) {
					tb.Errorf("submitted %v, cycle %v, updated %v; want all %v", s.SubmittedAt, s.CycleStart, s.UpdatedAt, defaultNow)
				}
				if s.Assignee != "" || s.Declines != 0 || s.Rating != nil || s.Overdue() {
					tb.Errorf("a new order has assignee %q, %d declines, rating %v, overdue %v", s.Assignee, s.Declines, s.Rating, s.OverdueOn)
				}
			},
		},
		{
			name: "operator's urgent hotline request yields Submitted with urgent default deadlines",
			cmd: submitCmd(func(c *order.Submit) {
				c.Channel, c.Mode, c.Priority = order.ChannelHotline, order.ModeThematic, order.PriorityUrgent
			}),
			by: operator,
			want: yields(submittedAt(defaultNow, urgentDeadlines, func(s *order.Submitted) {
				s.Channel, s.Mode, s.Priority = order.ChannelHotline, order.ModeThematic, order.PriorityUrgent
			})),
		},
		{
			name: "lane steward's station request yields Submitted",
			cmd:  submitCmd(func(c *order.Submit) { c.Channel, c.Mode = order.ChannelStation, order.ModePeriodic }),
			by:   laneSteward,
			want: yields(submittedAt(defaultNow, normalDeadlines, func(s *order.Submitted) {
				s.Channel, s.Mode = order.ChannelStation, order.ModePeriodic
			})),
		},
		{
			name: "terminal request from a steward of several lanes yields Submitted",
			cmd:  submitCmd(func(c *order.Submit) { c.Channel = order.ChannelTerminal }),
			by:   coSteward,
			want: yields(submittedAt(defaultNow, normalDeadlines, func(s *order.Submitted) { s.Channel = order.ChannelTerminal })),
		},
		{
			name: "operator's Open311 request yields Submitted on channel open311",
			cmd:  submitCmd(func(c *order.Submit) { c.Channel = order.ChannelOpen311 }),
			by:   operator,
			want: yields(submittedAt(defaultNow, normalDeadlines, func(s *order.Submitted) { s.Channel = order.ChannelOpen311 })),
		},
		{
			name: "urgent medical request yields the category's own deadlines",
			cmd:  submitCmd(func(c *order.Submit) { c.Category, c.Priority = "medical", order.PriorityUrgent }),
			by:   resident,
			want: yields(submittedAt(defaultNow, urgentMedicalDL, func(s *order.Submitted) {
				s.Category, s.Priority = "medical", order.PriorityUrgent
			})),
		},
		{
			name: "normal medical request yields the default normal deadlines",
			cmd:  submitCmd(func(c *order.Submit) { c.Category = "medical" }),
			by:   resident,
			want: yields(submittedAt(defaultNow, normalDeadlines, func(s *order.Submitted) { s.Category = "medical" })),
		},
		{
			name: "category named in Chinese yields Submitted with its code",
			cmd:  submitCmd(func(c *order.Submit) { c.Category = "日常维修" }),
			by:   resident,
			want: yields(submittedAt(defaultNow, normalDeadlines)),
		},
		{
			name: "text with spaces around it yields Submitted with the text trimmed",
			cmd: submitCmd(func(c *order.Submit) {
				c.Title, c.Description = "  厨房水管漏水\n", "\t楼下也在渗水 "
				c.Requester = order.Requester{Name: " 张阿姨 ", Phone: " 13812345678 "}
			}),
			by:   resident,
			want: yields(submittedAt(defaultNow, normalDeadlines)),
		},
		{
			name: "phone with country code dashes and spaces yields Submitted with the number normalised",
			cmd:  submitCmd(func(c *order.Submit) { c.Requester.Phone = "+86 138-1234-5678" }),
			by:   resident,
			want: yields(submittedAt(defaultNow, normalDeadlines, func(s *order.Submitted) { s.Requester.Phone = "13812345678" })),
		},
		{
			name: "landline yields Submitted with its area code apart",
			cmd:  submitCmd(func(c *order.Submit) { c.Requester.Phone = "0576 8888 1234" }),
			by:   operator,
			want: yields(submittedAt(defaultNow, normalDeadlines, func(s *order.Submitted) { s.Requester.Phone = "0576-88881234" })),
		},
		{
			name: "an address yields Submitted with it, trimmed",
			cmd: submitCmd(func(c *order.Submit) {
				c.Requester.Address = order.Address{Building: " 3号楼", Unit: "2单元 ", Door: "201"}
			}),
			by: resident,
			want: yields(submittedAt(defaultNow, normalDeadlines, func(s *order.Submitted) {
				s.Requester.Address = order.Address{Building: "3号楼", Unit: "2单元", Door: "201"}
			})),
		},
		{name: "a door of 21 characters is invalid address.door", cmd: submitCmd(func(c *order.Submit) { c.Requester.Address.Door = strings.Repeat("门", 21) }), by: resident, want: invalid("address.door")},
		{name: "a building over two lines is invalid address.building", cmd: submitCmd(func(c *order.Submit) { c.Requester.Address.Building = "3号楼\n4号楼" }), by: resident, want: invalid("address.building")},
		{name: "a service number (96345) is invalid requester.phone", cmd: submitCmd(func(c *order.Submit) { c.Requester.Phone = "96345" }), by: operator, want: invalid("requester.phone")},
		{name: "five digits (12345) is invalid requester.phone", cmd: submitCmd(func(c *order.Submit) { c.Requester.Phone = "12345" }), by: resident, want: invalid("requester.phone")},
		{
			name: "title of 100 Chinese characters yields Submitted",
			cmd:  submitCmd(func(c *order.Submit) { c.Title = hundred }),
			by:   resident,
			want: yields(submittedAt(defaultNow, normalDeadlines, func(s *order.Submitted) { s.Title = hundred })),
		},
		{
			name: "request with an idempotency digest yields Submitted keeping it",
			cmd:  submitCmd(func(c *order.Submit) { c.Idempotency = "sha256:abc" }),
			by:   resident,
			want: yields(submittedAt(defaultNow, normalDeadlines, func(s *order.Submitted) { s.Idempotency = "sha256:abc" })),
			then: func(tb testing.TB, s order.State) {
				tb.Helper()
				if s.Idempotency != "sha256:abc" {
					tb.Errorf("idempotency = %q", s.Idempotency)
				}
			},
		},
		{
			name: "request decided in Shanghai time yields deadlines in UTC",
			cmd:  submitCmd(), by: resident, now: defaultNow.In(shanghai),
			want: yields(submittedAt(defaultNow, normalDeadlines)),
		},
		{name: "missing title is invalid title", cmd: submitCmd(func(c *order.Submit) { c.Title = "" }), by: resident, want: invalid("title")},
		{name: "blank title is invalid title", cmd: submitCmd(func(c *order.Submit) { c.Title = " \t\n" }), by: resident, want: invalid("title")},
		{name: "title of 101 characters is invalid title", cmd: submitCmd(func(c *order.Submit) { c.Title = hundred + "!" }), by: resident, want: invalid("title")},
		{name: "description of 2001 characters is invalid description", cmd: submitCmd(func(c *order.Submit) { c.Description = strings.Repeat("漏", 2001) }), by: resident, want: invalid("description")},
		{name: "missing requester name is invalid requester.name", cmd: submitCmd(func(c *order.Submit) { c.Requester.Name = "" }), by: resident, want: invalid("requester.name")},
		{name: "blank requester name is invalid requester.name", cmd: submitCmd(func(c *order.Submit) { c.Requester.Name = "　 " }), by: resident, want: invalid("requester.name")},
		{name: "requester name of 51 characters is invalid requester.name", cmd: submitCmd(func(c *order.Submit) { c.Requester.Name = strings.Repeat("张", 51) }), by: resident, want: invalid("requester.name")},
		{name: "missing phone is invalid requester.phone", cmd: submitCmd(func(c *order.Submit) { c.Requester.Phone = "" }), by: resident, want: invalid("requester.phone")},
		{name: "four-digit phone is invalid requester.phone", cmd: submitCmd(func(c *order.Submit) { c.Requester.Phone = "1234" }), by: resident, want: invalid("requester.phone")},
		{name: "phone of 21 digits is invalid requester.phone", cmd: submitCmd(func(c *order.Submit) { c.Requester.Phone = strings.Repeat("1", 21) }), by: resident, want: invalid("requester.phone")},
		{name: "phone with letters is invalid requester.phone", cmd: submitCmd(func(c *order.Submit) { c.Requester.Phone = "138abcd5678" }), by: resident, want: invalid("requester.phone")},
		{name: "phone of separators only is invalid requester.phone", cmd: submitCmd(func(c *order.Submit) { c.Requester.Phone = "+-- -" }), by: resident, want: invalid("requester.phone")},
		{name: "missing category is invalid category", cmd: submitCmd(func(c *order.Submit) { c.Category = "" }), by: resident, want: invalid("category")},
		{name: "unknown category is invalid category", cmd: submitCmd(func(c *order.Submit) { c.Category = "plumbing" }), by: resident, want: invalid("category")},
		{name: "unknown mode is invalid mode", cmd: submitCmd(func(c *order.Submit) { c.Mode = "weekly" }), by: resident, want: invalid("mode")},
		{name: "unknown channel is invalid channel", cmd: submitCmd(func(c *order.Submit) { c.Channel = "fax" }), by: resident, want: invalid("channel")},
		{name: "unknown priority is invalid priority", cmd: submitCmd(func(c *order.Submit) { c.Priority = "high" }), by: resident, want: invalid("priority")},
		{name: "missing lane is invalid lane", cmd: submitCmd(func(c *order.Submit) { c.Lane = order.LaneRef{} }), by: operator, want: invalid("lane")},
		{
			name: "every fault at once is invalid naming every field",
			cmd: order.Submit{Category: "plumbing", Title: " ", Requester: order.Requester{Phone: "x"},
				Mode: "weekly", Channel: "fax", Priority: "high", Description: strings.Repeat("x", 2001)},
			by:   operator,
			want: invalid("lane", "category", "title", "description", "requester.name", "requester.phone", "mode", "channel", "priority"),
		},
		{name: "resubmitting an order is refused conflict", given: history(order.StatusOpen), cmd: submitCmd(), by: resident, want: refused(domain.KindConflict)},
		{name: "resubmitting a cancelled order is refused conflict", given: history(order.StatusCancelled), cmd: submitCmd(), by: operator, want: refused(domain.KindConflict)},
		{name: "steward of another lane is refused forbidden", cmd: submitCmd(), by: otherSteward, want: refused(domain.KindForbidden)},
		{name: "steward taking a request for no lane is refused forbidden", cmd: submitCmd(func(c *order.Submit) { c.Lane = order.LaneRef{} }), by: laneSteward, want: refused(domain.KindForbidden)},
		{name: "member is refused forbidden", cmd: submitCmd(), by: member1, want: refused(domain.KindForbidden)},
		{name: "auditor with a bad request is refused forbidden before validation", cmd: order.Submit{}, by: auditor, want: refused(domain.KindForbidden)},
	})
}

func TestDecideUnknownCommand(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "nil command on an order is refused internal", given: history(order.StatusOpen), cmd: nil, by: laneSteward, want: refused(domain.KindInternal)},
		{name: "nil command on no order is refused not found", cmd: nil, by: laneSteward, want: refused(domain.KindNotFound)},
	})
}
