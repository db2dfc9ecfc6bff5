package order

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redlane/redlane/domain"
)

// Env is what Decide needs besides the state and the command.
type Env struct {
	Actor   domain.Actor
	Now     time.Time
	Catalog Catalog
	Rules   Rules
}

// Rules are the configurable escalation rules (街道兜底): what sends an order up to the
// community without a steward asking.
type Rules struct {
	// EscalateAfterDeclines sends an order to the community when it has been declined
	// this many times since it was last opened; 0 never does.
	EscalateAfterDeclines int
	// EscalateWhenOverdue sends an order to the community when a deadline passes.
	EscalateWhenOverdue bool
}

// DefaultRules are the product's rules: overdue, or declined twice, goes up to the
// community.
var DefaultRules = Rules{EscalateAfterDeclines: 2, EscalateWhenOverdue: true}

// autoEscalate appends the escalation a rule calls for to events, if the order is still
// at lane level.
func autoEscalate(s State, events []domain.Event, reason string) []domain.Event {
	if s.Escalation.rank() >= LevelCommunity.rank() {
		return events
	}
	return append(events, Escalated{Level: LevelCommunity, Reason: reason})
}

// Decide decides cmd against s and returns the events it yields, or why it is refused.
// Each command has its own function, which opens with the rule it enforces; a command
// to an order that was never submitted finds nothing to act on.
func Decide(s State, cmd Command, env Env) ([]domain.Event, error) {
	if _, ok := cmd.(Submit); !ok && s.Status == StatusNone {
		return nil, domain.Refuse(domain.KindNotFound, domain.CodeOrderNotFound, "no such order")
	}
	switch c := cmd.(type) {
	case Submit:
		return decideSubmit(s, c, env)
	case Dispatch:
		return decideDispatch(s, c, env)
	case Reassign:
		return decideReassign(s, c, env)
	case Claim:
		return decideClaim(s, c, env)
	case Accept:
		return decideAccept(s, c, env)
	case Decline:
		return decideDecline(s, c, env)
	case Complete:
		return decideComplete(s, c, env)
	case Rate:
		return decideRate(s, c, env)
	case Cancel:
		return decideCancel(s, c, env)
	case Escalate:
		return decideEscalate(s, c, env)
	case Return:
		return decideReturn(s, c, env)
	case Close:
		return decideClose(s, c, env)
	case Reopen:
		return decideReopen(s, c, env)
	case Note:
		return decideNote(s, c, env)
	case MarkOverdue:
		return decideOverdue(s, c, env)
	}
	return nil, domain.Errorf(domain.KindInternal, "unknown command %T", cmd)
}

