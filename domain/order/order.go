// Package order is the work order: a resident's request from submission to rating.
//
// Business rules:
//  1. A request is submitted to one lane, in a category of the catalogue; its deadlines
//     to be accepted and completed follow from the category and priority.
//  2. Only a steward of the order's lane dispatches, reassigns, cancels, escalates and
//     reopens it. Dispatching an order that is not open is refused: handing it to someone
//     else is an explicit reassign.
//  3. A member of the lane's community may claim an open order; only the dispatched member
//     accepts or declines it, and only the assigned member completes it.
//  4. The resident (with the receipt), or a steward after a call-back, rates a completed
//     order. Solved and satisfied are separate facts; an unsolved rating reopens it.
//  5. A resident may cancel their own order while it is open.
//  6. Escalation only goes up: lane → community → street. Stewards escalate, and the
//     configured rules do too: by default an order declined twice, or past a deadline,
//     goes up to the community in the same step.
//  7. Notes may be added to any order that is not cancelled, by a steward or the
//     assigned member.
//  8. Each deadline is marked overdue at most once per cycle, by the system.
//
// Anything else is refused, and a refused command yields no event.
package order

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redlane/redlane/domain"
)

// Status is where an order is in its life.
type Status string

// The statuses.
const (
	StatusNone       Status = ""
	StatusOpen       Status = "open"
	StatusDispatched Status = "dispatched"
	StatusAccepted   Status = "accepted"
	StatusCompleted  Status = "completed"
	StatusClosed     Status = "closed"
	StatusCancelled  Status = "cancelled"
)

// Mode is how a service is organised: 即时式, 主题式 or 周期式.
type Mode string

// The modes.
const (
	ModeInstant  Mode = "instant"
	ModeThematic Mode = "thematic"
	ModePeriodic Mode = "periodic"
)

// Channel is where a request came in.
type Channel string

// The channels.
const (
	ChannelStation  Channel = "station"
	ChannelHotline  Channel = "hotline"
	ChannelTerminal Channel = "terminal"
	ChannelWeb      Channel = "web"
	// ChannelOpen311 is any Open311 GeoReport v2 client: a city app, a hotline vendor's
	// tool, FixMyStreet.
	ChannelOpen311 Channel = "open311"
)

// Priority decides which deadlines apply.
type Priority string

// The priorities.
const (
	PriorityNormal Priority = "normal"
	PriorityUrgent Priority = "urgent"
)

// Level is how far up an order has been escalated.
type Level string

// The levels, lowest first.
const (
	LevelLane      Level = "lane"
	LevelCommunity Level = "community"
	LevelStreet    Level = "street"
)

func (l Level) rank() int {
	switch l {
	case LevelCommunity:
		return 1
	case LevelStreet:
		return 2
	default:
		return 0
	}
}

// DeadlineKind names one of an order's two deadlines.
type DeadlineKind string

// The deadlines.
const (
	DeadlineAccept   DeadlineKind = "accept"
	DeadlineComplete DeadlineKind = "complete"
)

// Rating is the resident's judgement of the work.
type Rating struct {
	Solved  bool      `json:"solved"`
	Stars   int       `json:"stars"`
	Comment string    `json:"comment,omitempty"`
	Member  string    `json:"member"`
	At      time.Time `json:"at"`
}

// State is an order as its events have made it.
type State struct {
	ID          string
	Number      string
	Lane        string
	Community   string
	Street      string
	Category    string
	Title       string
	Description string
	Requester   Requester
	Sealed      *Sealed // the requester, when sealed; Requester is then empty
	Mode        Mode
	Channel     Channel
	Priority    Priority
	Idempotency string
	Theme       string
	Schedule    string

	Status     Status
	Assignee   string
	Escalation Level
	Declines   int // declines since the order was last opened
	Rating     *Rating

	SubmittedAt time.Time
	UpdatedAt   time.Time
	CycleStart  time.Time // submission, or the last reopening
	AcceptBy    time.Time
	CompleteBy  time.Time
	AcceptedAt  time.Time
	OverdueOn   []DeadlineKind // deadlines marked overdue in this cycle
}

