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
			name: "phone with country code dashes and spaces yields Submitted",
			cmd:  submitCmd(func(c *order.Submit) { c.Requester.Phone = "+86 138-1234-5678" }),
			by:   resident,
			want: yields(submittedAt(defaultNow, normalDeadlines, func(s *order.Submitted) { s.Requester.Phone = "+86 138-1234-5678" })),
		},
		{
			name: "five-digit phone yields Submitted",
			cmd:  submitCmd(func(c *order.Submit) { c.Requester.Phone = "96345" }),
			by:   operator,
			want: yields(submittedAt(defaultNow, normalDeadlines, func(s *order.Submitted) { s.Requester.Phone = "96345" })),
		},
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

func TestDecideRate(t *testing.T) {
	// A completed order with a decline and an overdue mark behind it, so that a reopening
	// visibly starts a fresh cycle.
	eventful := []domain.Event{submitted(), dispatched1, declined1, dispatched1, accepted1,
		order.MarkedOverdue{Deadline: order.DeadlineAccept, Due: t0.Add(24 * time.Hour)}, completed1}
	urgentMed := []domain.Event{submitted(urgentMedical), dispatched1, accepted1, completed1}
	runScenarios(t, []scenario{
		{
			name:  "resident's solved rating yields Rated and closes the order",
			given: history(order.StatusCompleted), cmd: order.Rate{Solved: ptr(true), Stars: 5, Comment: " 很满意 "}, by: resident,
			want: yields(order.Rated{Member: "m-1", Solved: true, Stars: 5, Comment: "很满意"}),
			then: func(tb testing.TB, s order.State) {
				tb.Helper()
				all(wantStatus(order.StatusClosed), wantAssignee("m-1"))(tb, s)
				want := order.Rating{Solved: true, Stars: 5, Comment: "很满意", Member: "m-1", At: defaultNow}
				if s.Rating == nil || *s.Rating != want {
					tb.Errorf("rating = %+v, want %+v", s.Rating, want)
				}
			},
		},
		{
			name:  "solved with one star yields Rated and closes the order",
			given: history(order.StatusCompleted), cmd: order.Rate{Solved: ptr(true), Stars: 1}, by: resident,
			want: yields(order.Rated{Member: "m-1", Solved: true, Stars: 1}),
			then: wantStatus(order.StatusClosed),
		},
		{
			name:  "steward's unsolved rating after a call-back yields Rated with new deadlines and reopens the order",
			given: eventful, cmd: order.Rate{Solved: ptr(false), Stars: 3}, by: laneSteward, now: t0.Add(80 * time.Hour),
			want: yields(order.Rated{Member: "m-1", Solved: false, Stars: 3,
				AcceptBy: t0.Add(104 * time.Hour), CompleteBy: t0.Add(152 * time.Hour)}),
			then: func(tb testing.TB, s order.State) {
				tb.Helper()
				all(wantStatus(order.StatusOpen), wantAssignee(""), wantDeclines(0), wantOverdueOn(),
					wantDeadlines(t0.Add(104*time.Hour), t0.Add(152*time.Hour)))(tb, s)
				if !s.CycleStart.Equal(t0.Add(80*time.Hour)) || !s.AcceptedAt.IsZero() {
					tb.Errorf("cycle start %v, accepted at %v; want %v and zero", s.CycleStart, s.AcceptedAt, t0.Add(80*time.Hour))
				}
				if s.Rating == nil || s.Rating.Solved || s.Rating.Stars != 3 || s.Rating.Member != "m-1" {
					tb.Errorf("rating = %+v, want unsolved 3 stars for m-1", s.Rating)
				}
				if !s.SubmittedAt.Equal(t0) {
					tb.Errorf("submitted at %v moved, want %v", s.SubmittedAt, t0)
				}
			},
		},
		{
			name:  "satisfied but unsolved yields Rated and reopens the order",
			given: history(order.StatusCompleted), cmd: order.Rate{Solved: ptr(false), Stars: 5, Comment: "态度很好但还是漏"}, by: resident,
			want: yields(order.Rated{Member: "m-1", Solved: false, Stars: 5, Comment: "态度很好但还是漏",
				AcceptBy: defaultNow.Add(24 * time.Hour), CompleteBy: defaultNow.Add(72 * time.Hour)}),
			then: all(wantStatus(order.StatusOpen), wantAssignee("")),
		},
		{
			name:  "unsolved urgent medical order yields Rated with the category's urgent deadlines",
			given: urgentMed, cmd: order.Rate{Solved: ptr(false), Stars: 2}, by: resident,
			want: yields(order.Rated{Member: "m-1", Solved: false, Stars: 2,
				AcceptBy: defaultNow.Add(15 * time.Minute), CompleteBy: defaultNow.Add(2 * time.Hour)}),
		},
		{
			name:  "zero stars is invalid stars",
			given: history(order.StatusCompleted), cmd: order.Rate{Solved: ptr(true), Stars: 0}, by: resident, want: invalid("stars"),
		},
		{
			name:  "six stars is invalid stars",
			given: history(order.StatusCompleted), cmd: order.Rate{Solved: ptr(true), Stars: 6}, by: resident, want: invalid("stars"),
		},
		{
			name:  "missing solved is invalid solved",
			given: history(order.StatusCompleted), cmd: order.Rate{Stars: 4}, by: resident, want: invalid("solved"),
		},
		{
			name:  "missing solved and stars is invalid solved and stars",
			given: history(order.StatusCompleted), cmd: order.Rate{}, by: resident, want: invalid("solved", "stars"),
		},
		{
			name:  "comment of 2001 characters is invalid comment",
			given: history(order.StatusCompleted), cmd: order.Rate{Solved: ptr(true), Stars: 4, Comment: strings.Repeat("好", 2001)}, by: resident,
			want: invalid("comment"),
		},
		{
			name:  "rating twice is refused conflict",
			given: history(order.StatusClosed), cmd: order.Rate{Solved: ptr(true), Stars: 5}, by: resident, want: refused(domain.KindConflict),
		},
		{
			name:  "rating unfinished work is refused conflict",
			given: history(order.StatusAccepted), cmd: order.Rate{Solved: ptr(true), Stars: 5}, by: resident, want: refused(domain.KindConflict),
		},
		{
			name:  "assigned member rating their own work is refused forbidden",
			given: history(order.StatusCompleted), cmd: order.Rate{Solved: ptr(true), Stars: 5}, by: member1, want: refused(domain.KindForbidden),
		},
		{
			name:  "steward of another lane is refused forbidden",
			given: history(order.StatusCompleted), cmd: order.Rate{Solved: ptr(true), Stars: 5}, by: otherSteward, want: refused(domain.KindForbidden),
		},
	})
}