// decideSubmit enforces rule 1: a request goes to one lane, in a category of the
// catalogue, which sets its deadlines and the questions it must answer; a resident, an operator or the system submits to
// any lane, a steward only to their own.
func decideSubmit(s State, c Submit, env Env) ([]domain.Event, error) {
	a := env.Actor
	switch {
	case a.Role == domain.RoleResident, a.Role == domain.RoleOperator, a.Role == domain.RoleSystem:
	case a.Role == domain.RoleSteward:
		if !a.StewardOf(c.Lane.ID) {
			return nil, domain.Refuse(domain.KindForbidden, domain.CodeOwnLanesOnly, "a steward may only take requests for their own lanes")
		}
	default:
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeRoleCannotSubmit, "role %s may not submit requests", a.Role)
	}
	if c.Mode == "" {
		c.Mode = ModeInstant
	}
	if c.Priority == "" {
		c.Priority = PriorityNormal
	}
	if c.Channel == "" {
		c.Channel = ChannelWeb
	}
	var v domain.Validator
	v.Check(c.Lane.ID != "", "lane", "is required")
	v.Check(c.Lane.ID == "" || domain.ValidID(c.Lane.ID) && c.Lane.Community != "", "lane", "is not a known lane")
	cat, ok := env.Catalog.Lookup(c.Category)
	v.Check(c.Category == "" || ok, "category", "is not in the catalogue")
	v.Check(c.Category != "", "category", "is required")
	var answers []Answer
	if ok {
		answers = checkAnswers(&v, cat, c.Answers, a.Role != domain.RoleSystem)
	}
	c.Title = checkText(&v, "title", c.Title, MaxTitle)
	c.Description = domain.CleanText(&v, "description", c.Description, true)
	v.Check(utf8.RuneCountInString(c.Description) <= MaxDescription, "description", "is too long")
	c.Requester.Name = checkText(&v, "requester.name", c.Requester.Name, 50)
	addr := c.Requester.Address
	for _, part := range []struct {
		field string
		text  *string
	}{{"address.building", &addr.Building}, {"address.unit", &addr.Unit}, {"address.door", &addr.Door}} {
		*part.text = domain.CleanText(&v, part.field, strings.TrimSpace(*part.text), false)
		v.Check(utf8.RuneCountInString(*part.text) <= MaxAddressPart, part.field, "is too long")
	}
	phone, phoneOK := NormalPhone(c.Requester.Phone)
	v.Check(phoneOK, "requester.phone", "must be a mainland mobile (13812345678) or landline (0576-88881234) number")
	v.Check(slices.Contains([]Mode{ModeInstant, ModeThematic, ModePeriodic}, c.Mode), "mode", "must be instant, thematic or periodic")
	v.Check(slices.Contains([]Channel{ChannelStation, ChannelHotline, ChannelTerminal, ChannelWeb, ChannelOpen311}, c.Channel), "channel", "must be station, hotline, terminal, web or open311")
	v.Check(c.Priority == PriorityNormal || c.Priority == PriorityUrgent, "priority", "must be normal or urgent")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if s.Status != StatusNone {
		return nil, domain.Refuse(domain.KindConflict, domain.CodeOrderExists, "order %s was already submitted", s.ID)
	}
	d := cat.DeadlinesFor(c.Priority)
	return one(Submitted{
		Number: c.Number, Lane: c.Lane.ID, Community: c.Lane.Community, Street: c.Lane.Street,
		Category: cat.Code, Title: strings.TrimSpace(c.Title), Description: strings.TrimSpace(c.Description),
		Requester: Requester{Name: strings.TrimSpace(c.Requester.Name), Phone: phone, Address: Address{
			Building: strings.TrimSpace(addr.Building), Unit: strings.TrimSpace(addr.Unit), Door: strings.TrimSpace(addr.Door)}},
		Mode: c.Mode, Channel: c.Channel, Priority: c.Priority,
		AcceptBy: env.Now.Add(d.Accept).UTC(), CompleteBy: env.Now.Add(d.Complete).UTC(),
		Idempotency: c.Idempotency, Theme: strings.TrimSpace(c.Theme), Schedule: c.Schedule,
		Answers: answers,
	})
}

// decideDispatch enforces rules 2 and 9: only a steward of the lane, or the office the
// order is escalated to, dispatches, to an active member (the office to one of the
// order's community), and only an open order.
func decideDispatch(s State, c Dispatch, env Env) ([]domain.Event, error) {
	if err := stewardOrOffice(s, env.Actor); err != nil {
		return nil, err
	}
	if err := checkMember("member", c.Member); err != nil {
		return nil, err
	}
	if err := officeMember(s, env.Actor, c.Member); err != nil {
		return nil, err
	}
	if err := inStatus(s, "dispatch", StatusOpen); err != nil {
		return nil, err
	}
	return one(Dispatched{Member: c.Member.ID})
}

// decideReassign enforces rules 2 and 9: only a steward of the lane, or the office the
// order is escalated to (within the order's community), hands a dispatched or accepted
// order to another member, and says why.
func decideReassign(s State, c Reassign, env Env) ([]domain.Event, error) {
	if err := stewardOrOffice(s, env.Actor); err != nil {
		return nil, err
	}
	var v domain.Validator
	checkMemberInto(&v, "member", c.Member)
	c.Reason = checkText(&v, "reason", c.Reason, MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := officeMember(s, env.Actor, c.Member); err != nil {
		return nil, err
	}
	if err := inStatus(s, "reassign", StatusDispatched, StatusAccepted); err != nil {
		return nil, err
	}
	if c.Member.ID == s.Assignee {
		return nil, domain.Invalid("member", "the order is already with this member")
	}
	return one(Reassigned{From: s.Assignee, Member: c.Member.ID, Reason: c.Reason})
}

// decideClaim enforces rule 3: an active member of the order's community claims an open
// order for themselves.
func decideClaim(s State, c Claim, env Env) ([]domain.Event, error) {
	a := env.Actor
	if a.Role != domain.RoleMember || a.Member == "" || a.Member != c.Member.ID {
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeMemberOnly, "only a member may claim an order")
	}
	if c.Member.Community != s.Community || !c.Member.Active {
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeCommunityOnly, "only an active member of the community %s may claim this order", s.Community)
	}
	if err := inStatus(s, "claim", StatusOpen); err != nil {
		return nil, err
	}
	return one(Claimed{Member: c.Member.ID, OnTime: !env.Now.After(s.AcceptBy)})
}