// Size is about how many bytes the state holds in memory: its text, and a fixed part for
// the rest and for the runner's cache entry around it (what the cache counts).
func (s State) Size() int {
	n := 1100 // measured: an order held costs about 1.6 KB of heap in all
	for _, t := range []string{s.ID, s.Number, s.Lane, s.Community, s.Street, s.Category, s.Title, s.Description,
		s.Requester.Name, s.Requester.Phone, string(s.Mode), string(s.Channel), string(s.Priority), s.Idempotency,
		s.Theme, s.Schedule, string(s.Status), s.Assignee, string(s.Escalation)} {
		n += len(t)
	}
	if s.Sealed != nil {
		n += 80 + len(s.Sealed.Resident) + len(s.Sealed.Nonce) + len(s.Sealed.Box)
	}
	if s.Rating != nil {
		n += 80 + len(s.Rating.Comment) + len(s.Rating.Member)
	}
	for _, d := range s.OverdueOn {
		n += 16 + len(d)
	}
	return n
}

// Overdue reports whether a deadline of the current cycle has been marked overdue.
func (s State) Overdue() bool { return len(s.OverdueOn) > 0 }

// Dispatch and the other command types are what callers ask of an order.
type (
	// Submit places a new request. Lane is the lane as the caller found it; an unknown
	// lane is the caller's to refuse.
	Submit struct {
		Number      string
		Lane        LaneRef
		Category    string
		Title       string
		Description string
		Requester   Requester
		Mode        Mode
		Channel     Channel
		Priority    Priority
		Idempotency string
		Theme       string
		Schedule    string
	}
	// Dispatch hands an open order to a member.
	Dispatch struct{ Member MemberRef }
	// Reassign hands a dispatched or accepted order to another member.
	Reassign struct {
		Member MemberRef
		Reason string
	}
	// Claim takes an open order on for the acting member.
	Claim struct{ Member MemberRef }
	// Accept accepts a dispatch.
	Accept struct{}
	// Decline refuses a dispatch.
	Decline struct{ Reason string }
	// Complete records the work done.
	Complete struct {
		Note    string
		Minutes int
	}
	// Rate records the resident's rating. Solved is a pointer so a missing answer is told
	// from "no".
	Rate struct {
		Solved  *bool
		Stars   int
		Comment string
	}
	// Cancel withdraws the order.
	Cancel struct{ Reason string }
	// Escalate sends the order up.
	Escalate struct {
		Level  Level
		Reason string
	}
	// Reopen opens a completed or closed order again.
	Reopen struct{ Reason string }
	// Note adds a note.
	Note struct {
		Text     string
		Internal bool
	}
	// MarkOverdue records that a deadline passed.
	MarkOverdue struct{ Deadline DeadlineKind }
)

// LaneRef is what an order needs to know of its lane.
type LaneRef struct{ ID, Community, Street string }

// MemberRef is what an order needs to know of a member.
type MemberRef struct {
	ID        string
	Community string
	Active    bool
}

// Command is any of the order's commands.
type Command interface{ isCommand() }

func (Submit) isCommand()      {}
func (Dispatch) isCommand()    {}
func (Reassign) isCommand()    {}
func (Claim) isCommand()       {}
func (Accept) isCommand()      {}
func (Decline) isCommand()     {}
func (Complete) isCommand()    {}
func (Rate) isCommand()        {}
func (Cancel) isCommand()      {}
func (Escalate) isCommand()    {}
func (Reopen) isCommand()      {}
func (Note) isCommand()        {}
func (MarkOverdue) isCommand() {}

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

// Limits on text fields, in characters.
const (
	MaxTitle       = 100
	MaxDescription = 2000
	MaxReason      = 500
	MaxNote        = 2000
	MaxMinutes     = 7 * 24 * 60
)