func TestDecideCancel(t *testing.T) {
	runScenarios(t, []scenario{
		{
			name:  "resident on an open order yields Cancelled",
			given: history(order.StatusOpen), cmd: order.Cancel{Reason: "已自行解决"}, by: resident,
			want: yields(order.Cancelled{Reason: "已自行解决"}),
			then: wantStatus(order.StatusCancelled),
		},
		{
			name:  "resident on a dispatched order is refused conflict",
			given: history(order.StatusDispatched), cmd: order.Cancel{Reason: "x"}, by: resident, want: refused(domain.KindConflict),
		},
		{
			name:  "resident on an accepted order is refused conflict",
			given: history(order.StatusAccepted), cmd: order.Cancel{Reason: "x"}, by: resident, want: refused(domain.KindConflict),
		},
		{
			name:  "steward on a dispatched order yields Cancelled",
			given: history(order.StatusDispatched), cmd: order.Cancel{Reason: "重复工单"}, by: laneSteward,
			want: yields(order.Cancelled{Reason: "重复工单"}),
			then: wantStatus(order.StatusCancelled),
		},
		{
			name:  "steward on an accepted order yields Cancelled",
			given: history(order.StatusAccepted), cmd: order.Cancel{Reason: "重复工单"}, by: coSteward,
			want: yields(order.Cancelled{Reason: "重复工单"}),
		},
		{
			name:  "steward on a completed order is refused conflict",
			given: history(order.StatusCompleted), cmd: order.Cancel{Reason: "x"}, by: laneSteward, want: refused(domain.KindConflict),
		},
		{
			name:  "cancelling twice is refused conflict",
			given: history(order.StatusCancelled), cmd: order.Cancel{Reason: "x"}, by: laneSteward, want: refused(domain.KindConflict),
		},
		{
			name:  "blank reason is invalid reason",
			given: history(order.StatusOpen), cmd: order.Cancel{Reason: ""}, by: resident, want: invalid("reason"),
		},
		{
			name:  "assigned member is refused forbidden",
			given: history(order.StatusAccepted), cmd: order.Cancel{Reason: "x"}, by: member1, want: refused(domain.KindForbidden),
		},
	})
}