// decideAccept enforces rule 3: only the dispatched member accepts, while the order is
// dispatched.
func decideAccept(s State, _ Accept, env Env) ([]domain.Event, error) {
	if err := assigneeOnly(s, env.Actor); err != nil {
		return nil, err
	}
	if err := inStatus(s, "accept", StatusDispatched); err != nil {
		return nil, err
	}
	return one(Accepted{Member: s.Assignee, OnTime: !env.Now.After(s.AcceptBy)})
}

// decideDecline enforces rules 3 and 6: only the dispatched member declines, with a
// reason; declined often enough, the order goes up to the community.
func decideDecline(s State, c Decline, env Env) ([]domain.Event, error) {
	if err := assigneeOnly(s, env.Actor); err != nil {
		return nil, err
	}
	var v domain.Validator
	c.Reason = checkText(&v, "reason", c.Reason, MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := inStatus(s, "decline", StatusDispatched); err != nil {
		return nil, err
	}
	events := []domain.Event{Declined{Member: s.Assignee, Reason: c.Reason}}
	if n := env.Rules.EscalateAfterDeclines; n > 0 && s.Declines+1 >= n {
		events = autoEscalate(s, events, fmt.Sprintf("已被退回%d次，自动上报社区", s.Declines+1))
	}
	return events, nil
}

// decideComplete enforces rule 3: only the assigned member completes an accepted order,
// saying what was done and how long it took.
func decideComplete(s State, c Complete, env Env) ([]domain.Event, error) {
	if err := assigneeOnly(s, env.Actor); err != nil {
		return nil, err
	}
	var v domain.Validator
	c.Note = checkText(&v, "note", c.Note, MaxNote)
	v.Check(c.Minutes >= 1 && c.Minutes <= MaxMinutes, "minutes", "must be between 1 and 10080")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := inStatus(s, "complete", StatusAccepted); err != nil {
		return nil, err
	}
	return one(Completed{Member: s.Assignee, Note: c.Note, Minutes: c.Minutes, OnTime: !env.Now.After(s.CompleteBy)})
}

// decideRate enforces rule 4: the resident, or a steward of the lane, rates a completed
// order; solved and satisfied are separate, and an unsolved rating reopens it.
func decideRate(s State, c Rate, env Env) ([]domain.Event, error) {
	a := env.Actor
	if a.Role != domain.RoleResident && !a.StewardOf(s.Lane) {
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeRateNotAllowed, "only the resident with the receipt, or a steward of lane %s after a call-back, may rate", s.Lane)
	}
	var v domain.Validator
	c.Comment = domain.CleanText(&v, "comment", strings.TrimSpace(c.Comment), true)
	v.Check(c.Solved != nil, "solved", "is required: was the problem solved, true or false")
	v.Check(c.Stars >= 1 && c.Stars <= 5, "stars", "must be a whole number from 1 to 5")
	v.Check(utf8.RuneCountInString(c.Comment) <= MaxNote, "comment", "is too long")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := inStatus(s, "rate", StatusCompleted); err != nil {
		return nil, err
	}
	ev := Rated{Member: s.Assignee, Solved: *c.Solved, Stars: c.Stars, Comment: strings.TrimSpace(c.Comment)}
	if !ev.Solved {
		d := deadlines(s, env)
		ev.AcceptBy, ev.CompleteBy = env.Now.Add(d.Accept).UTC(), env.Now.Add(d.Complete).UTC()
	}
	return one(ev)
}

// decideCancel enforces rules 2 and 5: a steward of the lane cancels an order that is
// not yet completed; the resident only while it is open.
func decideCancel(s State, c Cancel, env Env) ([]domain.Event, error) {
	a := env.Actor
	resident := a.Role == domain.RoleResident
	if !resident && !a.StewardOf(s.Lane) {
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeCancelNotAllowed, "only a steward of lane %s, or the resident while the order is open, may cancel it", s.Lane)
	}
	var v domain.Validator
	c.Reason = checkText(&v, "reason", c.Reason, MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if resident {
		if err := inStatus(s, "cancel", StatusOpen); err != nil {
			return nil, err
		}
	} else if err := inStatus(s, "cancel", StatusOpen, StatusDispatched, StatusAccepted); err != nil {
		return nil, err
	}
	return one(Cancelled(c))
}

