package order_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redlane/redlane/domain"
	"github.com/redlane/redlane/domain/order"
)

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
			name:  "lane straight to street is refused forbidden: one step at a time",
			given: history(order.StatusOpen), cmd: order.Escalate{Level: order.LevelStreet, Reason: "街道兜底"}, by: laneSteward,
			want: refused(domain.KindForbidden),
		},
		{
			name:  "community to street by the lane's steward is refused forbidden: the office sends it on",
			given: at(order.LevelCommunity), cmd: order.Escalate{Level: order.LevelStreet, Reason: "街道兜底"}, by: laneSteward,
			want: refused(domain.KindForbidden),
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