func TestDecideEscalate(t *testing.T) {
	at := func(l order.Level) []domain.Event {
		return append(history(order.StatusDispatched), order.Escalated{Level: l, Reason: "先前升级"})
	}
	runScenarios(t, []scenario{
		{
			name:  "lane to community yields Escalated and keeps the status",
			given: history(order.StatusDispatched), cmd: order.Escalate{Level: order.LevelCommunity, Reason: "需要社区协调"}, by: laneSteward,
			want: yields(order.Escalated{Level: order.LevelCommunity, Reason: "需要社区协调"}),
			then: all(wantStatus(order.StatusDispatched), wantEscalation(order.LevelCommunity), wantAssignee("m-1")),
		},
		{
			name:  "lane straight to street yields Escalated",
			given: history(order.StatusOpen), cmd: order.Escalate{Level: order.LevelStreet, Reason: "街道兜底"}, by: laneSteward,
			want: yields(order.Escalated{Level: order.LevelStreet, Reason: "街道兜底"}),
			then: all(wantStatus(order.StatusOpen), wantEscalation(order.LevelStreet)),
		},
		{
			name:  "community to street yields Escalated",
			given: at(order.LevelCommunity), cmd: order.Escalate{Level: order.LevelStreet, Reason: "街道兜底"}, by: laneSteward,
			want: yields(order.Escalated{Level: order.LevelStreet, Reason: "街道兜底"}),
			then: wantEscalation(order.LevelStreet),
		},
		{
			name:  "accepted order yields Escalated",
			given: history(order.StatusAccepted), cmd: order.Escalate{Level: order.LevelCommunity, Reason: "x"}, by: laneSteward,
			want: yields(order.Escalated{Level: order.LevelCommunity, Reason: "x"}),
			then: wantStatus(order.StatusAccepted),
		},
		{
			name:  "system escalating an order yields Escalated",
			given: history(order.StatusOpen), cmd: order.Escalate{Level: order.LevelCommunity, Reason: "超时未接单"}, by: system,
			want: yields(order.Escalated{Level: order.LevelCommunity, Reason: "超时未接单"}),
		},
		{
			name:  "community to community is refused conflict",
			given: at(order.LevelCommunity), cmd: order.Escalate{Level: order.LevelCommunity, Reason: "x"}, by: laneSteward,
			want: refused(domain.KindConflict),
		},
		{
			name:  "street down to community is refused conflict",
			given: at(order.LevelStreet), cmd: order.Escalate{Level: order.LevelCommunity, Reason: "x"}, by: laneSteward,
			want: refused(domain.KindConflict),
		},
		{
			name:  "street to street is refused conflict",
			given: at(order.LevelStreet), cmd: order.Escalate{Level: order.LevelStreet, Reason: "x"}, by: laneSteward,
			want: refused(domain.KindConflict),
		},
		{
			name:  "down to lane is invalid level",
			given: at(order.LevelCommunity), cmd: order.Escalate{Level: order.LevelLane, Reason: "x"}, by: laneSteward,
			want: invalid("level"),
		},
		{
			name:  "missing level is invalid level",
			given: history(order.StatusOpen), cmd: order.Escalate{Reason: "x"}, by: laneSteward, want: invalid("level"),
		},
		{
			name:  "unknown level is invalid level",
			given: history(order.StatusOpen), cmd: order.Escalate{Level: "district", Reason: "x"}, by: laneSteward, want: invalid("level"),
		},
		{
			name:  "blank reason is invalid reason",
			given: history(order.StatusOpen), cmd: order.Escalate{Level: order.LevelStreet, Reason: " "}, by: laneSteward, want: invalid("reason"),
		},
		{
			name:  "completed order is refused conflict",
			given: history(order.StatusCompleted), cmd: order.Escalate{Level: order.LevelStreet, Reason: "x"}, by: laneSteward,
			want: refused(domain.KindConflict),
		},
		{
			name:  "cancelled order is refused conflict",
			given: history(order.StatusCancelled), cmd: order.Escalate{Level: order.LevelStreet, Reason: "x"}, by: laneSteward,
			want: refused(domain.KindConflict),
		},
		{
			name:  "steward of another lane is refused forbidden",
			given: history(order.StatusOpen), cmd: order.Escalate{Level: order.LevelStreet, Reason: "x"}, by: otherSteward,
			want: refused(domain.KindForbidden),
		},
		{
			name:  "resident is refused forbidden",
			given: history(order.StatusOpen), cmd: order.Escalate{Level: order.LevelStreet, Reason: "x"}, by: resident,
			want: refused(domain.KindForbidden),
		},
	})
}