// decideEscalate enforces rules 2, 6 and 9: a steward of the lane, the system, or the
// office the order is escalated to, sends an unfinished order up; escalation only goes
// up.
func decideEscalate(s State, c Escalate, env Env) ([]domain.Event, error) {
	a := env.Actor
	switch {
	case a.StewardOf(s.Lane), a.Role == domain.RoleSystem:
	case isOffice(a):
		if err := officeOnly(s, a); err != nil {
			return nil, err
		}
	default:
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeLaneStewardOnly, "only a steward of lane %s may escalate it", s.Lane)
	}
	var v domain.Validator
	v.Check(c.Level == LevelCommunity || c.Level == LevelStreet, "level", `must be "community" or "street"`)
	c.Reason = checkText(&v, "reason", c.Reason, MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := inStatus(s, "escalate", StatusOpen, StatusDispatched, StatusAccepted); err != nil {
		return nil, err
	}
	if c.Level.rank() <= s.Escalation.rank() {
		return nil, domain.Refuse(domain.KindConflict, domain.CodeEscalationNotUp, "the order is already at level %s; escalation only goes up", s.Escalation).
			With("level", string(s.Escalation))
	}
	// One step at a time: the lane (its steward, or the rules) sends it to the community,
	// and only the community office sends it on to the street.
	if c.Level == LevelStreet && !isOffice(a) {
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeOfficeOnly, "a lane escalates to the community; only the community office sends an order on to the street")
	}
	return one(Escalated(c))
}

// decideReturn enforces rules 6 and 9: only the office the order is escalated to sends
// an unfinished order back down, one level, saying why.
func decideReturn(s State, c Return, env Env) ([]domain.Event, error) {
	reason, err := officeEnds(s, "return", c.Reason, env)
	if err != nil {
		return nil, err
	}
	return one(Returned{From: s.Escalation, Level: s.Escalation.Below(), Reason: reason})
}

// decideClose enforces rule 10: only the office the order is escalated to closes an
// unfinished order, saying why; it ends cancelled.
func decideClose(s State, c Close, env Env) ([]domain.Event, error) {
	reason, err := officeEnds(s, "close", c.Reason, env)
	if err != nil {
		return nil, err
	}
	return one(Cancelled{Reason: reason})
}

// officeEnds checks what an office's return and close share: the office the order is
// escalated to acts, with a reason, on an unfinished order. It returns the reason as
// it is kept.
func officeEnds(s State, action, reason string, env Env) (string, error) {
	if err := officeOnly(s, env.Actor); err != nil {
		return "", err
	}
	var v domain.Validator
	reason = checkText(&v, "reason", reason, MaxReason)
	if err := v.Err(); err != nil {
		return "", err
	}
	return reason, inStatus(s, action, StatusOpen, StatusDispatched, StatusAccepted)
}

// decideReopen enforces rule 2: only a steward of the lane reopens a completed or closed
// order, which starts a new cycle with new deadlines.
func decideReopen(s State, c Reopen, env Env) ([]domain.Event, error) {
	if err := stewardOnly(s, env.Actor); err != nil {
		return nil, err
	}
	var v domain.Validator
	c.Reason = checkText(&v, "reason", c.Reason, MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := inStatus(s, "reopen", StatusCompleted, StatusClosed); err != nil {
		return nil, err
	}
	d := deadlines(s, env)
	return one(Reopened{Reason: c.Reason, AcceptBy: env.Now.Add(d.Accept).UTC(), CompleteBy: env.Now.Add(d.Complete).UTC()})
}

// decideNote enforces rule 7: a steward of the lane or the assigned member notes any
// order that is not cancelled.
func decideNote(s State, c Note, env Env) ([]domain.Event, error) {
	a := env.Actor
	if !a.StewardOf(s.Lane) && (a.Role != domain.RoleMember || a.Member == "" || a.Member != s.Assignee) {
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeNoteNotAllowed, "only a steward of lane %s or the assigned member may add notes", s.Lane)
	}
	var v domain.Validator
	c.Text = checkText(&v, "text", c.Text, MaxNote)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if s.Status == StatusCancelled {
		return nil, domain.Refuse(domain.KindConflict, domain.CodeNoteOnCancelled, "cannot note an order that is cancelled")
	}
	return one(Noted{Text: strings.TrimSpace(c.Text), Internal: c.Internal})
}