// Decide decides cmd against s and returns the events it yields, or why it is refused.
func Decide(s State, cmd Command, env Env) ([]domain.Event, error) {
	if _, ok := cmd.(Submit); !ok && s.Status == StatusNone {
		return nil, domain.Refuse(domain.KindNotFound, domain.CodeOrderNotFound, "no such order")
	}
	a := env.Actor
	switch c := cmd.(type) {
	case Submit:
		return decideSubmit(s, c, env)
	case Dispatch:
		if err := stewardOnly(s, a); err != nil {
			return nil, err
		}
		if err := checkMember("member", c.Member); err != nil {
			return nil, err
		}
		if err := inStatus(s, "dispatch", StatusOpen); err != nil {
			return nil, err
		}
		return one(Dispatched{Member: c.Member.ID})
	case Reassign:
		if err := stewardOnly(s, a); err != nil {
			return nil, err
		}
		var v domain.Validator
		checkMemberInto(&v, "member", c.Member)
		c.Reason = checkText(&v, "reason", c.Reason, MaxReason)
		if err := v.Err(); err != nil {
			return nil, err
		}
		if err := inStatus(s, "reassign", StatusDispatched, StatusAccepted); err != nil {
			return nil, err
		}
		if c.Member.ID == s.Assignee {
			return nil, domain.Invalid("member", "the order is already with this member")
		}
		return one(Reassigned{From: s.Assignee, Member: c.Member.ID, Reason: c.Reason})
	case Claim:
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
	case Accept:
		if err := assigneeOnly(s, a); err != nil {
			return nil, err
		}
		if err := inStatus(s, "accept", StatusDispatched); err != nil {
			return nil, err
		}
		return one(Accepted{Member: s.Assignee, OnTime: !env.Now.After(s.AcceptBy)})
	case Decline:
		if err := assigneeOnly(s, a); err != nil {
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
	case Complete:
		if err := assigneeOnly(s, a); err != nil {
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
	case Rate:
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
	case Cancel:
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
	case Escalate:
		if !a.StewardOf(s.Lane) && a.Role != domain.RoleSystem {
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
		return one(Escalated(c))
	case Reopen:
		if err := stewardOnly(s, a); err != nil {
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
	case Note:
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
	case MarkOverdue:
		if a.Role != domain.RoleSystem {
			return nil, domain.Refuse(domain.KindForbidden, domain.CodeSystemOnly, "only the system marks deadlines")
		}
		return decideOverdue(s, c, env)
	}
	return nil, domain.Errorf(domain.KindInternal, "unknown command %T", cmd)
}

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
	c.Title = checkText(&v, "title", c.Title, MaxTitle)
	c.Description = domain.CleanText(&v, "description", c.Description, true)
	v.Check(utf8.RuneCountInString(c.Description) <= MaxDescription, "description", "is too long")
	c.Requester.Name = checkText(&v, "requester.name", c.Requester.Name, 50)
	v.Check(validPhone(c.Requester.Phone), "requester.phone", "must be 5 to 20 digits, optionally with + - or spaces")
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
		Requester: Requester{Name: strings.TrimSpace(c.Requester.Name), Phone: strings.TrimSpace(c.Requester.Phone)},
		Mode:      c.Mode, Channel: c.Channel, Priority: c.Priority,
		AcceptBy: env.Now.Add(d.Accept).UTC(), CompleteBy: env.Now.Add(d.Complete).UTC(),
		Idempotency: c.Idempotency, Theme: strings.TrimSpace(c.Theme), Schedule: c.Schedule,
	})
}

func decideOverdue(s State, c MarkOverdue, env Env) ([]domain.Event, error) {
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

// Evolve applies one stored event to the state. It never fails and accepts facts that
// today's rules would refuse.
func Evolve(s State, ev domain.Event, env domain.Envelope) State {
	s.ID = env.AggregateID
	s.UpdatedAt = env.Time
	switch e := ev.(type) {
	case Submitted:
		s.Number, s.Lane, s.Community, s.Street = e.Number, e.Lane, e.Community, e.Street
		s.Category, s.Title, s.Description, s.Requester = e.Category, e.Title, e.Description, e.Requester
		s.Mode, s.Channel, s.Priority, s.Idempotency = e.Mode, e.Channel, e.Priority, e.Idempotency
		s.Theme, s.Schedule, s.Sealed = e.Theme, e.Schedule, e.Sealed
		s.Status, s.Escalation = StatusOpen, LevelLane
		s.SubmittedAt, s.CycleStart = env.Time, env.Time
		s.AcceptBy, s.CompleteBy = e.AcceptBy, e.CompleteBy
	case Dispatched:
		s.Status, s.Assignee = StatusDispatched, e.Member
	case Reassigned:
		s.Status, s.Assignee, s.AcceptedAt = StatusDispatched, e.Member, time.Time{}
	case Claimed:
		s.Status, s.Assignee, s.AcceptedAt = StatusAccepted, e.Member, env.Time
	case Accepted:
		s.Status, s.AcceptedAt = StatusAccepted, env.Time
	case Declined:
		s.Status, s.Assignee = StatusOpen, ""
		s.Declines++
	case Completed:
		s.Status = StatusCompleted
	case Rated:
		s.Rating = &Rating{Solved: e.Solved, Stars: e.Stars, Comment: e.Comment, Member: e.Member, At: env.Time}
		if e.Solved {
			s.Status = StatusClosed
		} else {
			s = reopen(s, env.Time, e.AcceptBy, e.CompleteBy)
		}
	case Cancelled:
		s.Status = StatusCancelled
	case Escalated:
		s.Escalation = e.Level
	case Reopened:
		s = reopen(s, env.Time, e.AcceptBy, e.CompleteBy)
	case Noted:
		// Notes live in the history; the state keeps none.
	case MarkedOverdue:
		if !slices.Contains(s.OverdueOn, e.Deadline) {
			s.OverdueOn = append(slices.Clip(s.OverdueOn), e.Deadline)
		}
	}
	return s
}

func reopen(s State, at, acceptBy, completeBy time.Time) State {
	s.Status, s.Assignee, s.Declines = StatusOpen, "", 0
	s.CycleStart, s.AcceptBy, s.CompleteBy = at, acceptBy, completeBy
	s.AcceptedAt, s.OverdueOn = time.Time{}, nil
	return s
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

// PhoneKey is a phone number as one resident's: its digits, without China's country
// code (+86, 0086) before a mobile number, so that 13812345678, 138 1234 5678 and
// +86 138-1234-5678 are the same person to the privacy vault.
func PhoneKey(p string) string {
	d := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		if c := p[i]; c >= '0' && c <= '9' {
			d = append(d, c)
		}
	}
	s := string(d)
	switch {
	case len(s) == 15 && strings.HasPrefix(s, "0086") && s[4] == '1':
		return s[4:]
	case len(s) == 13 && strings.HasPrefix(s, "86") && s[2] == '1':
		return s[2:]
	}
	return s
}

func validPhone(p string) bool {
	p = strings.TrimSpace(p)
	digits := 0
	for _, r := range p {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' || r == '-' || r == ' ':
		default:
			return false
		}
	}
	return digits >= 5 && digits <= 20
}

// MaskPhone hides the middle of a phone number: 13812345678 → 138****5678. Shorter
// numbers keep at most their last third (none under six), so no number is shown whole.
func MaskPhone(p string) string {
	r := []rune(p)
	n := len(r)
	if n >= 11 {
		return string(r[:3]) + "****" + string(r[n-4:])
	}
	keep := 0
	if n >= 6 {
		keep = n / 3
	}
	return strings.Repeat("*", n-keep) + string(r[n-keep:])
}

// Aggregate describes the order to the command runner.
var Aggregate = domain.Aggregate[State]{Type: AggregateType, Registry: Events, Evolve: Evolve}