func TestDecideReopen(t *testing.T) {
	now := t0.Add(100 * time.Hour)
	runScenarios(t, []scenario{
		{
			name:  "completed order yields Reopened with new deadlines and starts a new cycle",
			given: append(history(order.StatusAccepted), order.MarkedOverdue{Deadline: order.DeadlineAccept, Due: t0.Add(24 * time.Hour)}, completed1),
			cmd:   order.Reopen{Reason: "居民来电说又漏了"}, by: laneSteward, now: now,
			want: yields(order.Reopened{Reason: "居民来电说又漏了", AcceptBy: now.Add(24 * time.Hour), CompleteBy: now.Add(72 * time.Hour)}),
			then: func(tb testing.TB, s order.State) {
				tb.Helper()
				all(wantStatus(order.StatusOpen), wantAssignee(""), wantOverdueOn(), wantDeclines(0),
					wantDeadlines(now.Add(24*time.Hour), now.Add(72*time.Hour)))(tb, s)
				if !s.CycleStart.Equal(now) || !s.AcceptedAt.IsZero() {
					tb.Errorf("cycle start %v, accepted at %v; want %v and zero", s.CycleStart, s.AcceptedAt, now)
				}
			},
		},
		{
			name:  "closed order yields Reopened",
			given: history(order.StatusClosed), cmd: order.Reopen{Reason: "回访发现未解决"}, by: coSteward, now: now,
			want: yields(order.Reopened{Reason: "回访发现未解决", AcceptBy: now.Add(24 * time.Hour), CompleteBy: now.Add(72 * time.Hour)}),
			then: wantStatus(order.StatusOpen),
		},
		{
			name:  "urgent medical order yields Reopened with the category's urgent deadlines",
			given: []domain.Event{submitted(urgentMedical), dispatched1, accepted1, completed1},
			cmd:   order.Reopen{Reason: "x"}, by: laneSteward, now: now,
			want: yields(order.Reopened{Reason: "x", AcceptBy: now.Add(15 * time.Minute), CompleteBy: now.Add(2 * time.Hour)}),
		},
		{
			name: "order of a category no longer in the catalogue yields Reopened with the default urgent deadlines",
			given: []domain.Event{submitted(func(s *order.Submitted) { s.Category, s.Priority = "retired-category", order.PriorityUrgent }),
				dispatched1, accepted1, completed1},
			cmd: order.Reopen{Reason: "x"}, by: laneSteward, now: now,
			want: yields(order.Reopened{Reason: "x", AcceptBy: now.Add(30 * time.Minute), CompleteBy: now.Add(4 * time.Hour)}),
		},
		{
			name: "order of a category no longer in the catalogue yields Reopened with the default normal deadlines",
			given: []domain.Event{submitted(func(s *order.Submitted) { s.Category = "retired-category" }),
				dispatched1, accepted1, completed1},
			cmd: order.Reopen{Reason: "x"}, by: laneSteward, now: now,
			want: yields(order.Reopened{Reason: "x", AcceptBy: now.Add(24 * time.Hour), CompleteBy: now.Add(72 * time.Hour)}),
		},
		{
			name:  "open order is refused conflict",
			given: history(order.StatusOpen), cmd: order.Reopen{Reason: "x"}, by: laneSteward, want: refused(domain.KindConflict),
		},
		{
			name:  "cancelled order is refused conflict",
			given: history(order.StatusCancelled), cmd: order.Reopen{Reason: "x"}, by: laneSteward, want: refused(domain.KindConflict),
		},
		{
			name:  "blank reason is invalid reason",
			given: history(order.StatusClosed), cmd: order.Reopen{Reason: "\t"}, by: laneSteward, want: invalid("reason"),
		},
		{
			name:  "resident is refused forbidden",
			given: history(order.StatusClosed), cmd: order.Reopen{Reason: "x"}, by: resident, want: refused(domain.KindForbidden),
		},
	})
}