// decideOverdue enforces rules 8 and 6: only the system marks a deadline overdue, once
// per cycle and only once it has passed; an overdue order goes up to the community.
func decideOverdue(s State, c MarkOverdue, env Env) ([]domain.Event, error) {
	if env.Actor.Role != domain.RoleSystem {
		return nil, domain.Refuse(domain.KindForbidden, domain.CodeSystemOnly, "only the system marks deadlines")
	}
	var due time.Time
	var pending bool
	switch c.Deadline {
	case DeadlineAccept:
		due, pending = s.AcceptBy, s.Status == StatusOpen || s.Status == StatusDispatched
	case DeadlineComplete:
		due, pending = s.CompleteBy, s.Status == StatusOpen || s.Status == StatusDispatched || s.Status == StatusAccepted
	default:
		return nil, domain.Invalid("deadline", "must be accept or complete")
	}
	if !pending || slices.Contains(s.OverdueOn, c.Deadline) || !env.Now.After(due) {
		return nil, nil // nothing to mark: a command that changes nothing emits nothing
	}
	events := []domain.Event{MarkedOverdue{Deadline: c.Deadline, Due: due}}
	if env.Rules.EscalateWhenOverdue {
		events = autoEscalate(s, events, map[DeadlineKind]string{DeadlineAccept: "超时未接单，自动上报社区", DeadlineComplete: "超时未办结，自动上报社区"}[c.Deadline])
	}
	return events, nil
}

func deadlines(s State, env Env) Deadlines {
	if cat, ok := env.Catalog.Lookup(s.Category); ok {
		return cat.DeadlinesFor(s.Priority)
	}
	if s.Priority == PriorityUrgent {
		return DefaultDeadlines.Urgent
	}
	return DefaultDeadlines.Normal
}

func one(ev domain.Event) ([]domain.Event, error) { return []domain.Event{ev}, nil }

func stewardOnly(s State, a domain.Actor) error {
	if !a.StewardOf(s.Lane) {
		return domain.Refuse(domain.KindForbidden, domain.CodeLaneStewardOnly, "only a steward of lane %s may do this", s.Lane)
	}
	return nil
}

// isOffice reports whether a is community or street-office staff.
func isOffice(a domain.Actor) bool {
	return a.Role == domain.RoleCommunity || a.Role == domain.RoleStreet
}

// OfficeOf reports whether a is the office the order in s is escalated to now (rule 9):
// community staff of its community while it is at level community, street staff of its
// street while it is at level street.
func OfficeOf(s State, a domain.Actor) bool {
	switch s.Escalation {
	case LevelCommunity:
		return a.CommunityStaffOf(s.Community)
	case LevelStreet:
		return a.StreetStaffOf(s.Street)
	}
	return false
}

func officeOnly(s State, a domain.Actor) error {
	if !OfficeOf(s, a) {
		return domain.Refuse(domain.KindForbidden, domain.CodeOfficeOnly,
			"only the office the order is escalated to may do this: it is at level %s", s.Escalation).With("level", string(s.Escalation))
	}
	return nil
}

// stewardOrOffice admits a steward of the lane (rule 2) and the office the order is
// with (rule 9); anyone else is told which of the two they are not.
func stewardOrOffice(s State, a domain.Actor) error {
	if isOffice(a) {
		return officeOnly(s, a)
	}
	return stewardOnly(s, a)
}

// officeMember refuses, when the office acts, a member outside the order's community.
func officeMember(s State, a domain.Actor, m MemberRef) error {
	if !isOffice(a) || m.Community == s.Community {
		return nil
	}
	e := domain.Invalid("member", "must be a member of the order's community "+s.Community)
	e.Code = domain.CodeOutsideCommunity
	return e
}

func assigneeOnly(s State, a domain.Actor) error {
	if a.Role != domain.RoleMember || a.Member == "" || a.Member != s.Assignee {
		return domain.Refuse(domain.KindForbidden, domain.CodeAssigneeOnly, "only the member the order is assigned to may do this")
	}
	return nil
}

func inStatus(s State, action string, allowed ...Status) error {
	if !slices.Contains(allowed, s.Status) {
		return domain.Refuse(domain.KindConflict, domain.CodeTransitionRefused, "cannot %s an order that is %s", action, s.Status).
			With("action", action).With("status", string(s.Status))
	}
	return nil
}

func checkMember(field string, m MemberRef) error {
	var v domain.Validator
	checkMemberInto(&v, field, m)
	return v.Err()
}

func checkMemberInto(v *domain.Validator, field string, m MemberRef) {
	v.Check(m.ID != "", field, "is required")
	v.Check(m.ID == "" || m.Active, field, "is not an active member")
}

// checkText checks a required text field and returns it trimmed. Titles and names are
// one line; reasons, notes and texts may run over several.
func checkText(v *domain.Validator, field, text string, max int) string {
	t := domain.CleanText(v, field, strings.TrimSpace(text), field != "title" && field != "requester.name")
	v.Check(t != "", field, "is required and must not be blank")
	v.Check(utf8.RuneCountInString(t) <= max, field, "is too long")
	return t
}