func TestDecideNote(t *testing.T) {
	runScenarios(t, []scenario{
		{
			name:  "steward's internal note on an open order yields Noted",
			given: history(order.StatusOpen), cmd: order.Note{Text: "居民下午在家", Internal: true}, by: laneSteward,
			want: yields(order.Noted{Text: "居民下午在家", Internal: true}),
			then: wantStatus(order.StatusOpen),
		},
		{
			name:  "assigned member's public note yields Noted with its text trimmed",
			given: history(order.StatusAccepted), cmd: order.Note{Text: "  明早九点上门\n"}, by: member1,
			want: yields(order.Noted{Text: "明早九点上门"}),
			then: all(wantStatus(order.StatusAccepted), wantAssignee("m-1")),
		},
		{
			name:  "assigned member on a closed order yields Noted",
			given: history(order.StatusClosed), cmd: order.Note{Text: "回访完成"}, by: member1,
			want: yields(order.Noted{Text: "回访完成"}),
			then: wantStatus(order.StatusClosed),
		},
		{
			name:  "note of 2000 characters yields Noted",
			given: history(order.StatusOpen), cmd: order.Note{Text: strings.Repeat("记", 2000)}, by: laneSteward,
			want: yields(order.Noted{Text: strings.Repeat("记", 2000)}),
		},
		{
			name:  "empty text is invalid text",
			given: history(order.StatusOpen), cmd: order.Note{Text: ""}, by: laneSteward, want: invalid("text"),
		},
		{
			name:  "blank text is invalid text",
			given: history(order.StatusOpen), cmd: order.Note{Text: " \n\t "}, by: laneSteward, want: invalid("text"),
		},
		{
			name:  "text of 2001 characters is invalid text",
			given: history(order.StatusOpen), cmd: order.Note{Text: strings.Repeat("记", 2001)}, by: laneSteward, want: invalid("text"),
		},
		{
			name:  "cancelled order is refused conflict",
			given: history(order.StatusCancelled), cmd: order.Note{Text: "x"}, by: laneSteward, want: refused(domain.KindConflict),
		},
		{
			name:  "member who declined it is refused forbidden",
			given: append(history(order.StatusDispatched), declined1), cmd: order.Note{Text: "x"}, by: member1, want: refused(domain.KindForbidden),
		},
		{
			name:  "member token bound to no member on an unassigned order is refused forbidden",
			given: history(order.StatusOpen), cmd: order.Note{Text: "x"}, by: unboundMember, want: refused(domain.KindForbidden),
		},
		{
			name:  "resident is refused forbidden",
			given: history(order.StatusOpen), cmd: order.Note{Text: "x"}, by: resident, want: refused(domain.KindForbidden),
		},
	})
}

func TestDecideMarkOverdue(t *testing.T) {
	acceptDue, completeDue := t0.Add(24*time.Hour), t0.Add(72*time.Hour)
	markAccept := order.MarkOverdue{Deadline: order.DeadlineAccept}
	markComplete := order.MarkOverdue{Deadline: order.DeadlineComplete}
	acceptMarked := order.MarkedOverdue{Deadline: order.DeadlineAccept, Due: acceptDue}
	reopened := order.Reopened{Reason: "x", AcceptBy: t0.Add(124 * time.Hour), CompleteBy: t0.Add(172 * time.Hour)}
	runScenarios(t, []scenario{
		{
			name:  "accept deadline passed on an open order yields MarkedOverdue",
			given: history(order.StatusOpen), cmd: markAccept, by: system, now: acceptDue.Add(time.Second),
			want: yields(acceptMarked),
			then: all(wantStatus(order.StatusOpen), wantOverdueOn(order.DeadlineAccept)),
		},
		{
			name:  "accept deadline passed on a dispatched order yields MarkedOverdue",
			given: history(order.StatusDispatched), cmd: markAccept, by: system, now: acceptDue.Add(time.Hour),
			want: yields(acceptMarked),
			then: all(wantStatus(order.StatusDispatched), wantOverdueOn(order.DeadlineAccept)),
		},
		{
			name:  "accept deadline not yet due yields nothing",
			given: history(order.StatusOpen), cmd: markAccept, by: system, now: acceptDue.Add(-time.Second),
			want: nothing(),
		},
		{
			name:  "accept deadline already marked yields nothing",
			given: append(history(order.StatusOpen), acceptMarked), cmd: markAccept, by: system, now: acceptDue.Add(2 * time.Hour),
			want: nothing(),
		},
		{
			name:  "accept deadline of an accepted order yields nothing",
			given: history(order.StatusAccepted), cmd: markAccept, by: system, now: acceptDue.Add(time.Hour),
			want: nothing(),
		},
		{
			name:  "complete deadline passed on an accepted order yields MarkedOverdue",
			given: history(order.StatusAccepted), cmd: markComplete, by: system, now: completeDue.Add(time.Minute),
			want: yields(order.MarkedOverdue{Deadline: order.DeadlineComplete, Due: completeDue}),
			then: all(wantStatus(order.StatusAccepted), wantOverdueOn(order.DeadlineComplete)),
		},
		{
			name:  "complete deadline after the accept deadline was marked yields MarkedOverdue",
			given: append(history(order.StatusOpen), acceptMarked), cmd: markComplete, by: system, now: completeDue.Add(time.Minute),
			want: yields(order.MarkedOverdue{Deadline: order.DeadlineComplete, Due: completeDue}),
			then: wantOverdueOn(order.DeadlineAccept, order.DeadlineComplete),
		},
		{
			name:  "complete deadline not yet due yields nothing",
			given: history(order.StatusAccepted), cmd: markComplete, by: system, now: acceptDue.Add(time.Hour),
			want: nothing(),
		},
		{
			name:  "complete deadline already marked yields nothing",
			given: append(history(order.StatusAccepted), order.MarkedOverdue{Deadline: order.DeadlineComplete, Due: completeDue}),
			cmd:   markComplete, by: system, now: completeDue.Add(time.Hour),
			want: nothing(),
		},
		{
			name:  "complete deadline of a completed order yields nothing",
			given: history(order.StatusCompleted), cmd: markComplete, by: system, now: completeDue.Add(time.Hour), want: nothing(),
		},
		{
			name:  "complete deadline of a closed order yields nothing",
			given: history(order.StatusClosed), cmd: markComplete, by: system, now: completeDue.Add(time.Hour), want: nothing(),
		},
		{
			name:  "complete deadline of a cancelled order yields nothing",
			given: history(order.StatusCancelled), cmd: markComplete, by: system, now: completeDue.Add(time.Hour), want: nothing(),
		},
		{
			name:  "old deadline after a reopening yields nothing",
			given: append(history(order.StatusCompleted), reopened), cmd: markAccept, by: system, now: t0.Add(110 * time.Hour),
			want: nothing(),
		},
		{
			name:  "new deadline passed after a reopening yields MarkedOverdue again",
			given: append(append(history(order.StatusOpen), acceptMarked, dispatched1, accepted1, completed1), reopened),
			cmd:   markAccept, by: system, now: t0.Add(125 * time.Hour),
			want: yields(order.MarkedOverdue{Deadline: order.DeadlineAccept, Due: t0.Add(124 * time.Hour)}),
			then: wantOverdueOn(order.DeadlineAccept),
		},
		{
			name: "new deadline passed after an unsolved rating yields MarkedOverdue again",
			given: append(history(order.StatusOpen), acceptMarked, dispatched1, accepted1, completed1,
				order.Rated{Member: "m-1", Stars: 2, AcceptBy: t0.Add(124 * time.Hour), CompleteBy: t0.Add(172 * time.Hour)}),
			cmd: markAccept, by: system, now: t0.Add(125 * time.Hour),
			want: yields(order.MarkedOverdue{Deadline: order.DeadlineAccept, Due: t0.Add(124 * time.Hour)}),
		},
		{
			name: "urgent order unaccepted after 31 minutes yields MarkedOverdue",
			given: []domain.Event{submitted(func(s *order.Submitted) {
				s.Priority, s.AcceptBy, s.CompleteBy = order.PriorityUrgent, t0.Add(30*time.Minute), t0.Add(4*time.Hour)
			})},
			cmd: markAccept, by: system, now: t0.Add(31 * time.Minute),
			want: yields(order.MarkedOverdue{Deadline: order.DeadlineAccept, Due: t0.Add(30 * time.Minute)}),
		},
		{
			name:  "unknown deadline is invalid deadline",
			given: history(order.StatusOpen), cmd: order.MarkOverdue{Deadline: "rate"}, by: system, now: completeDue.Add(time.Hour),
			want: invalid("deadline"),
		},
		{
			name:  "steward is refused forbidden",
			given: history(order.StatusOpen), cmd: markAccept, by: laneSteward, now: completeDue.Add(time.Hour),
			want: refused(domain.KindForbidden),
		},
	})
}

func TestDecideUnknownCommand(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "nil command on an order is refused internal", given: history(order.StatusOpen), cmd: nil, by: laneSteward, want: refused(domain.KindInternal)},
		{name: "nil command on no order is refused not found", cmd: nil, by: laneSteward, want: refused(domain.KindNotFound)},
	})
}
